import NIOCore
import NIOHTTP1
import NIOPosix

/// A minimal plain-HTTP/1.1 client for the peers Baton talks to on a local network: the Lambda Runtime
/// API (always `http://` on the function's own host) and the chain demo's two `baton serve` processes.
/// One request per connection, bounded response size. It is not a general client: no TLS, no redirects.
public enum LoopbackHTTPClient {
    public struct Response: Sendable {
        public var status: Int
        public var headers: [(name: String, value: String)]
        public var body: [UInt8]

        public func header(_ name: String) -> String? {
            headers.first { $0.name.lowercased() == name.lowercased() }?.value
        }
    }

    public struct ClientError: Error, CustomStringConvertible {
        public var description: String
    }

    public static let maxResponseBytes = 6 * 1024 * 1024

    public static func send(
        method: String, host: String, port: Int, path: String,
        headers: [(name: String, value: String)] = [], body: [UInt8] = []
    ) async throws -> Response {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(.seconds(5))
            .connect(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(NIOHTTPClientResponseAggregator(maxContentLength: maxResponseBytes))
                    return try NIOAsyncChannel<NIOHTTPClientResponseFull, HTTPClientRequestPart>(wrappingChannelSynchronously: channel)
                }
            }
        return try await channel.executeThenClose { inbound, outbound in
            var head = HTTPRequestHead(version: .http1_1, method: HTTPMethod(rawValue: method), uri: path)
            head.headers.add(name: "Host", value: "\(host):\(port)")
            head.headers.add(name: "Connection", value: "close")
            for (name, value) in headers { head.headers.add(name: name, value: value) }
            if !body.isEmpty || method == "POST" { head.headers.add(name: "Content-Length", value: String(body.count)) }
            var parts: [HTTPClientRequestPart] = [.head(head)]
            if !body.isEmpty { parts.append(.body(.byteBuffer(ByteBuffer(bytes: body)))) }
            parts.append(.end(nil))
            // A server may answer and close before it has read the whole request (we ask for
            // Connection: close; a 413 comes early): a failed write is then not the answer, the response is.
            var writeError: (any Error)?
            do {
                try await outbound.write(contentsOf: parts)
            } catch {
                writeError = error
            }
            for try await full in inbound {
                return Response(
                    status: Int(full.head.status.code),
                    headers: full.head.headers.map { ($0.name, $0.value) },
                    body: full.body.map { Array($0.readableBytesView) } ?? []
                )
            }
            throw writeError ?? ClientError(description: "\(host):\(port) closed the connection without a response")
        }
    }
}

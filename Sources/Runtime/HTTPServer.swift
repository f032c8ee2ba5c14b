import Handlers
import HTTPTypes
import Hummingbird
import Logging
import NIOCore

/// `baton serve`: an HTTP/1.1 server over the shared route table. Bodies are bounded before they reach a
/// handler; SIGTERM and SIGINT shut it down gracefully (in-flight requests finish).
public struct HTTPServer: Sendable {
    public var host: String
    public var port: Int
    public var routes: RouteTable
    public var environment: LiveEnvironment
    public var maxBodyBytes: Int
    /// Benchmark only: answers `POST /_bench/echo` with a fixed JSON, to measure the HTTP floor.
    public var enableBenchEcho: Bool

    public init(host: String, port: Int, routes: RouteTable, environment: LiveEnvironment, maxBodyBytes: Int, enableBenchEcho: Bool = false) {
        self.host = host
        self.port = port
        self.routes = routes
        self.environment = environment
        self.maxBodyBytes = maxBodyBytes
        self.enableBenchEcho = enableBenchEcho
    }

    public func run(onListening: @escaping @Sendable (Int) -> Void = { _ in }) async throws {
        var logger = Logger(label: "baton")
        logger.logLevel = .warning
        let responder = Responder(routes: routes, environment: environment, maxBodyBytes: maxBodyBytes, enableBenchEcho: enableBenchEcho)
        let app = Application(
            responder: responder,
            configuration: .init(address: .hostname(host, port: port), serverName: nil),
            onServerRunning: { channel in onListening(channel.localAddress?.port ?? 0) },
            logger: logger
        )
        try await app.runService()
    }

    struct Responder: HTTPResponder {
        typealias Context = BasicRequestContext
        let routes: RouteTable
        let environment: LiveEnvironment
        let maxBodyBytes: Int
        let enableBenchEcho: Bool

        static let echoBody = ByteBuffer(string: #"{"ok":true}"#)

        func respond(to request: Request, context: Context) async throws -> Response {
            var request = request
            let path = request.uri.path
            let body: ByteBuffer
            do {
                body = try await request.collectBody(upTo: maxBodyBytes)
            } catch {
                return Self.translate(OAuthError.invalidRequest("the request body is larger than \(maxBodyBytes) bytes").response, status: 413)
            }
            if enableBenchEcho, path == "/_bench/echo" {
                return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: Self.echoBody))
            }
            var headers: [(name: String, value: String)] = []
            headers.reserveCapacity(request.headers.count)
            for field in request.headers { headers.append((field.name.canonicalName, field.value)) }
            let endpointRequest = EndpointRequest(
                method: request.method.rawValue, path: path, headers: headers, body: Array(body.readableBytesView)
            )
            return Self.translate(await routes.respond(to: endpointRequest, in: environment.make()))
        }

        static let pragma = HTTPField.Name("Pragma")!

        /// The names handlers use, without parsing and validating them again on every response.
        static func knownName(_ name: String) -> HTTPField.Name? {
            switch name {
            case "Content-Type": .contentType
            case "Cache-Control": .cacheControl
            case "Pragma": pragma
            case "WWW-Authenticate": .wwwAuthenticate
            case "Allow": .allow
            default: nil
            }
        }

        static func translate(_ response: EndpointResponse, status: Int? = nil) -> Response {
            var fields = HTTPFields()
            fields.reserveCapacity(response.headers.count)
            for (name, value) in response.headers {
                if let fieldName = knownName(name) ?? HTTPField.Name(name) { fields.append(HTTPField(name: fieldName, value: value)) }
            }
            return Response(
                status: .init(code: status ?? response.status), headers: fields,
                body: .init(byteBuffer: ByteBuffer(bytes: response.body))
            )
        }
    }
}

import CRuntimeSupport
import NIOPosix
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

extension HTTPServer {
    /// Prepares the process for `baton serve` before any task starts: one event loop per CPU the process
    /// may run on, and Swift concurrency's global executor on those loops, so a request is read, handled
    /// and answered on one thread instead of hopping to the concurrency pool and back (measured on one
    /// pinned core: about 30% more ES256 grants per second). Call once, from the main thread.
    @discardableResult
    public static func runTasksOnEventLoops() -> Bool {
        // NIO sizes its loops by online CPUs and cgroup quota, not by affinity (`taskset`, cpusets).
        if getenv("NIO_SINGLETON_GROUP_LOOP_COUNT") == nil, let allowed = allowedCPUCount(), allowed < System.coreCount {
            setenv("NIO_SINGLETON_GROUP_LOOP_COUNT", String(allowed), 0)
        }
        return baton_install_global_enqueue_hook { job, _ in
            guard let job else { return }
            // `any()` prefers the loop the caller is on: a task resuming there stays on its thread.
            MultiThreadedEventLoopGroup.singleton.any().executor.enqueue(ExecutorJob(unsafeBitCast(job, to: UnownedJob.self)))
        } == 1
    }

    private static func allowedCPUCount() -> Int? {
        let count = Int(baton_allowed_cpu_count())
        return count > 0 ? count : nil
    }
}

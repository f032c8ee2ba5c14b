import Handlers
import JOSE

/// The AWS Lambda Runtime API loop (custom runtime, `provided.al2023`): initialise once per cold start,
/// then fetch the next invocation, hand its event to a handler, post what the handler returned, repeat.
///
/// The loop moves bytes and maps failures to the Runtime API's error calls; it knows nothing of OAuth.
/// What runs an event is the `Handler` the `initialize` closure returns (for Baton:
/// `LambdaRuntimeLoop.eventHandler(routes:environment:)`, the same route table every adapter uses).
///
/// - `initialize` throws: `POST /runtime/init/error`, then `run` throws `InitializationFailed` (the
///   process should exit non-zero; Lambda reports the error to the first invocation).
/// - the handler throws `InvocationError` (a malformed event): `POST /runtime/invocation/{id}/error`,
///   and the loop goes on with the next invocation.
/// - the Runtime API is unreachable or answers `next` with anything but 200: `run` throws
///   `RuntimeAPIError`; the environment is broken and the process should exit.
public struct LambdaRuntimeLoop: Sendable {
    public static let apiVersion = "2018-06-01"
    public static let apiVariable = "AWS_LAMBDA_RUNTIME_API"

    /// Error types posted to the Runtime API (also sent as `Lambda-Runtime-Function-Error-Type`).
    public enum ErrorType {
        /// Configuration or keys failed to load at cold start.
        public static let initialization = "Runtime.ConfigInvalid"
        /// The event is not a payload 2.0 event Baton can read.
        public static let invalidEvent = "Function.InvalidEvent"
    }

    /// `host:port` of the Runtime API, as `AWS_LAMBDA_RUNTIME_API` gives it.
    public struct Endpoint: Sendable, Equatable, CustomStringConvertible {
        public var host: String
        public var port: Int

        public init(host: String, port: Int) {
            self.host = host
            self.port = port
        }

        /// Parses `127.0.0.1:9001`, `localhost:9001` or `[::1]:9001`.
        public init(parsing text: String) throws(RuntimeAPIError) {
            guard let colon = text.lastIndex(of: ":"), colon != text.startIndex,
                  let port = Int(text[text.index(after: colon)...]), (1...65535).contains(port)
            else {
                throw RuntimeAPIError(description: "\(LambdaRuntimeLoop.apiVariable): expected host:port, got \"\(text)\"")
            }
            var host = String(text[..<colon])
            if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
            guard !host.isEmpty else {
                throw RuntimeAPIError(description: "\(LambdaRuntimeLoop.apiVariable): expected host:port, got \"\(text)\"")
            }
            self.host = host
            self.port = port
        }

        public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
    }

    /// One invocation as `GET /runtime/invocation/next` delivered it.
    public struct Invocation: Sendable {
        public var requestID: String
        /// `Lambda-Runtime-Deadline-Ms`: when Lambda stops the invocation, Unix time in milliseconds.
        public var deadlineMilliseconds: Int64?
        public var invokedFunctionARN: String?
        public var traceID: String?
        public var event: [UInt8]
    }

    /// A failure of one invocation, posted as `{"errorMessage": ..., "errorType": ...}`.
    public struct InvocationError: Error, Sendable, CustomStringConvertible {
        public var type: String
        public var message: String

        public init(type: String, message: String) {
            self.type = type
            self.message = message
        }

        public var description: String { "\(type): \(message)" }
    }

    /// The Runtime API itself failed: unreachable, or an answer the loop cannot go on from.
    public struct RuntimeAPIError: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    /// Initialisation failed and was reported with `POST /runtime/init/error`.
    public struct InitializationFailed: Error, Sendable, CustomStringConvertible {
        public var message: String
        /// False when the init error could not be posted either (the Runtime API was unreachable).
        public var reported: Bool
        public var description: String { message }
    }

    /// Event bytes in, response bytes out.
    public typealias Handler = @Sendable (Invocation) async throws(InvocationError) -> [UInt8]

    public let endpoint: Endpoint
    /// Diagnostics (one line each); Lambda sends standard error to CloudWatch Logs.
    public let log: @Sendable (String) -> Void

    public init(endpoint: Endpoint, log: @escaping @Sendable (String) -> Void = { _ in }) {
        self.endpoint = endpoint
        self.log = log
    }

    /// Initialises, then serves invocations until `maxInvocations` have been answered (nil: forever).
    /// Returns the number of invocations handled.
    @discardableResult
    public func run(
        maxInvocations: Int? = nil,
        initialize: () async throws -> Handler
    ) async throws -> Int {
        let handler: Handler
        do {
            handler = try await initialize()
        } catch {
            let message = (error as? any CustomStringConvertible)?.description ?? "\(error)"
            let reported = await reportInitError(message)
            throw InitializationFailed(message: message, reported: reported)
        }
        var handled = 0
        while maxInvocations.map({ handled < $0 }) ?? true {
            let invocation = try await next()
            do {
                let response = try await handler(invocation)
                try await post(path: "invocation/\(invocation.requestID)/response", body: response, errorType: nil)
            } catch let error as InvocationError {
                log("invocation \(invocation.requestID) failed: \(error.message)")
                try await post(
                    path: "invocation/\(invocation.requestID)/error",
                    body: Self.errorDocument(type: error.type, message: error.message), errorType: error.type
                )
            }
            handled += 1
        }
        return handled
    }

    /// The handler every Baton adapter runs: a payload 2.0 event through `InvokeAdapter` and the route
    /// table. An event that cannot be read is an invocation error; everything else is an HTTP response
    /// (OAuth errors included), because the handler decided it.
    public static func eventHandler(
        routes: RouteTable, environment: @escaping @Sendable () -> HandlerEnvironment
    ) -> Handler {
        { invocation throws(InvocationError) in
            do {
                return try await InvokeAdapter.invoke(eventBytes: invocation.event, routes: routes, environment: environment())
            } catch {
                throw InvocationError(type: ErrorType.invalidEvent, message: "invalid event: \(error)")
            }
        }
    }

    // MARK: - Runtime API calls

    /// `GET /runtime/invocation/next`. No timeout: the call blocks until Lambda has an event, and the
    /// process may be frozen in between.
    func next() async throws(RuntimeAPIError) -> Invocation {
        let response: LoopbackHTTPClient.Response
        do {
            response = try await LoopbackHTTPClient.send(
                method: "GET", host: endpoint.host, port: endpoint.port, path: Self.path("invocation/next")
            )
        } catch {
            throw RuntimeAPIError(description: "GET invocation/next from \(endpoint): \(error)")
        }
        guard response.status == 200 else {
            throw RuntimeAPIError(description: "GET invocation/next from \(endpoint) answered \(response.status)")
        }
        guard let requestID = response.header("Lambda-Runtime-Aws-Request-Id"), Self.isValidRequestID(requestID) else {
            throw RuntimeAPIError(description: "GET invocation/next from \(endpoint): no usable Lambda-Runtime-Aws-Request-Id")
        }
        return Invocation(
            requestID: requestID,
            deadlineMilliseconds: response.header("Lambda-Runtime-Deadline-Ms").flatMap { Int64($0) },
            invokedFunctionARN: response.header("Lambda-Runtime-Invoked-Function-Arn"),
            traceID: response.header("Lambda-Runtime-Trace-Id"),
            event: response.body
        )
    }

    /// Posts a response or an error. 202 is success. 4xx (a response too large, an unknown or finished
    /// request id) concerns this invocation only and is logged; anything else means the environment is
    /// broken, and the loop stops.
    func post(path: String, body: [UInt8], errorType: String?) async throws(RuntimeAPIError) {
        var headers: [(name: String, value: String)] = [("Content-Type", "application/json")]
        if let errorType { headers.append(("Lambda-Runtime-Function-Error-Type", errorType)) }
        let response: LoopbackHTTPClient.Response
        do {
            response = try await LoopbackHTTPClient.send(
                method: "POST", host: endpoint.host, port: endpoint.port, path: Self.path(path), headers: headers, body: body
            )
        } catch {
            throw RuntimeAPIError(description: "POST \(path) to \(endpoint): \(error)")
        }
        switch response.status {
        case 200..<300:
            return
        case 400..<500:
            log("POST \(path) answered \(response.status): \(String(decoding: response.body.prefix(512), as: UTF8.self))")
        default:
            throw RuntimeAPIError(description: "POST \(path) to \(endpoint) answered \(response.status)")
        }
    }

    /// `POST /runtime/init/error`; true when the Runtime API accepted it.
    func reportInitError(_ message: String) async -> Bool {
        log("initialization failed: \(message)")
        do {
            try await post(
                path: "init/error", body: Self.errorDocument(type: ErrorType.initialization, message: message),
                errorType: ErrorType.initialization
            )
            return true
        } catch {
            log("could not report the initialization error: \(error)")
            return false
        }
    }

    static func path(_ resource: String) -> String { "/\(apiVersion)/runtime/\(resource)" }

    /// The error document the Runtime API takes for init and invocation errors.
    public static func errorDocument(type: String, message: String) -> [UInt8] {
        var writer = JSONWriter(capacity: message.utf8.count + 96)
        writer.beginObject()
        writer.member("errorMessage", message)
        writer.member("errorType", type)
        writer.key("stackTrace")
        writer.beginArray()
        writer.endArray()
        writer.endObject()
        return writer.bytes
    }

    /// Request ids go into a path: letters, digits and `-` only (Lambda's are UUIDs).
    static func isValidRequestID(_ id: String) -> Bool {
        !id.isEmpty && id.utf8.count <= 128 && id.utf8.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A) || byte == 0x2D
        }
    }
}

import Foundation
import Handlers
import KeyLoader
import NIOCore
import NIOHTTP1
import NIOPosix
import Runtime
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The Lambda Runtime API adapter, end to end against a Runtime API written for these tests on
/// 127.0.0.1: in process (the loop with a bounded number of invocations) and as a process
/// (`baton lambda`, and the same binary started as `bootstrap`).
@Suite("Lambda Runtime API", .timeLimit(.minutes(2)))
struct LambdaRuntimeTests {
    // MARK: - The loop in process

    @Test("endpoint parsing: host:port, [v6]:port; anything else is refused")
    func endpointParsing() throws {
        #expect(try LambdaRuntimeLoop.Endpoint(parsing: "127.0.0.1:9001") == .init(host: "127.0.0.1", port: 9001))
        #expect(try LambdaRuntimeLoop.Endpoint(parsing: "localhost:80") == .init(host: "localhost", port: 80))
        #expect(try LambdaRuntimeLoop.Endpoint(parsing: "[::1]:9001") == .init(host: "::1", port: 9001))
        #expect(LambdaRuntimeLoop.Endpoint(host: "::1", port: 9001).description == "[::1]:9001")
        for bad in ["", "127.0.0.1", ":9001", "host:", "host:0", "host:70000", "host:x"] {
            #expect(throws: LambdaRuntimeLoop.RuntimeAPIError.self, "\(bad)") { try LambdaRuntimeLoop.Endpoint(parsing: bad) }
        }
    }

    @Test("the loop passes each invocation to the handler and posts what it returns; it knows no OAuth")
    func loopWithPlainHandler() async throws {
        let api = try await FakeRuntimeAPI.start()
        defer { api.stop() }
        api.enqueue(requestID: "req-1", event: Array(#"{"n":1}"#.utf8), deadline: "1795813200123", arn: "arn:aws:lambda:eu-west-1:123456789012:function:baton-token", trace: "Root=1-abc")
        api.enqueue(requestID: "req-2", event: Array(#"{"n":2}"#.utf8))
        let seen = LockedBox<[LambdaRuntimeLoop.Invocation]>([])
        let handled = try await LambdaRuntimeLoop(endpoint: api.endpoint).run(maxInvocations: 2) {
            { invocation throws(LambdaRuntimeLoop.InvocationError) in
                seen.mutate { $0.append(invocation) }
                return Array("echo:".utf8) + invocation.event
            }
        }
        #expect(handled == 2)
        let invocations = seen.value
        try #require(invocations.count == 2)
        #expect(invocations[0].requestID == "req-1")
        #expect(invocations[0].deadlineMilliseconds == 1_795_813_200_123)
        #expect(invocations[0].invokedFunctionARN == "arn:aws:lambda:eu-west-1:123456789012:function:baton-token")
        #expect(invocations[0].traceID == "Root=1-abc")
        #expect(invocations[1].deadlineMilliseconds == nil)
        let posts = api.posts
        #expect(posts.map(\.path) == [
            "/2018-06-01/runtime/invocation/req-1/response", "/2018-06-01/runtime/invocation/req-2/response",
        ])
        #expect(posts.map(\.text) == [#"echo:{"n":1}"#, #"echo:{"n":2}"#])
        #expect(api.nextCount == 2)
    }

    @Test("Baton's handler: jwks, token and discovery answered as payload 2.0; a malformed event is an invocation error and the loop goes on")
    func loopWithBatonHandler() async throws {
        let api = try await FakeRuntimeAPI.start()
        defer { api.stop() }
        api.enqueue(requestID: "a-1", event: try LambdaFixtures.read("events/token-client-credentials.json"))
        api.enqueue(requestID: "a-2", event: Array("this is not JSON".utf8))
        api.enqueue(requestID: "a-3", event: Array(#"{"version":"1.0","httpMethod":"GET","path":"/jwks"}"#.utf8))
        api.enqueue(requestID: "a-4", event: try LambdaFixtures.read("events/jwks.json"))
        api.enqueue(requestID: "a-5", event: try LambdaFixtures.read("events/openid-configuration.json"))
        let initialized = LockedBox(0)
        let handled = try await LambdaRuntimeLoop(endpoint: api.endpoint).run(maxInvocations: 5) {
            initialized.mutate { $0 += 1 }
            let domain = try DomainLoader.load(configPath: LambdaFixtures.path("examples/domain-a.json"), environment: [:])
            let live = LiveEnvironment(replayStore: MemoryReplayStore())
            return LambdaRuntimeLoop.eventHandler(routes: RouteTable(domain: domain), environment: { live.make() })
        }
        #expect(handled == 5)
        #expect(initialized.value == 1, "configuration and keys load once per cold start")
        let posts = api.posts
        try #require(posts.count == 5)
        #expect(posts.map(\.path) == [
            "/2018-06-01/runtime/invocation/a-1/response", "/2018-06-01/runtime/invocation/a-2/error",
            "/2018-06-01/runtime/invocation/a-3/error", "/2018-06-01/runtime/invocation/a-4/response",
            "/2018-06-01/runtime/invocation/a-5/response",
        ])

        let token = try LambdaFixtures.responseEvent(posts[0].body)
        #expect(token.statusCode == 200)
        #expect(try token.bodyObject()["token_type"] as? String == "Bearer")
        #expect(try token.bodyObject()["access_token"] as? String != nil)
        #expect(posts[0].header("Lambda-Runtime-Function-Error-Type") == nil)

        for post in posts[1...2] {
            #expect(post.header("Lambda-Runtime-Function-Error-Type") == LambdaRuntimeLoop.ErrorType.invalidEvent)
            let error = try LambdaFixtures.object(post.body)
            #expect(error["errorType"] as? String == LambdaRuntimeLoop.ErrorType.invalidEvent)
            #expect((error["errorMessage"] as? String)?.hasPrefix("invalid event: ") == true)
        }
        #expect((try LambdaFixtures.object(posts[1].body)["errorMessage"] as? String)?.contains("not valid JSON") == true)
        #expect((try LambdaFixtures.object(posts[2].body)["errorMessage"] as? String)?.contains("payload format 2.0") == true)

        let jwks = try LambdaFixtures.responseEvent(posts[3].body)
        #expect(jwks.statusCode == 200)
        #expect((try jwks.bodyObject()["keys"] as? [Any])?.isEmpty == false)
        let discovery = try LambdaFixtures.responseEvent(posts[4].body)
        #expect(discovery.statusCode == 200)
        #expect(try discovery.bodyObject()["issuer"] as? String == "https://a.baton.example")
    }

    @Test("an OAuth error is a response, not an invocation error")
    func oauthErrorIsAResponse() async throws {
        let api = try await FakeRuntimeAPI.start()
        defer { api.stop() }
        api.enqueue(requestID: "b-1", event: try LambdaFixtures.read("events/token-client-credentials-bad-secret.json"))
        try await LambdaRuntimeLoop(endpoint: api.endpoint).run(maxInvocations: 1) {
            let domain = try DomainLoader.load(configPath: LambdaFixtures.path("examples/domain-a.json"), environment: [:])
            let live = LiveEnvironment(replayStore: MemoryReplayStore())
            return LambdaRuntimeLoop.eventHandler(routes: RouteTable(domain: domain), environment: { live.make() })
        }
        let posts = api.posts
        try #require(posts.count == 1)
        #expect(posts[0].path == "/2018-06-01/runtime/invocation/b-1/response")
        let response = try LambdaFixtures.responseEvent(posts[0].body)
        #expect(response.statusCode == 401)
        #expect(try response.bodyObject()["error"] as? String == "invalid_client")
    }

    @Test("an initialisation failure is posted to init/error and no invocation is fetched")
    func initFailure() async throws {
        let api = try await FakeRuntimeAPI.start()
        defer { api.stop() }
        api.enqueue(requestID: "never", event: Array("{}".utf8))
        let logged = LockedBox<[String]>([])
        let loop = LambdaRuntimeLoop(endpoint: api.endpoint, log: { line in logged.mutate { $0.append(line) } })
        do {
            try await loop.run(maxInvocations: 1) {
                _ = try DomainLoader.load(configPath: "/nonexistent/baton.json", environment: [:])
                return { _ throws(LambdaRuntimeLoop.InvocationError) in [] }
            }
            Issue.record("run returned after a failed initialisation")
        } catch let failure as LambdaRuntimeLoop.InitializationFailed {
            #expect(failure.reported)
            #expect(failure.message.contains("cannot read the configuration file /nonexistent/baton.json"))
        }
        let posts = api.posts
        try #require(posts.count == 1)
        #expect(posts[0].path == "/2018-06-01/runtime/init/error")
        #expect(posts[0].header("Lambda-Runtime-Function-Error-Type") == LambdaRuntimeLoop.ErrorType.initialization)
        let error = try LambdaFixtures.object(posts[0].body)
        #expect(error["errorType"] as? String == LambdaRuntimeLoop.ErrorType.initialization)
        #expect((error["errorMessage"] as? String)?.contains("cannot read the configuration file") == true)
        #expect(error["stackTrace"] as? [Any] != nil)
        #expect(api.nextCount == 0)
        #expect(logged.value.contains { $0.hasPrefix("initialization failed: ") })
    }

    @Test("init failure with the Runtime API gone: still an InitializationFailed, marked unreported")
    func initFailureUnreachable() async throws {
        let endpoint = LambdaRuntimeLoop.Endpoint(host: "127.0.0.1", port: try LambdaFixtures.closedPort())
        do {
            try await LambdaRuntimeLoop(endpoint: endpoint).run {
                throw LambdaTestFailure("boom")
            }
            Issue.record("run returned after a failed initialisation")
        } catch let failure as LambdaRuntimeLoop.InitializationFailed {
            #expect(!failure.reported)
            #expect(failure.message == "boom")
        }
    }

    @Test("a Runtime API that answers next with 500 stops the loop")
    func nextFailureStops() async throws {
        let api = try await FakeRuntimeAPI.start()
        defer { api.stop() }
        api.failNext(status: 500)
        await #expect(throws: LambdaRuntimeLoop.RuntimeAPIError.self) {
            try await LambdaRuntimeLoop(endpoint: api.endpoint).run(maxInvocations: 3) {
                { _ throws(LambdaRuntimeLoop.InvocationError) in [] }
            }
        }
        #expect(api.posts.isEmpty)
    }

    @Test("a next without a usable request id stops the loop")
    func missingRequestID() async throws {
        let api = try await FakeRuntimeAPI.start()
        defer { api.stop() }
        api.enqueue(requestID: "../../init/error", event: Array("{}".utf8))
        await #expect(throws: LambdaRuntimeLoop.RuntimeAPIError.self) {
            try await LambdaRuntimeLoop(endpoint: api.endpoint).run(maxInvocations: 1) {
                { _ throws(LambdaRuntimeLoop.InvocationError) in [] }
            }
        }
        #expect(api.posts.isEmpty)
    }

    @Test("a response the Runtime API refuses (413) is logged and the loop goes on")
    func refusedResponseContinues() async throws {
        let api = try await FakeRuntimeAPI.start()
        defer { api.stop() }
        api.enqueue(requestID: "c-1", event: Array("{}".utf8))
        api.enqueue(requestID: "c-2", event: Array("{}".utf8))
        api.refuseResponses(for: "c-1", status: 413)
        let logged = LockedBox<[String]>([])
        let handled = try await LambdaRuntimeLoop(endpoint: api.endpoint, log: { line in logged.mutate { $0.append(line) } })
            .run(maxInvocations: 2) { { _ throws(LambdaRuntimeLoop.InvocationError) in Array("{}".utf8) } }
        #expect(handled == 2)
        #expect(api.posts.map(\.path).last == "/2018-06-01/runtime/invocation/c-2/response")
        #expect(logged.value.contains { $0.contains("answered 413") })
    }

    // MARK: - `baton lambda` as a process

    @Test("baton lambda: token, malformed event and jwks over the Runtime API; config loads once")
    func processLoop() async throws {
        let api = try await FakeRuntimeAPI.start()
        defer { api.stop() }
        api.enqueue(requestID: "p-1", event: try LambdaFixtures.read("events/token-client-credentials.json"))
        api.enqueue(requestID: "p-2", event: Array(#"{"version":"2.0","rawPath":"/token"}"#.utf8))
        api.enqueue(requestID: "p-3", event: try LambdaFixtures.read("events/jwks.json"))
        let child = try LambdaChild(
            executable: LambdaFixtures.batonBinary, arguments: ["lambda", "--config", "examples/domain-a.json"],
            environment: ["AWS_LAMBDA_RUNTIME_API": api.endpoint.description]
        )
        defer { child.stop() }
        let posts = try await api.waitForPosts(3, orExitOf: child)
        #expect(posts.map(\.path) == [
            "/2018-06-01/runtime/invocation/p-1/response", "/2018-06-01/runtime/invocation/p-2/error",
            "/2018-06-01/runtime/invocation/p-3/response",
        ])
        #expect(try LambdaFixtures.responseEvent(posts[0].body).statusCode == 200)
        #expect(posts[1].header("Lambda-Runtime-Function-Error-Type") == LambdaRuntimeLoop.ErrorType.invalidEvent)
        #expect((try LambdaFixtures.object(posts[1].body)["errorMessage"] as? String)?.contains("requestContext.http.method") == true)
        #expect(try LambdaFixtures.responseEvent(posts[2].body).statusCode == 200)
        // The loop is waiting on the next invocation, as in a frozen execution environment.
        let deadline = ContinuousClock.now + .seconds(10)
        while api.nextCount < 4, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        #expect(api.nextCount == 4)
        #expect(child.isRunning)
        #expect(!api.paths.contains("/2018-06-01/runtime/init/error"))
        let stderr = child.stderr()
        #expect(stderr.contains("invocation p-2 failed: invalid event"))
        // Start-up (configuration, keys, replay store) ran once for the three invocations.
        #expect(stderr.components(separatedBy: "warning: replay store memory:").count == 2, "\(stderr)")
    }

    @Test("baton lambda with a bad configuration: init/error posted, exit status 1")
    func processInitError() async throws {
        let api = try await FakeRuntimeAPI.start()
        defer { api.stop() }
        api.enqueue(requestID: "never", event: try LambdaFixtures.read("events/jwks.json"))
        let directory = try LambdaFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let config = directory + "/bad.json"
        // A misspelt field in an otherwise deployable configuration.
        let text = String(decoding: try LambdaFixtures.read("deploy/config/domain-a.json"), as: UTF8.self)
        try #require(text.contains(#""default_scopes""#))
        try Data(text.replacingOccurrences(of: #""default_scopes""#, with: #""default_scope""#).utf8).write(to: URL(fileURLWithPath: config))
        let child = try LambdaChild(
            executable: LambdaFixtures.batonBinary, arguments: ["lambda"],
            environment: [
                "AWS_LAMBDA_RUNTIME_API": api.endpoint.description, "BATON_CONFIG": config,
                "BATON_SIGNING_KEYS_FILE": LambdaFixtures.path("examples/keys/domain-a.DEV-ONLY.jwks.json"),
            ]
        )
        defer { child.stop() }
        #expect(await child.waitForExit(timeout: .seconds(30)))
        #expect(child.exitStatus == 1)
        let posts = api.posts
        try #require(posts.count == 1)
        #expect(posts[0].path == "/2018-06-01/runtime/init/error")
        #expect(posts[0].header("Lambda-Runtime-Function-Error-Type") == LambdaRuntimeLoop.ErrorType.initialization)
        let error = try LambdaFixtures.object(posts[0].body)
        #expect(error["errorType"] as? String == LambdaRuntimeLoop.ErrorType.initialization)
        #expect((error["errorMessage"] as? String)?.contains(#"clients[0].default_scope: unknown field"#) == true)
        #expect(api.nextCount == 0)
        #expect(child.stderr().contains("baton: initialization failed:"))
    }

    @Test("baton lambda with keys that do not load: init/error, exit 1, no key material in the message")
    func processKeyError() async throws {
        let api = try await FakeRuntimeAPI.start()
        defer { api.stop() }
        let child = try LambdaChild(
            executable: LambdaFixtures.batonBinary, arguments: ["lambda", "--config", "examples/domain-a.json"],
            environment: ["AWS_LAMBDA_RUNTIME_API": api.endpoint.description, "BATON_SIGNING_KEYS": "not-a-key-SECRETVALUE"]
        )
        defer { child.stop() }
        #expect(await child.waitForExit(timeout: .seconds(30)))
        #expect(child.exitStatus == 1)
        let posts = api.posts
        try #require(posts.count == 1)
        #expect(posts[0].path == "/2018-06-01/runtime/init/error")
        #expect(posts[0].text.contains("BATON_SIGNING_KEYS"))
        #expect(!posts[0].text.contains("SECRETVALUE"))
    }

    @Test("the binary started as bootstrap without arguments is baton lambda; BATON_FUNCTION restricts it")
    func bootstrapName() async throws {
        let api = try await FakeRuntimeAPI.start()
        defer { api.stop() }
        api.enqueue(requestID: "j-1", event: try LambdaFixtures.read("events/jwks.json"))
        api.enqueue(requestID: "j-2", event: try LambdaFixtures.read("events/token-client-credentials.json"))
        let directory = try LambdaFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let bootstrap = directory + "/bootstrap"
        try FileManager.default.createSymbolicLink(atPath: bootstrap, withDestinationPath: LambdaFixtures.batonBinary)
        let child = try LambdaChild(
            executable: bootstrap, arguments: [],
            environment: [
                "AWS_LAMBDA_RUNTIME_API": api.endpoint.description, "BATON_CONFIG": LambdaFixtures.path("examples/domain-a.json"),
                "BATON_FUNCTION": "jwks",
            ]
        )
        defer { child.stop() }
        let posts = try await api.waitForPosts(2, orExitOf: child)
        #expect(posts.map(\.path) == ["/2018-06-01/runtime/invocation/j-1/response", "/2018-06-01/runtime/invocation/j-2/response"])
        #expect(try LambdaFixtures.responseEvent(posts[0].body).statusCode == 200)
        #expect(try LambdaFixtures.responseEvent(posts[1].body).statusCode == 404, "the jwks function does not serve /token")
    }

    @Test("baton lambda outside Lambda: a clear error, exit 1")
    func processWithoutRuntimeAPI() async throws {
        let child = try LambdaChild(
            executable: LambdaFixtures.batonBinary, arguments: ["lambda", "--config", "examples/domain-a.json"], environment: [:]
        )
        defer { child.stop() }
        #expect(await child.waitForExit(timeout: .seconds(30)))
        #expect(child.exitStatus == 1)
        #expect(child.stderr().contains("AWS_LAMBDA_RUNTIME_API is not set"))
    }
}

// MARK: - A Runtime API on loopback

/// Just enough of the Lambda Runtime API (2018-06-01): `next` hands out queued events (and holds the
/// request open when there are none, as Lambda does between invocations); response, error and init
/// error posts are recorded and answered 202.
private final class FakeRuntimeAPI: @unchecked Sendable {
    struct Queued {
        var requestID: String
        var event: [UInt8]
        var headers: [(String, String)]
    }

    struct Post: Sendable {
        var path: String
        var headers: [(name: String, value: String)]
        var body: [UInt8]

        var text: String { String(decoding: body, as: UTF8.self) }
        func header(_ name: String) -> String? { headers.first { $0.name.lowercased() == name.lowercased() }?.value }
    }

    struct Reply {
        var status: Int
        var headers: [(String, String)]
        var body: [UInt8]
    }

    private let lock = NSLock()
    private var queue: [Queued] = []
    private var recorded: [Post] = []
    private var nextRequests = 0
    private var nextFailure: Int?
    private var refused: [String: Int] = [:]
    private var allPaths: [String] = []
    private let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    private var channel: (any Channel)?
    private(set) var endpoint = LambdaRuntimeLoop.Endpoint(host: "127.0.0.1", port: 0)

    static func start() async throws -> FakeRuntimeAPI {
        let api = FakeRuntimeAPI()
        let channel = try await ServerBootstrap(group: api.group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(FakeRuntimeAPIHandler(api: api))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        api.channel = channel
        api.endpoint = .init(host: "127.0.0.1", port: channel.localAddress?.port ?? 0)
        return api
    }

    func stop() {
        try? group.syncShutdownGracefully()
    }

    func enqueue(requestID: String, event: [UInt8], deadline: String? = nil, arn: String? = nil, trace: String? = nil) {
        var headers: [(String, String)] = [("Lambda-Runtime-Aws-Request-Id", requestID)]
        headers.append(("Lambda-Runtime-Deadline-Ms", deadline ?? ""))
        if let arn { headers.append(("Lambda-Runtime-Invoked-Function-Arn", arn)) }
        if let trace { headers.append(("Lambda-Runtime-Trace-Id", trace)) }
        locked { $0.queue.append(Queued(requestID: requestID, event: event, headers: headers)) }
    }

    func failNext(status: Int) { locked { $0.nextFailure = status } }
    func refuseResponses(for requestID: String, status: Int) { locked { $0.refused[requestID] = status } }

    var posts: [Post] { locked { $0.recorded } }
    var nextCount: Int { locked { $0.nextRequests } }
    var paths: [String] { locked { $0.allPaths } }

    /// Waits until `count` posts arrived; fails early if the child exits first.
    func waitForPosts(_ count: Int, orExitOf child: LambdaChild, timeout: Duration = .seconds(60)) async throws -> [Post] {
        let deadline = ContinuousClock.now + timeout
        while true {
            let posts = self.posts
            if posts.count >= count { return posts }
            if !child.isRunning {
                throw LambdaTestFailure("baton exited (\(child.exitStatus)) after \(posts.count) posts: \(child.stderr())")
            }
            if ContinuousClock.now >= deadline {
                throw LambdaTestFailure("only \(posts.count) of \(count) posts within \(timeout): \(child.stderr())")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    private func locked<T>(_ body: (FakeRuntimeAPI) -> T) -> T {
        lock.lock()
        defer { lock.unlock() }
        return body(self)
    }

    /// nil: hold the request open (no event yet).
    func handle(method: String, path: String, headers: [(name: String, value: String)], body: [UInt8]) -> Reply? {
        let accepted = Reply(status: 202, headers: [("Content-Type", "application/json")], body: Array(#"{"status":"OK"}"#.utf8))
        return locked { api -> Reply? in
            api.allPaths.append(path)
            let prefix = "/2018-06-01/runtime/"
            guard path.hasPrefix(prefix) else { return Reply(status: 404, headers: [], body: []) }
            let resource = String(path.dropFirst(prefix.count))
            if method == "GET", resource == "invocation/next" {
                api.nextRequests += 1
                if let status = api.nextFailure { return Reply(status: status, headers: [], body: Array(#"{"errorMessage":"container error"}"#.utf8)) }
                guard !api.queue.isEmpty else { return nil }
                let next = api.queue.removeFirst()
                return Reply(status: 200, headers: next.headers + [("Content-Type", "application/json")], body: next.event)
            }
            guard method == "POST" else { return Reply(status: 405, headers: [], body: []) }
            let parts = resource.split(separator: "/").map(String.init)
            let known = resource == "init/error"
                || (parts.count == 3 && parts[0] == "invocation" && (parts[2] == "response" || parts[2] == "error"))
            guard known else { return Reply(status: 404, headers: [], body: []) }
            if parts.count == 3, let status = api.refused[parts[1]] {
                return Reply(status: status, headers: [], body: Array(#"{"errorMessage":"payload too large"}"#.utf8))
            }
            api.recorded.append(Post(path: path, headers: headers, body: body))
            return accepted
        }
    }
}

private final class FakeRuntimeAPIHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    let api: FakeRuntimeAPI
    var head: HTTPRequestHead?
    var body: [UInt8] = []

    init(api: FakeRuntimeAPI) { self.api = api }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            body = []
        case .body(let buffer):
            body.append(contentsOf: buffer.readableBytesView)
        case .end:
            guard let head else { return }
            let headers = head.headers.map { (name: $0.name, value: $0.value) }
            guard let reply = api.handle(method: head.method.rawValue, path: head.uri, headers: headers, body: body) else { return }
            var responseHeaders = HTTPHeaders(reply.headers)
            responseHeaders.replaceOrAdd(name: "Content-Length", value: String(reply.body.count))
            let responseHead = HTTPResponseHead(version: head.version, status: .init(statusCode: reply.status), headers: responseHeaders)
            context.write(wrapOutboundOut(.head(responseHead)), promise: nil)
            if !reply.body.isEmpty { context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(bytes: reply.body)))), promise: nil) }
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        }
    }
}

// MARK: - Helpers private to these tests

private struct LambdaTestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

private final class LockedBox<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Value

    init(_ value: Value) { stored = value }

    var value: Value {
        lock.lock()
        defer { lock.unlock() }
        return stored
    }

    func mutate(_ body: (inout Value) -> Void) {
        lock.lock()
        defer { lock.unlock() }
        body(&stored)
    }
}

private enum LambdaFixtures {
    /// `<root>/Tests/RuntimeTests/LambdaRuntimeTests.swift` -> `<root>`.
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static var batonBinary: String { path(".build/debug/baton") }

    static func path(_ relative: String) -> String { root.appendingPathComponent(relative).path }

    static func read(_ relative: String) throws -> [UInt8] { Array(try Data(contentsOf: URL(fileURLWithPath: path(relative)))) }

    static func object(_ bytes: [UInt8]) throws -> [String: Any] {
        guard let object = try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any] else {
            throw LambdaTestFailure("not a JSON object: \(String(decoding: bytes, as: UTF8.self))")
        }
        return object
    }

    struct ResponseEvent {
        var statusCode: Int
        var body: String

        func bodyObject() throws -> [String: Any] { try LambdaFixtures.object(Array(body.utf8)) }
    }

    /// A payload 2.0 response as the loop posted it.
    static func responseEvent(_ bytes: [UInt8]) throws -> ResponseEvent {
        let object = try self.object(bytes)
        guard let status = object["statusCode"] as? Int, let body = object["body"] as? String, object["headers"] is [String: String],
              object["isBase64Encoded"] as? Bool == false
        else { throw LambdaTestFailure("not a payload 2.0 response: \(String(decoding: bytes, as: UTF8.self))") }
        return ResponseEvent(statusCode: status, body: body)
    }

    static func temporaryDirectory() throws -> String {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("baton-lambda-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url.path
    }

    /// A loopback port nothing listens on (bound, then released).
    static func closedPort() throws -> Int {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        defer { try? group.syncShutdownGracefully() }
        let channel = try ServerBootstrap(group: group).bind(host: "127.0.0.1", port: 0).wait()
        let port = channel.localAddress?.port ?? 1
        try channel.close().wait()
        return port
    }
}

/// `baton` as a child process in the package root; output goes to files, not pipes. Variables that
/// change what Baton loads are not inherited from the developer's shell.
private final class LambdaChild: @unchecked Sendable {
    let process = Process()
    let directory: String

    init(executable: String, arguments: [String], environment: [String: String]) throws {
        directory = try LambdaFixtures.temporaryDirectory()
        FileManager.default.createFile(atPath: directory + "/stdout", contents: nil)
        FileManager.default.createFile(atPath: directory + "/stderr", contents: nil)
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.currentDirectoryURL = LambdaFixtures.root
        var merged = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("BATON_") && !$0.key.hasPrefix("AWS_") && $0.key != "PORT" }
        for (name, value) in environment { merged[name] = value }
        process.environment = merged
        process.standardInput = FileHandle(forReadingAtPath: "/dev/null")
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: directory + "/stdout"))
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: directory + "/stderr"))
        try process.run()
    }

    deinit { stop() }

    var isRunning: Bool { process.isRunning }
    var exitStatus: Int32 { process.isRunning ? -1 : process.terminationStatus }

    func stderr() -> String {
        String(decoding: (try? Data(contentsOf: URL(fileURLWithPath: directory + "/stderr"))) ?? Data(), as: UTF8.self)
    }

    func waitForExit(timeout: Duration) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning {
            if ContinuousClock.now >= deadline { return false }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return true
    }

    /// SIGKILL if still running, reap, remove the output files.
    func stop() {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(atPath: directory)
    }
}

import Foundation
import Handlers
import JWTKit
import KeyLoader
import Runtime
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// MARK: - Locations

/// Paths inside the package, found from this file's location so the tests run from any directory.
enum Package {
    /// `<root>/Tests/RuntimeTests/Support.swift` -> `<root>`.
    static let root: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The binary `swift build` (and so `swift test`) leaves behind.
    static var baton: String { root.appendingPathComponent(".build/debug/baton").path }

    static func event(_ name: String) -> String { root.appendingPathComponent("events/\(name)").path }
    static func example(_ name: String) -> String { root.appendingPathComponent("examples/\(name)").path }

    static func read(_ path: String) throws -> [UInt8] { Array(try Data(contentsOf: URL(fileURLWithPath: path))) }

    /// Every `*.json` event under `events/`, sorted.
    static func eventFiles() -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent("events").path)) ?? []
        return names.filter { $0.hasSuffix(".json") }.sorted()
    }

    /// A configuration from `examples/`, loaded as start-up loads it (keys from its `signing_keys_file`).
    static func domain(_ name: String) throws -> Domain {
        try DomainLoader.load(configPath: example(name), environment: [:])
    }

    static let issuerA = "https://a.baton.example"
    static let issuerB = "https://b.baton.example"
    static let secretA = "dev-only-secret-agent-app-at-a-0123456789"
    static let secretB = "dev-only-secret-agent-app-at-b-0123456789"
    static let idpKey = "examples/keys/idp.DEV-ONLY.private.pem"
}

// MARK: - Temporary directories

/// A fresh directory under the system temporary directory; `remove()` deletes it (call it in `defer`).
final class TempDir: Sendable {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("baton-runtime-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    var path: String { url.path }

    @discardableResult
    func write(_ name: String, _ text: String) throws -> String {
        let file = url.appendingPathComponent(name)
        try Data(text.utf8).write(to: file)
        return file.path
    }

    func remove() { try? FileManager.default.removeItem(at: url) }
}

// MARK: - Child processes

/// What a finished command left behind.
struct CommandResult: Sendable {
    var status: Int32
    /// False when the process died of a signal (or was killed for overrunning its time limit).
    var exitedNormally: Bool
    var timedOut: Bool
    var stdout: [UInt8]
    var stderr: String

    var stdoutText: String { String(decoding: stdout, as: UTF8.self) }
    /// Non-empty lines of standard error.
    var stderrLines: [String] { stderr.split(separator: "\n", omittingEmptySubsequences: true).map(String.init) }
    var succeeded: Bool { exitedNormally && status == 0 && !timedOut }
}

/// Variables the tests control; inheriting them from the developer's shell would change what Baton loads.
private let controlledVariables: Set<String> = [
    "BATON_CONFIG", "BATON_SIGNING_KEYS", "BATON_SIGNING_KEYS_FILE", "BATON_FUNCTION", "BATON_REPLAY_STORE", "PORT",
    "BATON_DEMO_SECRET_A", "BATON_DEMO_SECRET_B",
]

/// A child process whose standard streams go to files in a private temporary directory (no pipes, so no
/// deadlock on full buffers and no EOF races between concurrently spawned children).
final class Child: @unchecked Sendable {
    let process = Process()
    let directory: TempDir
    let stdoutURL: URL
    let stderrURL: URL

    init(executable: String, arguments: [String], environment: [String: String] = [:], stdin: [UInt8]? = nil) throws {
        directory = try TempDir()
        stdoutURL = directory.url.appendingPathComponent("stdout")
        stderrURL = directory.url.appendingPathComponent("stderr")
        _ = FileManager.default.createFile(atPath: stdoutURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: stderrURL.path, contents: nil)
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.currentDirectoryURL = Package.root
        var merged = ProcessInfo.processInfo.environment.filter { !controlledVariables.contains($0.key) }
        for (name, value) in environment { merged[name] = value }
        process.environment = merged
        process.standardOutput = try FileHandle(forWritingTo: stdoutURL)
        process.standardError = try FileHandle(forWritingTo: stderrURL)
        if let stdin {
            let input = directory.url.appendingPathComponent("stdin")
            try Data(stdin).write(to: input)
            process.standardInput = try FileHandle(forReadingFrom: input)
        } else {
            process.standardInput = FileHandle(forReadingAtPath: "/dev/null")
        }
        try process.run()
    }

    /// A child is never left running once nothing refers to it.
    deinit { forceStop() }

    var pid: Int32 { process.processIdentifier }
    var isRunning: Bool { process.isRunning }

    func stdout() -> [UInt8] { (try? Package.read(stdoutURL.path)) ?? [] }
    func stderr() -> String { String(decoding: (try? Package.read(stderrURL.path)) ?? [], as: UTF8.self) }

    /// Waits (without blocking a thread) until the process exits; false if `timeout` passed first.
    func waitForExit(timeout: Duration) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning {
            if ContinuousClock.now >= deadline { return false }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return true
    }

    func signal(_ signal: Int32) {
        if process.isRunning { kill(process.processIdentifier, signal) }
    }

    /// Synchronous last resort for `defer`: SIGKILL if still running, reap, delete the stream files.
    func forceStop() {
        killNow()
        directory.remove()
    }

    /// SIGKILL if still running, and reap; the stream files stay readable.
    func killNow() {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    func result(timedOut: Bool) -> CommandResult {
        let normal = !timedOut && process.terminationReason == .exit
        return CommandResult(
            status: timedOut ? -1 : process.terminationStatus, exitedNormally: normal, timedOut: timedOut,
            stdout: stdout(), stderr: stderr()
        )
    }
}

/// Runs `baton ARGUMENTS` in the package root with extra environment variables and optional stdin.
func baton(
    _ arguments: [String], environment: [String: String] = [:], stdin: [UInt8]? = nil, timeout: Duration = .seconds(30)
) async throws -> CommandResult {
    try await run(Package.baton, arguments, environment: environment, stdin: stdin, timeout: timeout)
}

func baton(_ arguments: String..., environment: [String: String] = [:], stdin: [UInt8]? = nil) async throws -> CommandResult {
    try await baton(arguments, environment: environment, stdin: stdin)
}

func run(
    _ executable: String, _ arguments: [String], environment: [String: String] = [:], stdin: [UInt8]? = nil,
    timeout: Duration = .seconds(30)
) async throws -> CommandResult {
    let child = try Child(executable: executable, arguments: arguments, environment: environment, stdin: stdin)
    defer { child.forceStop() }
    let exited = await child.waitForExit(timeout: timeout)
    if !exited { child.killNow() }
    return child.result(timedOut: !exited)
}

/// `baton invoke --config CONFIG EVENT` parsed as a payload 2.0 response.
func invoke(config: String, event: String, environment: [String: String] = [:], stdin: [UInt8]? = nil) async throws -> InvokeResponse {
    let result = try await baton(["invoke", "--config", config, event], environment: environment, stdin: stdin)
    guard result.succeeded else {
        throw TestFailure("baton invoke \(event) failed (\(result.status)): \(result.stderr)")
    }
    return try InvokeResponse(result.stdout)
}

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

// MARK: - Servers

/// `baton serve` on 127.0.0.1 with port 0, started and waited for until it prints its port.
final class Server: Sendable {
    let child: Child
    let port: Int

    private init(child: Child, port: Int) {
        self.child = child
        self.port = port
    }

    static func start(
        config: String, environment: [String: String] = [:], extraArguments: [String] = [], timeout: Duration = .seconds(20)
    ) async throws -> Server {
        let child = try Child(
            executable: Package.baton,
            arguments: ["serve", "--config", config, "--host", "127.0.0.1", "--port", "0"] + extraArguments,
            environment: environment
        )
        let deadline = ContinuousClock.now + timeout
        while true {
            if let port = parsePort(child.stderr()) { return Server(child: child, port: port) }
            if !child.isRunning {
                let text = child.stderr()
                child.forceStop()
                throw TestFailure("baton serve exited before listening: \(text)")
            }
            if ContinuousClock.now >= deadline {
                child.forceStop()
                throw TestFailure("baton serve did not print its port within \(timeout)")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// The port from "baton: listening on 127.0.0.1:PORT for ISSUER".
    static func parsePort(_ stderr: String) -> Int? {
        let marker = "listening on 127.0.0.1:"
        for line in stderr.split(separator: "\n") {
            guard let range = line.range(of: marker) else { continue }
            let digits = line[range.upperBound...].prefix { $0.isNumber }
            if let port = Int(digits), port > 0 { return port }
        }
        return nil
    }

    var baseURL: String { "http://127.0.0.1:\(port)" }

    /// SIGTERM, then waits for the exit; returns false if the process was still running at `timeout`.
    func terminate(timeout: Duration = .seconds(5)) async -> Bool {
        child.signal(SIGTERM)
        return await child.waitForExit(timeout: timeout)
    }

    /// For `defer`: whatever state the test left the server in, it is gone afterwards.
    func stop() { child.forceStop() }

    func get(_ path: String, headers: [(name: String, value: String)] = []) async throws -> LoopbackHTTPClient.Response {
        try await httpSend(method: "GET", host: "127.0.0.1", port: port, path: path, headers: headers)
    }

    func post(_ path: String, headers: [(name: String, value: String)] = [], body: [UInt8]) async throws -> LoopbackHTTPClient.Response {
        try await httpSend(method: "POST", host: "127.0.0.1", port: port, path: path, headers: headers, body: body)
    }

    /// A form POST to /token with client_secret_basic.
    func token(client: String, secret: String, form: [(String, String)]) async throws -> LoopbackHTTPClient.Response {
        try await post(
            "/token",
            headers: [("Content-Type", "application/x-www-form-urlencoded"), ("Authorization", basicAuthorization(client, secret))],
            body: Array(formEncode(form).utf8)
        )
    }
}

/// Runs `baton serve ARGUMENTS` where start-up must fail. A server that gets as far as listening is stopped
/// at once (instead of waiting out a timeout) and reported through `listened`.
func serveExpectingFailure(
    _ arguments: [String], environment: [String: String] = [:], timeout: Duration = .seconds(10)
) async throws -> (result: CommandResult, listened: Bool) {
    let child = try Child(executable: Package.baton, arguments: ["serve"] + arguments, environment: environment)
    defer { child.forceStop() }
    let deadline = ContinuousClock.now + timeout
    while child.isRunning {
        if Server.parsePort(child.stderr()) != nil || child.stderr().contains("listening on") {
            child.killNow()
            return (child.result(timedOut: true), true)
        }
        if ContinuousClock.now >= deadline {
            child.killNow()
            return (child.result(timedOut: true), false)
        }
        try await Task.sleep(for: .milliseconds(20))
    }
    return (child.result(timedOut: false), false)
}

// MARK: - HTTP and JSON helpers

/// `LoopbackHTTPClient.send` with a deadline: it has a connect timeout but none for the response, and a
/// test must fail rather than hang.
func httpSend(
    method: String, host: String, port: Int, path: String, headers: [(name: String, value: String)] = [], body: [UInt8] = [],
    timeout: Duration = .seconds(15)
) async throws -> LoopbackHTTPClient.Response {
    try await withThrowingTaskGroup(of: LoopbackHTTPClient.Response?.self) { group in
        group.addTask {
            try await LoopbackHTTPClient.send(method: method, host: host, port: port, path: path, headers: headers, body: body)
        }
        group.addTask {
            try await Task.sleep(for: timeout)
            return nil
        }
        defer { group.cancelAll() }
        guard let first = try await group.next(), let response = first else {
            throw TestFailure("\(method) \(path) at \(host):\(port): no response within \(timeout)")
        }
        return response
    }
}

/// RFC 6749 2.3.1: client id and secret are form-encoded before the Basic encoding.
func basicAuthorization(_ client: String, _ secret: String) -> String {
    "Basic " + Data("\(formComponent(client)):\(formComponent(secret))".utf8).base64EncodedString()
}

func formComponent(_ text: String) -> String {
    var allowed = CharacterSet.alphanumerics
    allowed.insert(charactersIn: "-._*")
    return text.addingPercentEncoding(withAllowedCharacters: allowed)!.replacingOccurrences(of: "%20", with: "+")
}

func formEncode(_ form: [(String, String)]) -> String {
    form.map { "\(formComponent($0.0))=\(formComponent($0.1))" }.joined(separator: "&")
}

func jsonObject(_ bytes: [UInt8]) throws -> [String: Any] {
    guard let object = try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any] else {
        throw TestFailure("not a JSON object: \(String(decoding: bytes, as: UTF8.self))")
    }
    return object
}

func jsonObject(_ text: String) throws -> [String: Any] { try jsonObject(Array(text.utf8)) }

/// A payload 2.0 response event as `baton invoke` prints it.
struct InvokeResponse: @unchecked Sendable {
    var statusCode: Int
    var headers: [String: String]
    var body: String
    var isBase64Encoded: Bool
    var raw: [String: Any]

    init(_ bytes: [UInt8]) throws {
        raw = try jsonObject(bytes)
        guard let status = raw["statusCode"] as? Int, let headers = raw["headers"] as? [String: String],
              let body = raw["body"] as? String, let base64 = raw["isBase64Encoded"] as? Bool
        else { throw TestFailure("not a payload 2.0 response: \(String(decoding: bytes, as: UTF8.self))") }
        statusCode = status
        self.headers = headers
        self.body = body
        isBase64Encoded = base64
    }

    func bodyJSON() throws -> [String: Any] { try jsonObject(body) }
}

/// The decoded JOSE header of a compact JWS, read without trusting it.
func joseHeader(_ token: String) throws -> [String: Any] {
    guard let first = token.split(separator: ".").first else { throw TestFailure("not a compact JWS") }
    var text = first.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
    while text.count % 4 != 0 { text += "=" }
    guard let data = Data(base64Encoded: text) else { throw TestFailure("header is not base64url") }
    return try jsonObject(Array(data))
}

// MARK: - Access token claims (RFC 9068)

struct AccessTokenClaims: JWTPayload {
    var iss: IssuerClaim
    var sub: SubjectClaim
    var aud: AudienceClaim
    var exp: ExpirationClaim
    var iat: IssuedAtClaim
    var jti: IDClaim
    var client_id: String
    var scope: String?
    var email: String?

    func verify(using algorithm: some JWTAlgorithm) async throws {
        try exp.verifyNotExpired()
    }
}

/// Verifies `token` with an independent implementation against a published JWKS document.
func verifyAccessToken(_ token: String, jwks: String) async throws -> AccessTokenClaims {
    let keys = try await JWTKeyCollection().add(jwksJSON: jwks)
    return try await keys.verify(token, as: AccessTokenClaims.self)
}

/// JWK members that must never appear in a published key set.
let privateJWKMembers = ["d", "p", "q", "dp", "dq", "qi", "k", "oth"]

import Foundation
import Handlers
import ReplayStores
import Runtime
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Paths and fixed values of the package, found from this file's location.
enum Fixture {
    /// `<root>/Tests/ReplayStoresTests/Support.swift` -> `<root>`.
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The binary `swift build` (and so `swift test`) leaves behind; `BATON_TEST_BINARY` overrides it.
    static var baton: String {
        ProcessInfo.processInfo.environment["BATON_TEST_BINARY"] ?? root.appendingPathComponent(".build/debug/baton").path
    }

    static var configB: String { root.appendingPathComponent("examples/domain-b.json").path }
    static var idpKey: String { root.appendingPathComponent("examples/keys/idp.DEV-ONLY.private.pem").path }
    static let issuerB = "https://b.baton.example"
    /// `agent-app-at-b:dev-only-secret-agent-app-at-b-0123456789`, client_secret_basic at domain B.
    static let basicB = "Basic " + Data("agent-app-at-b:dev-only-secret-agent-app-at-b-0123456789".utf8).base64EncodedString()

    /// The throwaway PostgreSQL `.ci/postgres start` prints; the Postgres tests are skipped without it.
    static var postgresURL: String? { ProcessInfo.processInfo.environment["BATON_TEST_POSTGRES_URL"].flatMap { $0.isEmpty ? nil : $0 } }
    /// A script with `start` and `stop` subcommands for that server (`.ci/postgres`).
    static var postgresControl: String? { ProcessInfo.processInfo.environment["BATON_TEST_POSTGRES_CTL"].flatMap { $0.isEmpty ? nil : $0 } }

    static var hasPostgres: Bool { postgresURL != nil }
    static var hasBaton: Bool { FileManager.default.isExecutableFile(atPath: baton) }
}

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// A fresh directory under the temporary directory.
final class TempDir: Sendable {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("baton-replay-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    var path: String { url.path }
    func file(_ name: String) -> String { url.appendingPathComponent(name).path }
    func remove() { try? FileManager.default.removeItem(at: url) }
}

/// Unique per call, so tests never meet each other's rows in a shared database.
func uniqueJTI(_ label: String = "t") -> String { "\(label)-\(UUID().uuidString)" }

// MARK: - Child processes

/// A child process with its standard streams in files (no pipes: no deadlocks, no EOF races).
final class Child: @unchecked Sendable {
    let process = Process()
    let directory: TempDir

    init(_ executable: String, _ arguments: [String], environment: [String: String] = [:], stdin: [UInt8]? = nil) throws {
        directory = try TempDir()
        _ = FileManager.default.createFile(atPath: directory.file("stdout"), contents: nil)
        _ = FileManager.default.createFile(atPath: directory.file("stderr"), contents: nil)
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.currentDirectoryURL = Fixture.root
        var merged = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("BATON_") && $0.key != "PORT" }
        for (name, value) in environment { merged[name] = value }
        process.environment = merged
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: directory.file("stdout")))
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: directory.file("stderr")))
        if let stdin {
            try Data(stdin).write(to: URL(fileURLWithPath: directory.file("stdin")))
            process.standardInput = try FileHandle(forReadingFrom: URL(fileURLWithPath: directory.file("stdin")))
        } else {
            process.standardInput = FileHandle(forReadingAtPath: "/dev/null")
        }
        try process.run()
    }

    var stdout: String { (try? String(contentsOfFile: directory.file("stdout"), encoding: .utf8)) ?? "" }
    var stderr: String { (try? String(contentsOfFile: directory.file("stderr"), encoding: .utf8)) ?? "" }

    func waitForExit(timeout: Duration) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning {
            if ContinuousClock.now >= deadline { return false }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return true
    }

    /// SIGKILL if still running, reap, delete the stream files. Never waits more than five seconds:
    /// Foundation notices an exit through a descriptor the child may have passed on to a daemon.
    func forceStop() {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            let deadline = ContinuousClock.now + .seconds(5)
            while process.isRunning, ContinuousClock.now < deadline { usleep(10_000) }
        }
        directory.remove()
    }
}

struct CommandResult: Sendable {
    var status: Int32
    var stdout: String
    var stderr: String
    var succeeded: Bool { status == 0 }
}

func run(_ executable: String, _ arguments: [String], environment: [String: String] = [:], stdin: [UInt8]? = nil, timeout: Duration = .seconds(60)) async throws -> CommandResult {
    let child = try Child(executable, arguments, environment: environment, stdin: stdin)
    defer { child.forceStop() }
    guard await child.waitForExit(timeout: timeout) else {
        throw TestFailure("\(executable) \(arguments.joined(separator: " ")) did not finish within \(timeout): \(child.stderr)")
    }
    return CommandResult(status: child.process.terminationStatus, stdout: child.stdout, stderr: child.stderr)
}

/// A user assertion from the example IdP for domain B, with a fresh `jti`.
func mintAssertion(lifetime: Int = 120) async throws -> String {
    let result = try await run(Fixture.baton, [
        "assertion", "--key", Fixture.idpKey, "--kid", "idp-2026", "--iss", "https://idp.example", "--sub", "alice",
        "--aud", Fixture.issuerB, "--lifetime", String(lifetime),
    ])
    guard result.succeeded else { throw TestFailure("baton assertion failed: \(result.stderr)") }
    return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
}

/// The form body of a jwt-bearer token request.
func jwtBearerBody(_ assertion: String) -> String {
    "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=\(assertion)"
}

/// The `error` member of an OAuth error body, if any.
func oauthError(_ body: [UInt8]) -> String? {
    guard let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] else { return nil }
    return object["error"] as? String
}

// MARK: - baton serve

/// `baton serve` on 127.0.0.1 with a free port.
final class Server: Sendable {
    let child: Child
    let port: Int

    private init(child: Child, port: Int) {
        self.child = child
        self.port = port
    }

    static func start(config: String = Fixture.configB, environment: [String: String]) async throws -> Server {
        let child = try Child(Fixture.baton, ["serve", "--config", config, "--host", "127.0.0.1", "--port", "0"], environment: environment)
        let deadline = ContinuousClock.now + .seconds(30)
        while true {
            if let port = parsePort(child.stderr) { return Server(child: child, port: port) }
            if !child.process.isRunning {
                let text = child.stderr
                child.forceStop()
                throw TestFailure("baton serve exited before listening: \(text)")
            }
            if ContinuousClock.now >= deadline {
                child.forceStop()
                throw TestFailure("baton serve did not print its port")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    static func parsePort(_ stderr: String) -> Int? {
        let marker = "listening on 127.0.0.1:"
        for line in stderr.split(separator: "\n") {
            guard let range = line.range(of: marker) else { continue }
            if let port = Int(line[range.upperBound...].prefix { $0.isNumber }), port > 0 { return port }
        }
        return nil
    }

    /// POST /token with the jwt-bearer grant and client_secret_basic.
    func token(_ assertion: String) async throws -> LoopbackHTTPClient.Response {
        try await LoopbackHTTPClient.send(
            method: "POST", host: "127.0.0.1", port: port, path: "/token",
            headers: [("Content-Type", "application/x-www-form-urlencoded"), ("Authorization", Fixture.basicB)],
            body: Array(jwtBearerBody(assertion).utf8)
        )
    }

    /// SIGTERM and wait; true when it exited on its own.
    func terminate() async -> Bool {
        kill(child.process.processIdentifier, SIGTERM)
        return await child.waitForExit(timeout: .seconds(10))
    }

    func stop() { child.forceStop() }
}

// MARK: - baton invoke

/// A payload 2.0 token event carrying a jwt-bearer request.
func tokenEvent(_ assertion: String) throws -> [UInt8] {
    let event: [String: Any] = [
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": "/token",
        "rawQueryString": "",
        "headers": ["content-type": "application/x-www-form-urlencoded", "authorization": Fixture.basicB, "host": "b.baton.example"],
        "requestContext": ["http": ["method": "POST", "path": "/token", "protocol": "HTTP/1.1", "sourceIp": "203.0.113.10"]],
        "isBase64Encoded": false,
        "body": jwtBearerBody(assertion),
    ]
    return Array(try JSONSerialization.data(withJSONObject: event))
}

struct InvokeOutcome: Sendable {
    var statusCode: Int
    var error: String?
}

/// Parses `baton invoke` output: `{"statusCode": …, "body": "…"}`.
func invokeOutcome(_ result: CommandResult) throws -> InvokeOutcome {
    guard result.succeeded else { throw TestFailure("baton invoke failed (\(result.status)): \(result.stderr)") }
    guard let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any],
          let status = object["statusCode"] as? Int
    else { throw TestFailure("baton invoke printed no response: \(result.stdout)") }
    let body = (object["body"] as? String).map { Array($0.utf8) } ?? []
    return InvokeOutcome(statusCode: status, error: oauthError(body))
}

// MARK: - The test PostgreSQL server

/// Runs `$BATON_TEST_POSTGRES_CTL start|stop`.
func postgresControl(_ command: String) async throws {
    guard let script = Fixture.postgresControl else { throw TestFailure("BATON_TEST_POSTGRES_CTL is not set") }
    let result = try await run("/bin/bash", [script, command], environment: ProcessInfo.processInfo.environment.filter { $0.key.hasPrefix("BATON_PG_") })
    guard result.succeeded else { throw TestFailure("\(script) \(command) failed: \(result.stderr)") }
}

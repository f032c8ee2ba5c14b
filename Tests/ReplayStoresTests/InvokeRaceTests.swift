import Foundation
import Handlers
import ReplayStores
import Testing

/// `baton invoke`: one process per event, sharing one SQLite file.
@Suite("baton invoke with an SQLite replay store", .enabled(if: Fixture.hasBaton, "needs the baton binary (swift build)"))
struct InvokeRaceTests {
    /// Starts one `baton invoke` per event, all at once, and collects the outcomes.
    func invokeConcurrently(_ events: [[UInt8]], environment: [String: String], config: String = Fixture.configB) async throws -> [InvokeOutcome] {
        let children = try events.map { event in
            try Child(Fixture.baton, ["invoke", "--config", config, "-"], environment: environment, stdin: event)
        }
        defer { for child in children { child.forceStop() } }
        var outcomes: [InvokeOutcome] = []
        for child in children {
            guard await child.waitForExit(timeout: .seconds(60)) else { throw TestFailure("baton invoke hung: \(child.stderr)") }
            outcomes.append(try invokeOutcome(CommandResult(status: child.process.terminationStatus, stdout: child.stdout, stderr: child.stderr)))
        }
        return outcomes
    }

    @Test("race: the same assertion in 16 concurrent baton invoke processes sharing one SQLite file yields one token")
    func race() async throws {
        let directory = try TempDir()
        defer { directory.remove() }
        let environment = ["BATON_REPLAY_STORE": "sqlite:" + directory.file("replay.db")]

        let event = try tokenEvent(try await mintAssertion())
        let outcomes = try await invokeConcurrently(Array(repeating: event, count: 16), environment: environment)
        #expect(outcomes.filter { $0.statusCode == 200 }.count == 1, "\(outcomes.map(\.statusCode))")
        for outcome in outcomes where outcome.statusCode != 200 {
            #expect(outcome.statusCode == 400)
            #expect(outcome.error == "invalid_grant")
        }

        // Distinct assertions at once: every one gets its token.
        var fresh: [[UInt8]] = []
        for _ in 0..<8 { fresh.append(try tokenEvent(try await mintAssertion())) }
        let freshOutcomes = try await invokeConcurrently(fresh, environment: environment)
        #expect(freshOutcomes.map(\.statusCode) == Array(repeating: 200, count: fresh.count), "\(freshOutcomes)")
    }

    @Test("without replay_store, invoke uses an SQLite file in TMPDIR named after the issuer")
    func automaticDefault() async throws {
        let directory = try TempDir()
        defer { directory.remove() }
        // domain-b.json without its replay_store field, key paths made absolute.
        let examples = Fixture.root.appendingPathComponent("examples")
        var config = try JSONSerialization.jsonObject(with: Data(contentsOf: examples.appendingPathComponent("domain-b.json"))) as! [String: Any]
        config["replay_store"] = nil
        config["signing_keys_file"] = examples.appendingPathComponent(config["signing_keys_file"] as! String).path
        config["trusted_issuers"] = (config["trusted_issuers"] as! [[String: Any]]).map { issuer in
            var issuer = issuer
            for field in ["jwks_file", "pem_file"] {
                if let file = issuer[field] as? String { issuer[field] = examples.appendingPathComponent(file).path }
            }
            return issuer
        }
        let configPath = directory.file("domain-b.json")
        try JSONSerialization.data(withJSONObject: config).write(to: URL(fileURLWithPath: configPath))

        let tmp = directory.file("tmp")
        try FileManager.default.createDirectory(atPath: tmp, withIntermediateDirectories: true)
        let environment = ["TMPDIR": tmp]
        let event = try tokenEvent(try await mintAssertion())
        let first = try await invokeConcurrently([event], environment: environment, config: configPath)
        #expect(first.map(\.statusCode) == [200])
        let second = try await invokeConcurrently([event], environment: environment, config: configPath)
        #expect(second.map(\.statusCode) == [400])
        let expected = ReplayStoreFactory.defaultSQLitePath(issuer: Fixture.issuerB, environment: environment)
        #expect(FileManager.default.fileExists(atPath: expected), "\(expected)")
    }

    @Test("fail closed: an SQLite file that cannot be opened gives 503 temporarily_unavailable, and other endpoints still work")
    func failClosed() async throws {
        let environment = ["BATON_REPLAY_STORE": "sqlite:/nonexistent-baton-dir/replay.db"]
        let outcomes = try await invokeConcurrently([try tokenEvent(try await mintAssertion())], environment: environment)
        #expect(outcomes.map(\.statusCode) == [503])
        #expect(outcomes.first?.error == "temporarily_unavailable")

        let jwks = try await run(
            Fixture.baton, ["invoke", "--config", Fixture.configB, Fixture.root.appendingPathComponent("events/jwks.json").path],
            environment: environment
        )
        #expect(try invokeOutcome(jwks).statusCode == 200)
    }
}

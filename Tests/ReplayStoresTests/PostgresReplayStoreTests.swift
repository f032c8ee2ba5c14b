import Foundation
import Handlers
import ReplayStores
import Runtime
import Testing

/// Everything that uses the test PostgreSQL server, in one serialized suite: the fail-closed test stops
/// the server, which must not happen under another test's feet.
@Suite(
    "PostgreSQL replay store",
    .serialized,
    .enabled(if: Fixture.hasPostgres, "set BATON_TEST_POSTGRES_URL (export BATON_TEST_POSTGRES_URL=$(.ci/postgres start))")
)
struct PostgresReplayStoreTests {
    /// A longer answer deadline than the 2.5 s default: these tests check what the store answers, and
    /// they run beside suites that spawn processes. Under that load a first claim (connect, create the
    /// table) once took longer than 2.5 s. Deadlines themselves are tested with an unreachable server.
    func makeStore(purge: PurgePolicy = PurgePolicy()) throws -> PostgresReplayStore {
        PostgresReplayStore(url: try PostgresURL(Fixture.postgresURL!), timeout: .seconds(15), purge: purge)
    }

    func withStore(purge: PurgePolicy = PurgePolicy(), _ body: (PostgresReplayStore) async throws -> Void) async throws {
        let store = try makeStore(purge: purge)
        do {
            try await body(store)
        } catch {
            await store.close()
            throw error
        }
        await store.close()
    }

    // MARK: - The store

    @Test("first claim true, second false; the table is created on first use")
    func firstClaimWins() async throws {
        try await withStore { store in try await StoreContract.firstClaimWins(store) }
    }

    @Test("an expired entry no longer blocks")
    func expiredEntry() async throws {
        try await withStore { store in try await StoreContract.expiredEntryIsReclaimable(store) }
    }

    @Test("distinct keys are never refused")
    func distinctKeys() async throws {
        try await withStore { store in try await StoreContract.distinctKeysNeverRefused(store) }
    }

    @Test("concurrent claims through three pools: exactly one wins")
    func concurrentPools() async throws {
        let stores = try (0..<3).map { _ in try makeStore() }
        try await StoreContract.concurrentClaimsHaveOneWinner(stores, attempts: 90)
        for store in stores { await store.close() }
    }

    @Test("expired rows are purged by claims, without a background job")
    func purge() async throws {
        try await withStore(purge: PurgePolicy(oneIn: 1, interval: 0, batch: 1_000_000)) { store throws in
            let old = StoreContract.key()
            let live = StoreContract.key()
            #expect(try await store.claim(old, expiresAt: 1_100, now: 1_000))
            #expect(try await store.claim(live, expiresAt: 9_000_000_000, now: 1_000))
            #expect(try await store.expiry(of: old) == 1_100)
            // This claim happens after `old` expired; it purges it.
            #expect(try await store.claim(StoreContract.key(), expiresAt: 1_300, now: 1_150))
            #expect(try await store.expiry(of: old) == nil)
            #expect(try await store.expiry(of: live) == 9_000_000_000)
            #expect(try await store.purgeExpired(now: 1_300) >= 1)
        }
    }

    @Test("an unreachable server fails closed within the time limit")
    func unreachable() async throws {
        // Nothing listens on port 1.
        let store = PostgresReplayStore(url: try PostgresURL("postgres://baton:pw@127.0.0.1:1/none?sslmode=disable"), timeout: .seconds(1))
        let started = ContinuousClock.now
        await #expect(throws: ReplayStoreUnavailable.self) {
            try await store.claim(StoreContract.key(), expiresAt: 2_000, now: 1_000)
        }
        #expect(started.duration(to: .now) < .seconds(3))
        await store.close()
    }

    // MARK: - Two `baton serve` processes

    @Test(
        "race: the same assertion sent 60 times at once to two baton serve processes sharing PostgreSQL yields one token",
        .enabled(if: Fixture.hasBaton, "needs the baton binary (swift build)")
    )
    func serveRace() async throws {
        let environment = ["BATON_REPLAY_STORE": Fixture.postgresURL!]
        let first = try await Server.start(environment: environment)
        defer { first.stop() }
        let second = try await Server.start(environment: environment)
        defer { second.stop() }
        let servers = [first, second]

        let assertion = try await mintAssertion()
        let responses = try await withThrowingTaskGroup(of: (Int, LoopbackHTTPClient.Response).self) { group in
            for index in 0..<60 {
                let server = servers[index % 2]
                group.addTask { (index % 2, try await server.token(assertion)) }
            }
            var responses: [(Int, LoopbackHTTPClient.Response)] = []
            for try await response in group { responses.append(response) }
            return responses
        }
        let successes = responses.filter { $0.1.status == 200 }
        #expect(successes.count == 1, "statuses: \(responses.map(\.1.status))")
        for (_, response) in responses where response.status != 200 {
            #expect(response.status == 400)
            #expect(oauthError(response.body) == "invalid_grant", "\(String(decoding: response.body, as: UTF8.self))")
        }

        // Fresh assertions are never refused, whichever server they reach.
        var fresh: [String] = []
        for _ in 0..<6 { fresh.append(try await mintAssertion()) }
        let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
            for (index, assertion) in fresh.enumerated() {
                let server = servers[index % 2]
                group.addTask { try await server.token(assertion).status }
            }
            var statuses: [Int] = []
            for try await status in group { statuses.append(status) }
            return statuses
        }
        #expect(statuses == Array(repeating: 200, count: fresh.count))

        // Graceful shutdown closes the pool and exits.
        #expect(await first.terminate())
        #expect(await second.terminate())
        #expect(first.child.process.terminationStatus == 0, "\(first.child.stderr)")
    }

    // MARK: - The database goes away

    @Test(
        "fail closed: with PostgreSQL stopped no token is issued (503 temporarily_unavailable); it recovers when the server is back",
        .enabled(if: Fixture.hasBaton && Fixture.postgresControl != nil, "needs the baton binary and BATON_TEST_POSTGRES_CTL")
    )
    func failClosed() async throws {
        // Trust authentication ignores the password; it is there to show it never reaches the log.
        let secret = "hunter2-never-logged"
        let url = Fixture.postgresURL!.replacingOccurrences(of: "postgres://postgres@", with: "postgres://postgres:\(secret)@")
        #expect(url.contains(secret))
        let server = try await Server.start(environment: ["BATON_REPLAY_STORE": url])
        defer { server.stop() }

        let before = try await mintAssertion()
        #expect(try await server.token(before).status == 200)

        let during = try await mintAssertion()
        try await postgresControl("stop")
        do {
            for assertion in [during, before] {
                let started = ContinuousClock.now
                let response = try await server.token(assertion)
                #expect(response.status == 503, "\(String(decoding: response.body, as: UTF8.self))")
                #expect(oauthError(response.body) == "temporarily_unavailable")
                #expect(started.duration(to: .now) < .seconds(6), "a request must not hang while the store is down")
            }
        } catch {
            try await postgresControl("start")
            throw error
        }
        try await postgresControl("start")

        // The pool reconnects by itself; the assertion refused during the outage was not spent.
        let deadline = ContinuousClock.now + .seconds(60)
        var status = 0
        while ContinuousClock.now < deadline {
            status = try await server.token(during).status
            if status != 503 { break }
            try await Task.sleep(for: .milliseconds(250))
        }
        #expect(status == 200)
        // What was spent before the outage is still spent after it.
        let replay = try await server.token(before)
        #expect(replay.status == 400 && oauthError(replay.body) == "invalid_grant")
        #expect(try await server.token(during).status == 400)

        #expect(await server.terminate())
        let log = server.child.stderr
        #expect(log.contains("replay store unavailable"), "\(log)")
        #expect(!log.contains(secret), "the password must never be logged")
    }
}

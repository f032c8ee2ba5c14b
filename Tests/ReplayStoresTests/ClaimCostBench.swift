import Foundation
import Handlers
import ReplayStores
import Testing

/// `BATON_REPLAY_BENCH=1 swift test --filter ClaimCost`: prints the cost of one claim per store
/// (sequential, fresh keys, so every claim writes). Off by default: timings are not assertions.
@Suite("Claim cost", .enabled(if: ProcessInfo.processInfo.environment["BATON_REPLAY_BENCH"] != nil, "set BATON_REPLAY_BENCH=1"))
struct ClaimCostBench {
    static let claims = 1000

    func measure(_ name: String, _ store: any ReplayStore) async throws {
        let prefix = uniqueJTI("bench")
        // Warm-up: open the file or the pool, create the table.
        _ = try await store.claim(StoreContract.key(prefix + "-warm"), expiresAt: 9_000_000_000, now: 1_000)
        let start = ContinuousClock.now
        for index in 0..<Self.claims {
            #expect(try await store.claim(StoreContract.key("\(prefix)-\(index)"), expiresAt: 9_000_000_000, now: 1_000))
        }
        let elapsed = start.duration(to: .now)
        let micros = Double(elapsed.components.seconds) * 1e6 + Double(elapsed.components.attoseconds) / 1e12
        print("claim cost \(name): \(String(format: "%.1f", micros / Double(Self.claims))) µs per claim (\(Self.claims) sequential claims)")
    }

    @Test func memory() async throws {
        try await measure("memory", MemoryReplayStore())
    }

    @Test(arguments: [SQLiteReplayStore.Workload.server, .oneEventPerProcess])
    func sqlite(workload: SQLiteReplayStore.Workload) async throws {
        let directory = try TempDir()
        defer { directory.remove() }
        let store = SQLiteReplayStore(path: directory.file("replay.db"), workload: workload)
        try await measure("sqlite (\(workload))", store)
        await store.close()
    }

    @Test(.enabled(if: Fixture.hasPostgres)) func postgres() async throws {
        let store = PostgresReplayStore(url: try PostgresURL(Fixture.postgresURL!))
        try await measure("postgres", store)
        await store.close()
    }
}

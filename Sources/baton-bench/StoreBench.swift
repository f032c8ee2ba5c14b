#if canImport(Glibc)
import Glibc
#endif
import Handlers
import JOSE
import ReplayStores

/// Section 5: the cost of one replay-store claim (a first use: insert), one claim at a time, wall time.
/// PostgreSQL only when `BATON_BENCH_POSTGRES_URL` is set.
enum StoreBench {
    static func run(seconds: Double, scratch: String, environment: [String: String]) async throws -> JSON {
        var rows: [JSON] = []
        rows.append(try await measure(name: "memory", store: MemoryReplayStore(), seconds: seconds))
        let path = scratch + "/replay-bench.db"
        for suffix in ["", "-wal", "-shm"] { _ = remove(path + suffix) }
        let sqlite = SQLiteReplayStore(path: path)
        try await ReplayStoreFactory.prepare(sqlite)
        rows.append(try await measure(name: "sqlite", store: sqlite, seconds: seconds))
        await ReplayStoreFactory.close(sqlite)
        if let url = environment["BATON_BENCH_POSTGRES_URL"], !url.isEmpty {
            let store = try await ReplayStoreFactory.make(.postgres(url: url), environment: environment)
            try await ReplayStoreFactory.prepare(store)
            rows.append(try await measure(name: "postgres", store: store, seconds: seconds))
            await ReplayStoreFactory.close(store)
        }
        return .array(rows)
    }

    static func measure(name: String, store: any ReplayStore, seconds: Double) async throws -> JSON {
        let run = "s\(Clock.unixSeconds())-\(name)"
        let now = Clock.unixSeconds()
        var count = 0
        var refused = 0
        for warm in 0..<20 { _ = try await store.claim(ReplayKey(purpose: .grantAssertion, issuer: "https://idp.bench.example", jti: "\(run)-w\(warm)"), expiresAt: now + 330, now: now) }
        let start = Clock.wall()
        let cpuStart = Clock.processCPU()
        repeat {
            for _ in 0..<20 {
                let key = ReplayKey(purpose: .grantAssertion, issuer: "https://idp.bench.example", jti: "\(run)-\(count)")
                if try await !store.claim(key, expiresAt: now + 330, now: now) { refused += 1 }
                count += 1
            }
        } while Clock.wall() - start < seconds && count < 200_000 // the memory store holds 1,000,000
        let wall = Clock.wall() - start
        let cpu = Clock.processCPU() - cpuStart
        let micros = wall / Double(count) * 1e6
        Log.note("store \(name): \(formatDouble(micros, digits: 2)) µs per claim (\(formatDouble(cpu / Double(count) * 1e6, digits: 2)) µs CPU)")
        return .obj([
            ("store", .str(name)), ("claims", .num(count)), ("micros_per_claim", .num(round3(micros))),
            ("cpu_micros_per_claim", .num(round3(cpu / Double(count) * 1e6))), ("claims_per_second", .num(round1(Double(count) / wall))),
            ("refused", .num(refused)),
        ])
    }
}

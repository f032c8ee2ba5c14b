import Foundation
import Handlers
import ReplayStores
import Testing

@Suite("SQLite replay store")
struct SQLiteReplayStoreTests {
    /// A store on a fresh file, closed and deleted after `body`.
    func withStore(purge: PurgePolicy = PurgePolicy(), _ body: (SQLiteReplayStore, TempDir) async throws -> Void) async throws {
        let directory = try TempDir()
        defer { directory.remove() }
        let store = SQLiteReplayStore(path: directory.file("replay.db"), purge: purge)
        do {
            try await body(store, directory)
        } catch {
            await store.close()
            throw error
        }
        await store.close()
    }

    @Test("first claim true, second false")
    func firstClaimWins() async throws {
        try await withStore { store, _ in try await StoreContract.firstClaimWins(store) }
    }

    @Test("an expired entry no longer blocks")
    func expiredEntry() async throws {
        try await withStore { store, _ in try await StoreContract.expiredEntryIsReclaimable(store) }
    }

    @Test("distinct keys are never refused")
    func distinctKeys() async throws {
        try await withStore { store, _ in try await StoreContract.distinctKeysNeverRefused(store) }
    }

    @Test("concurrent claims through several connections to one file: exactly one wins")
    func concurrentConnections() async throws {
        try await withStore { store, directory throws in
            let others = (0..<3).map { _ in SQLiteReplayStore(path: directory.file("replay.db")) }
            try await StoreContract.concurrentClaimsHaveOneWinner([store] + others)
            for other in others { await other.close() }
        }
    }

    @Test("expired rows are purged without a background job")
    func purge() async throws {
        try await withStore(purge: .everyClaim) { store, _ throws in
            #expect(try await store.claim(StoreContract.key(), expiresAt: 1_100, now: 1_000))
            #expect(try await store.claim(StoreContract.key(), expiresAt: 1_200, now: 1_000))
            #expect(try await store.count() == 2)
            // The next claim purges what expired at 1_150.
            #expect(try await store.claim(StoreContract.key(), expiresAt: 1_300, now: 1_150))
            #expect(try await store.count() == 2)
            #expect(try await store.purgeExpired(now: 1_300) == 2)
            #expect(try await store.count() == 0)
        }
    }

    @Test("claims persist across reopening the file; the file is WAL and private")
    func persistence() async throws {
        try await withStore { store, directory throws in
            let key = StoreContract.key()
            #expect(try await store.claim(key, expiresAt: 5_000, now: 1_000))
            await store.close()
            let reopened = SQLiteReplayStore(path: directory.file("replay.db"))
            #expect(try await reopened.claim(key, expiresAt: 5_000, now: 1_000) == false)
            await reopened.close()
            let attributes = try FileManager.default.attributesOfItem(atPath: directory.file("replay.db"))
            #expect((attributes[.posixPermissions] as? Int) == 0o600)
            // The header's read and write format versions are 2 for a WAL database (the -wal file itself
            // is removed when the last connection closes).
            let header = Array(try Data(contentsOf: URL(fileURLWithPath: directory.file("replay.db"))).prefix(20))
            #expect(header.count == 20 && header[18] == 2 && header[19] == 2)
        }
    }

    @Test("a file that cannot be opened: claims fail closed with ReplayStoreUnavailable, and retry later")
    func unavailable() async throws {
        let directory = try TempDir()
        defer { directory.remove() }
        let path = directory.file("missing-dir/replay.db")
        let store = SQLiteReplayStore(path: path)
        await #expect(throws: ReplayStoreUnavailable.self) {
            try await store.claim(StoreContract.key(), expiresAt: 2_000, now: 1_000)
        }
        await #expect(throws: ReplayStoreUnavailable.self) { try await store.prepare() }
        // Once the directory exists the same store works: a failed open is not remembered.
        try FileManager.default.createDirectory(atPath: directory.file("missing-dir"), withIntermediateDirectories: true)
        #expect(try await store.claim(StoreContract.key(), expiresAt: 2_000, now: 1_000))
        await store.close()
        await #expect(throws: ReplayStoreUnavailable.self) {
            try await store.claim(StoreContract.key(), expiresAt: 2_000, now: 1_000)
        }
    }

    @Test(
        "a writer holding the lock past busy_timeout: the claim fails closed, then succeeds once the lock is gone",
        .enabled(if: findInPath("python3") != nil, "needs python3 to hold a lock from another process")
    )
    func busyTimeout() async throws {
        try await withStore { store, directory throws in
            try await store.prepare()
            let impatient = SQLiteReplayStore(path: directory.file("replay.db"), busyTimeoutMilliseconds: 200)
            // Another process holds the write lock for two seconds.
            let holder = try Child(findInPath("python3")!, ["-c", """
                import sqlite3, sys, time
                connection = sqlite3.connect(sys.argv[1], isolation_level=None)
                connection.execute("BEGIN IMMEDIATE")
                print("locked", flush=True)
                time.sleep(2)
                connection.execute("COMMIT")
                """, directory.file("replay.db")])
            defer { holder.forceStop() }
            let deadline = ContinuousClock.now + .seconds(10)
            while !holder.stdout.contains("locked") {
                guard ContinuousClock.now < deadline, holder.process.isRunning else { throw TestFailure("python3: \(holder.stderr)") }
                try await Task.sleep(for: .milliseconds(10))
            }
            let key = StoreContract.key()
            let started = ContinuousClock.now
            await #expect(throws: ReplayStoreUnavailable.self) {
                try await impatient.claim(key, expiresAt: 5_000, now: 1_000)
            }
            #expect(started.duration(to: .now) < .seconds(1.5))
            _ = await holder.waitForExit(timeout: .seconds(10))
            // Nothing was recorded by the failed claim; the key is still fresh.
            #expect(try await impatient.claim(key, expiresAt: 5_000, now: 1_000))
            #expect(try await store.claim(key, expiresAt: 5_000, now: 1_000) == false)
            await impatient.close()
        }
    }
}

func findInPath(_ name: String) -> String? {
    let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
    for directory in path.split(separator: ":") {
        let candidate = "\(directory)/\(name)"
        if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
    }
    return nil
}

@Suite("Memory replay store (the contract, for comparison)")
struct MemoryReplayStoreContractTests {
    @Test func contract() async throws {
        let store = MemoryReplayStore()
        try await StoreContract.firstClaimWins(store)
        try await StoreContract.expiredEntryIsReclaimable(store)
        try await StoreContract.distinctKeysNeverRefused(store)
        try await StoreContract.concurrentClaimsHaveOneWinner([store])
    }
}

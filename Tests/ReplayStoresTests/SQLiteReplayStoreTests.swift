import Foundation
import Handlers
import ReplayStores
import Testing

@Suite("SQLite replay store")
struct SQLiteReplayStoreTests {
    /// `baton invoke`'s use of the store and a server's.
    static let workloads: [SQLiteReplayStore.Workload] = [.oneEventPerProcess, .server]

    /// A store on a fresh file, closed and deleted after `body`.
    func withStore(
        purge: PurgePolicy = PurgePolicy(), workload: SQLiteReplayStore.Workload = .server,
        _ body: (SQLiteReplayStore, TempDir) async throws -> Void
    ) async throws {
        let directory = try TempDir()
        defer { directory.remove() }
        let store = SQLiteReplayStore(path: directory.file("replay.db"), purge: purge, workload: workload)
        do {
            try await body(store, directory)
        } catch {
            await store.close()
            throw error
        }
        await store.close()
    }

    @Test("first claim true, second false", arguments: workloads)
    func firstClaimWins(workload: SQLiteReplayStore.Workload) async throws {
        try await withStore(workload: workload) { store, _ in try await StoreContract.firstClaimWins(store) }
    }

    @Test("an expired entry no longer blocks", arguments: workloads)
    func expiredEntry(workload: SQLiteReplayStore.Workload) async throws {
        try await withStore(workload: workload) { store, _ in try await StoreContract.expiredEntryIsReclaimable(store) }
    }

    @Test("distinct keys are never refused", arguments: workloads)
    func distinctKeys(workload: SQLiteReplayStore.Workload) async throws {
        try await withStore(workload: workload) { store, _ in try await StoreContract.distinctKeysNeverRefused(store) }
    }

    @Test("concurrent claims through several connections to one file: exactly one wins", arguments: workloads)
    func concurrentConnections(workload: SQLiteReplayStore.Workload) async throws {
        try await withStore(workload: workload) { store, directory throws in
            let others = (0..<3).map { _ in SQLiteReplayStore(path: directory.file("replay.db"), workload: workload) }
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

    @Test("claims persist across reopening the file; the file is WAL and private", arguments: workloads)
    func persistence(workload: SQLiteReplayStore.Workload) async throws {
        try await withStore(workload: workload) { store, directory throws in
            let key = StoreContract.key()
            #expect(try await store.claim(key, expiresAt: 5_000, now: 1_000))
            await store.close()
            // The last connection has closed. One event per process: the claim is in the write-ahead
            // log, left for the next process. A server copies the log into the file and removes it.
            let logLeft = FileManager.default.fileExists(atPath: directory.file("replay.db-wal"))
            #expect(logLeft == (workload == .oneEventPerProcess))
            let reopened = SQLiteReplayStore(path: directory.file("replay.db"), workload: workload)
            #expect(try await reopened.claim(key, expiresAt: 5_000, now: 1_000) == false)
            if workload == .oneEventPerProcess {
                for name in ["replay.db-wal", "replay.db-shm"] {
                    let attributes = try FileManager.default.attributesOfItem(atPath: directory.file(name))
                    #expect((attributes[.posixPermissions] as? Int) == 0o600, "\(name)")
                }
            }
            await reopened.close()
            let attributes = try FileManager.default.attributesOfItem(atPath: directory.file("replay.db"))
            #expect((attributes[.posixPermissions] as? Int) == 0o600)
            // The header's read and write format versions are 2 for a WAL database.
            let header = Array(try Data(contentsOf: URL(fileURLWithPath: directory.file("replay.db"))).prefix(20))
            #expect(header.count == 20 && header[18] == 2 && header[19] == 2)
        }
    }

    /// The largest write-ahead log a store may leave: the store empties it once it holds 32 frames
    /// (4,096 + 24 bytes each), and one claim adds a few; the header is 32 bytes.
    static let longestLog = 32 + 48 * 4_120

    @Test("one claim per process, as baton invoke runs: the log stays short, and every claim survives it")
    func logStaysShortAcrossProcesses() async throws {
        let directory = try TempDir()
        defer { directory.remove() }
        let path = directory.file("replay.db")
        var keys: [ReplayKey] = []
        var sizes: [Int] = []
        for _ in 0..<120 {
            // A new connection each time reads the log left by the previous one, as a new process does.
            let store = SQLiteReplayStore(path: path, workload: .oneEventPerProcess)
            let key = StoreContract.key()
            #expect(try await store.claim(key, expiresAt: 5_000, now: 1_000))
            await store.close()
            keys.append(key)
            let attributes = try FileManager.default.attributesOfItem(atPath: path + "-wal")
            sizes.append((attributes[.size] as? Int) ?? -1)
        }
        // Without the store's own checkpoint the log grows by every claim: 120 claims, about 240 frames.
        #expect(sizes.allSatisfy { $0 >= 0 && $0 <= Self.longestLog }, "log sizes: \(sizes)")
        // It was emptied at least once, so the claims it held had been copied into the database.
        #expect(sizes.contains { $0 < sizes.max()! })
        let reopened = SQLiteReplayStore(path: path, workload: .oneEventPerProcess)
        for key in keys { #expect(try await reopened.claim(key, expiresAt: 5_000, now: 1_000) == false) }
        #expect(try await reopened.count() == keys.count)
        await reopened.close()
    }

    @Test(
        "a reader in another process holding the log: claims neither wait for it nor fail, and the log is emptied after it leaves",
        .enabled(if: findInPath("python3") != nil, "needs python3 to read from another process")
    )
    func readerDoesNotHoldUpClaims() async throws {
        try await withStore(workload: .oneEventPerProcess) { store, directory throws in
            #expect(try await store.claim(StoreContract.key(), expiresAt: 5_000, now: 1_000))
            let reader = try await startPython(readyWhen: "reading", on: directory.file("replay.db"), """
                import sqlite3, sys, time
                connection = sqlite3.connect(sys.argv[1], isolation_level=None)
                connection.execute("BEGIN")
                connection.execute("SELECT count(*) FROM baton_replay").fetchall()
                print("reading", flush=True)
                time.sleep(60)
                """)
            defer { reader.forceStop() }
            // Enough claims to pass the checkpoint threshold several times while the reader holds the
            // log. A checkpoint that waited for the reader would wait for the busy timeout (5 s) and
            // then fail; these return at once, and the reader is still there when they are done.
            let started = ContinuousClock.now
            for _ in 0..<60 { #expect(try await store.claim(StoreContract.key(), expiresAt: 5_000, now: 1_000)) }
            #expect(started.duration(to: .now) < .seconds(5))
            #expect(reader.process.isRunning)
            reader.forceStop()
            let longLog = try FileManager.default.attributesOfItem(atPath: directory.file("replay.db-wal"))[.size] as? Int ?? 0
            #expect(longLog > Self.longestLog)
            // The next claims find the reader gone and empty the log.
            for _ in 0..<24 { #expect(try await store.claim(StoreContract.key(), expiresAt: 5_000, now: 1_000)) }
            let size = try FileManager.default.attributesOfItem(atPath: directory.file("replay.db-wal"))[.size] as? Int ?? -1
            #expect(size >= 0 && size < longLog)
            #expect(try await store.count() == 85)
        }
    }

    @Test(
        "after the store's own checkpoint, claims wait for another process's write lock as before",
        .enabled(if: findInPath("python3") != nil, "needs python3 to hold a lock from another process")
    )
    func busyTimeoutSurvivesCheckpoint() async throws {
        try await withStore(workload: .oneEventPerProcess) { store, directory throws in
            // Past the checkpoint threshold: the store has run checkpoints with a busy timeout of 0.
            for _ in 0..<40 { #expect(try await store.claim(StoreContract.key(), expiresAt: 5_000, now: 1_000)) }
            let holder = try await holdWriteLock(on: directory.file("replay.db"), seconds: 0.4)
            defer { holder.forceStop() }
            // Waits for the 0.4 s lock (the busy timeout is 5 s) instead of failing at once.
            #expect(try await store.claim(StoreContract.key(), expiresAt: 5_000, now: 1_000))
        }
    }

    @Test("a symbolic link where the file, its log or its index should be is refused, and its target left alone")
    func symbolicLinksRefused() async throws {
        for name in ["replay.db", "replay.db-wal", "replay.db-shm"] {
            let directory = try TempDir()
            defer { directory.remove() }
            let target = directory.file("target")
            #expect(FileManager.default.createFile(atPath: target, contents: Data("not a database".utf8)))
            try FileManager.default.createSymbolicLink(atPath: directory.file(name), withDestinationPath: target)
            for workload in Self.workloads {
                let store = SQLiteReplayStore(path: directory.file("replay.db"), workload: workload)
                await #expect(throws: ReplayStoreUnavailable.self, "\(name)") {
                    try await store.claim(StoreContract.key(), expiresAt: 5_000, now: 1_000)
                }
                await store.close()
            }
            #expect(try Data(contentsOf: URL(fileURLWithPath: target)) == Data("not a database".utf8))
        }
    }

    @Test("a path through a symbolically linked directory works (/tmp on macOS, /var/run)", arguments: workloads)
    func linkedDirectory(workload: SQLiteReplayStore.Workload) async throws {
        let directory = try TempDir()
        defer { directory.remove() }
        try FileManager.default.createDirectory(atPath: directory.file("real"), withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: directory.file("linked"), withDestinationPath: directory.file("real"))
        let key = StoreContract.key()
        let store = SQLiteReplayStore(path: directory.file("linked/replay.db"), requireOwnFile: true, workload: workload)
        #expect(try await store.claim(key, expiresAt: 5_000, now: 1_000))
        await store.close()
        #expect(FileManager.default.fileExists(atPath: directory.file("real/replay.db")))
        let reopened = SQLiteReplayStore(path: directory.file("linked/replay.db"), requireOwnFile: true, workload: workload)
        #expect(try await reopened.claim(key, expiresAt: 5_000, now: 1_000) == false)
        await reopened.close()
    }

    @Test("the default file in a shared directory: a log or index that others may write, or another user's, is refused")
    func plantedCompanionsRefused() async throws {
        for name in ["replay.db", "replay.db-wal", "replay.db-shm"] {
            let directory = try TempDir()
            defer { directory.remove() }
            let planted = directory.file(name)
            #expect(FileManager.default.createFile(atPath: planted, contents: nil, attributes: [.posixPermissions: 0o666]))
            chmod(planted, 0o666)
            let store = SQLiteReplayStore(path: directory.file("replay.db"), requireOwnFile: true, workload: .oneEventPerProcess)
            await #expect(throws: ReplayStoreUnavailable.self, "\(name) writable by others") {
                try await store.claim(StoreContract.key(), expiresAt: 5_000, now: 1_000)
            }
            await store.close()
            // Owned by someone else (needs root to give the file away).
            chmod(planted, 0o600)
            if geteuid() == 0, chown(planted, 65534, 65534) == 0 {
                let other = SQLiteReplayStore(path: directory.file("replay.db"), requireOwnFile: true, workload: .oneEventPerProcess)
                await #expect(throws: ReplayStoreUnavailable.self, "\(name) of another user") {
                    try await other.claim(StoreContract.key(), expiresAt: 5_000, now: 1_000)
                }
                await other.close()
            }
        }
        // The same checks pass on files the store made itself.
        let directory = try TempDir()
        defer { directory.remove() }
        for _ in 0..<2 {
            let store = SQLiteReplayStore(path: directory.file("replay.db"), requireOwnFile: true, workload: .oneEventPerProcess)
            #expect(try await store.claim(StoreContract.key(), expiresAt: 5_000, now: 1_000))
            await store.close()
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
            let holder = try await holdWriteLock(on: directory.file("replay.db"), seconds: 2)
            defer { holder.forceStop() }
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

/// Starts python3 running `script` with the database path as its argument, and returns once it has
/// printed `marker` (by then it holds the lock or transaction the test needs).
func startPython(readyWhen marker: String, on path: String, _ script: String) async throws -> Child {
    let child = try Child(findInPath("python3")!, ["-c", script, path])
    let deadline = ContinuousClock.now + .seconds(10)
    while !child.stdout.contains(marker) {
        guard ContinuousClock.now < deadline, child.process.isRunning else {
            let stderr = child.stderr
            child.forceStop()
            throw TestFailure("python3: \(stderr)")
        }
        try await Task.sleep(for: .milliseconds(10))
    }
    return child
}

/// Another process holding the file's write lock (`BEGIN IMMEDIATE`) for `seconds`, then committing.
func holdWriteLock(on path: String, seconds: Double) async throws -> Child {
    try await startPython(readyWhen: "locked", on: path, """
        import sqlite3, sys, time
        connection = sqlite3.connect(sys.argv[1], isolation_level=None)
        connection.execute("BEGIN IMMEDIATE")
        print("locked", flush=True)
        time.sleep(\(seconds))
        connection.execute("COMMIT")
        """)
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

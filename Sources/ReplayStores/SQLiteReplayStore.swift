#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Handlers
import NIOPosix
import Synchronization

/// Spent keys in an SQLite file on the host: the embedded default of `baton invoke`, where every event
/// is a new process. Several processes may use one file at once: the claim is one statement, SQLite
/// serialises writers with a file lock, and WAL mode lets them queue briefly (`busy_timeout`) instead of
/// failing. The file must be on a local file system (WAL needs shared memory, which network file
/// systems do not provide).
///
/// Schema (created when the file is opened):
///
///     CREATE TABLE IF NOT EXISTS baton_replay (key TEXT PRIMARY KEY, expires_at INTEGER NOT NULL) WITHOUT ROWID;
///     CREATE INDEX IF NOT EXISTS baton_replay_expires_at ON baton_replay (expires_at);
public final class SQLiteReplayStore: ManagedReplayStore {
    /// How the process uses the store; decides which thread makes SQLite's blocking calls (file locks,
    /// fsync) and how the write-ahead log is kept (see `SQLiteFile`).
    public enum Workload: Sendable {
        /// One event per process, then exit (`baton invoke`): calls on the caller's thread, since there
        /// is nothing else to run meanwhile (no thread is started); the log is left for the next process
        /// and kept short.
        case oneEventPerProcess
        /// A long-running process (`baton serve`): calls on NIO's shared thread pool, so that event loops
        /// never wait for the disk; SQLite's own checkpoints, which reuse the log's space in place.
        case server
    }

    /// When a claim reaches the disk.
    public enum Durability: Sendable {
        /// Each commit is synced to the disk before the token is issued (`synchronous = FULL`): a claim
        /// survives a power cut. For a file the operator configured.
        case everyClaim
        /// Each commit reaches the operating system before the token is issued, so it survives Baton
        /// crashing or stopping, and the disk when the log is checkpointed (`synchronous = NORMAL`): the
        /// claims since the last checkpoint can be lost with the machine. For `baton invoke`'s default
        /// file in the temporary directory, which many systems empty at boot and which containers and
        /// functions do not keep, so an `fsync` per claim (0.35-1.1 ms of a cold invocation) bought little.
        case checkpoints
    }

    public let path: String
    public let durability: Durability
    /// How long one statement may wait for another process's write lock before the store reports itself
    /// unavailable.
    public let busyTimeoutMilliseconds: Int
    public let workload: Workload
    /// Refuse a file that another user owns: for files in a shared directory such as /tmp.
    let requireOwnFile: Bool
    private let purge: PurgeSchedule
    private let purgeBatch: Int
    private let failures = FailureLog(label: "baton.replay.sqlite")

    private enum State {
        case idle
        case open(SQLiteFile)
        case closed
    }
    /// One connection, one caller at a time. Held while SQLite waits for another process's lock, which
    /// is bounded by the busy timeout.
    private let state = Mutex<State>(.idle)

    static let claimSQL = """
        INSERT INTO baton_replay (key, expires_at) VALUES (?1, ?2) \
        ON CONFLICT (key) DO UPDATE SET expires_at = excluded.expires_at WHERE baton_replay.expires_at <= ?3 \
        RETURNING 1
        """
    static let purgeSQL = """
        DELETE FROM baton_replay WHERE key IN \
        (SELECT key FROM baton_replay WHERE expires_at <= ?1 ORDER BY expires_at LIMIT ?2) RETURNING 1
        """
    static let schemaSQL = [
        "CREATE TABLE IF NOT EXISTS baton_replay (key TEXT PRIMARY KEY, expires_at INTEGER NOT NULL) WITHOUT ROWID",
        "CREATE INDEX IF NOT EXISTS baton_replay_expires_at ON baton_replay (expires_at)",
    ]

    public init(
        path: String, busyTimeoutMilliseconds: Int = 5000, purge: PurgePolicy = PurgePolicy(),
        requireOwnFile: Bool = false, workload: Workload = .server, durability: Durability = .everyClaim
    ) {
        self.path = path
        self.durability = durability
        self.busyTimeoutMilliseconds = busyTimeoutMilliseconds
        self.requireOwnFile = requireOwnFile
        self.workload = workload
        self.purge = PurgeSchedule(purge)
        self.purgeBatch = purge.batch
    }

    public func claim(_ key: ReplayKey, expiresAt: Int64, now: Int64) async throws(ReplayStoreUnavailable) -> Bool {
        let stored = StoredKey.make(key)
        let claimed = try await run("claim failed") { file throws(SQLiteFailure) in try file.claim(stored, expiresAt: expiresAt, now: now) }
        failures.recovered()
        if purge.due(now: now) { _ = try? await purgeExpired(now: now) }
        return claimed
    }

    /// Deletes up to one batch of expired rows; returns how many went.
    @discardableResult
    public func purgeExpired(now: Int64) async throws(ReplayStoreUnavailable) -> Int {
        let batch = purgeBatch
        return try await run("purge failed", report: false) { file throws(SQLiteFailure) in try file.purgeExpired(now: now, batch: batch) }
    }

    /// Rows in the table, expired or not: for tests and operators.
    public func count() async throws(ReplayStoreUnavailable) -> Int {
        try await run("count failed", report: false) { file throws(SQLiteFailure) in
            Int(try file.integer("SELECT count(*) FROM baton_replay") ?? 0)
        }
    }

    /// The connection's `PRAGMA synchronous` (1 NORMAL, 2 FULL): for tests and operators.
    public func synchronousLevel() async throws(ReplayStoreUnavailable) -> Int64? {
        try await run("lookup failed", report: false) { file throws(SQLiteFailure) in try file.integer("PRAGMA synchronous") }
    }

    /// The stored expiry of `key`, expired or not; nil when there is no row: for tests and operators.
    public func expiry(of key: ReplayKey) async throws(ReplayStoreUnavailable) -> Int64? {
        let stored = StoredKey.make(key)
        return try await run("lookup failed", report: false) { file throws(SQLiteFailure) in
            try file.integer("SELECT expires_at FROM baton_replay WHERE key = ?1", text: stored)
        }
    }

    public func prepare() async throws(ReplayStoreUnavailable) {
        try await run("cannot open", report: true) { _ in }
    }

    /// Closes the connection (waiting for a statement in progress). A server's last connection to the
    /// file copies the log into it on the way out, on the thread pool.
    public func close() async {
        let closing = { @Sendable [self] in state.withLock { state in state = .closed } }
        switch workload {
        case .oneEventPerProcess:
            closing()
        case .server:
            // Cancelled before a pool thread took it: close here rather than stay open.
            do { try await NIOThreadPool.singleton.runIfActive(closing) } catch { closing() }
        }
    }

    // MARK: - Running statements

    private enum Failure: Error {
        case closed
        case open(String)
        case statement(SQLiteFailure)
    }

    /// Runs `body` on the open connection, opening the file first if needed (a failed open is retried by
    /// the next call), on the thread the workload calls for.
    private func run<T: Sendable>(
        _ what: String, report: Bool = true, _ body: @escaping @Sendable (SQLiteFile) throws(SQLiteFailure) -> T
    ) async throws(ReplayStoreUnavailable) -> T {
        let locked = { @Sendable [self] () throws(Failure) -> T in try withFile(body) }
        let result: Result<T, Failure>
        switch workload {
        case .oneEventPerProcess:
            result = Result(catching: locked)
        case .server:
            do {
                result = try await NIOThreadPool.singleton.runIfActive { Result(catching: locked) }
            } catch {
                // Cancelled before a pool thread took it, or the pool has shut down.
                throw failed("\(what): not run (\(error))", report: report)
            }
        }
        switch result {
        case .success(let value): return value
        case .failure(.closed): throw ReplayStoreUnavailable("sqlite \(path): the store is closed")
        case .failure(.open(let reason)): throw failed("cannot open: \(reason)", report: true)
        case .failure(.statement(let failure)): throw failed("\(what): \(failure)", report: report)
        }
    }

    private func withFile<T>(_ body: (SQLiteFile) throws(SQLiteFailure) -> T) throws(Failure) -> T {
        try state.withLock { state throws(Failure) -> T in
            let file: SQLiteFile
            switch state {
            case .closed:
                throw .closed
            case .open(let open):
                file = open
            case .idle:
                do {
                    try createPrivately(path: path, requireOwnFile: requireOwnFile)
                    file = try SQLiteFile(
                        path: path, busyTimeoutMilliseconds: busyTimeoutMilliseconds, leavesShortLog: workload == .oneEventPerProcess,
                        syncsEachCommit: durability == .everyClaim
                    )
                } catch {
                    throw .open("\(error)")
                }
                state = .open(file)
            }
            do throws(SQLiteFailure) {
                let value = try body(file)
                // Any statement that writes may have checkpointed; a failure there does not fail it.
                if let failure = file.takeCheckpointFailure() {
                    failures.warn("sqlite \(path): checkpoint failed, the write-ahead log keeps growing: \(failure)")
                }
                return value
            } catch {
                throw .statement(error)
            }
        }
    }

    private func failed(_ reason: String, report: Bool) -> ReplayStoreUnavailable {
        let message = "sqlite \(path): \(reason)"
        if report { failures.report(message) }
        return ReplayStoreUnavailable(message)
    }
}

struct SetupError: Error, CustomStringConvertible {
    var description: String
}

/// Creates the file with mode 0600 if it is missing (SQLite would use 0644), and checks what is already
/// there without opening it: closing a descriptor of the file would drop the POSIX locks that SQLite
/// connections of this process hold on it. A symbolic link in place of the file, its write-ahead log
/// or its index is refused with a message that says so (SQLite, which opens them with O_NOFOLLOW,
/// would only say it cannot open the file). With `requireOwnFile`
/// (the default path, in a shared directory such as /tmp), each that exists must also be a regular
/// file of this user that no other user may write: a file planted there before Baton first used it.
/// SQLite creates the log and index itself with the file's mode.
private func createPrivately(path: String, requireOwnFile: Bool) throws(SetupError) {
    for (name, mayCreate) in [(path, true), (path + "-wal", false), (path + "-shm", false)] {
        var info = stat()
        if lstat(name, &info) != 0 {
            guard errno == ENOENT else { throw SetupError(description: "\(name): \(String(cString: strerror(errno)))") }
            guard mayCreate else { continue }
            let descriptor = open(name, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
            if descriptor >= 0 {
                close(descriptor)
                continue
            }
            // Another process created it meanwhile: check what it made.
            guard errno == EEXIST, lstat(name, &info) == 0 else {
                throw SetupError(description: "\(name): \(String(cString: strerror(errno)))")
            }
        }
        let type = info.st_mode & S_IFMT
        guard type != S_IFLNK else { throw SetupError(description: "\(name) is a symbolic link; Baton does not follow it") }
        guard requireOwnFile else { continue }
        guard type == S_IFREG else { throw SetupError(description: "\(name) is not a regular file") }
        guard info.st_uid == geteuid() else {
            throw SetupError(description: "\(name) belongs to another user (uid \(info.st_uid)); remove it or choose another path")
        }
        guard info.st_mode & 0o022 == 0 else {
            throw SetupError(description: "\(name) is writable by other users; remove it or choose another path")
        }
    }
}

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
    /// Which thread runs SQLite's blocking calls (file locks, fsync).
    public enum Calls: Sendable {
        /// The caller's: for a process that handles one event and has nothing else to run meanwhile
        /// (`baton invoke`). No thread is started.
        case onCallingThread
        /// NIO's shared thread pool, so that a server's event loops never wait for the disk.
        case onThreadPool
    }

    public let path: String
    /// How long one statement may wait for another process's write lock before the store reports itself
    /// unavailable.
    public let busyTimeoutMilliseconds: Int
    public let calls: Calls
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
        requireOwnFile: Bool = false, calls: Calls = .onThreadPool
    ) {
        self.path = path
        self.busyTimeoutMilliseconds = busyTimeoutMilliseconds
        self.requireOwnFile = requireOwnFile
        self.calls = calls
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

    /// Closes the connection on the calling thread: closing does not checkpoint (see `SQLiteFile`), so
    /// it does not wait for the disk. Waits for a statement in progress.
    public func close() async {
        state.withLock { state in state = .closed }
    }

    // MARK: - Running statements

    private enum Failure: Error {
        case closed
        case open(String)
        case statement(SQLiteFailure)
    }

    /// Runs `body` on the open connection, opening the file first if needed (a failed open is retried by
    /// the next call), on the thread `calls` names.
    private func run<T: Sendable>(
        _ what: String, report: Bool = true, _ body: @escaping @Sendable (SQLiteFile) throws(SQLiteFailure) -> T
    ) async throws(ReplayStoreUnavailable) -> T {
        let locked = { @Sendable [self] () throws(Failure) -> T in try withFile(body) }
        let result: Result<T, Failure>
        switch calls {
        case .onCallingThread:
            result = Result(catching: locked)
        case .onThreadPool:
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
                    file = try SQLiteFile(path: path, busyTimeoutMilliseconds: busyTimeoutMilliseconds)
                } catch {
                    throw .open("\(error)")
                }
                state = .open(file)
            }
            do throws(SQLiteFailure) {
                return try body(file)
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

/// Creates the file with mode 0600 if it is missing (SQLite would use 0644), refuses a symbolic link,
/// and with `requireOwnFile` a file some other user created (a planted file in /tmp).
private func createPrivately(path: String, requireOwnFile: Bool) throws(SetupError) {
    let descriptor = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0o600)
    guard descriptor >= 0 else { throw SetupError(description: String(cString: strerror(errno))) }
    defer { close(descriptor) }
    guard requireOwnFile else { return }
    var info = stat()
    guard fstat(descriptor, &info) == 0 else { throw SetupError(description: String(cString: strerror(errno))) }
    guard info.st_uid == geteuid() else {
        throw SetupError(description: "the file belongs to another user (uid \(info.st_uid)); remove it or choose another path")
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Handlers
import SQLiteNIO
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
    public let path: String
    /// How long one statement may wait for another process's write lock before the store reports itself
    /// unavailable.
    public let busyTimeoutMilliseconds: Int
    /// Refuse a file that another user owns: for files in a shared directory such as /tmp.
    let requireOwnFile: Bool
    private let purge: PurgeSchedule
    private let purgeBatch: Int
    private let failures = FailureLog(label: "baton.replay.sqlite")

    private enum State {
        case idle
        case opening(Task<SQLiteConnection, any Error>)
        case open(SQLiteConnection)
        case closed
    }
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

    public init(path: String, busyTimeoutMilliseconds: Int = 5000, purge: PurgePolicy = PurgePolicy(), requireOwnFile: Bool = false) {
        self.path = path
        self.busyTimeoutMilliseconds = busyTimeoutMilliseconds
        self.requireOwnFile = requireOwnFile
        self.purge = PurgeSchedule(purge)
        self.purgeBatch = purge.batch
    }

    public func claim(_ key: ReplayKey, expiresAt: Int64, now: Int64) async throws(ReplayStoreUnavailable) -> Bool {
        let connection = try await connection()
        let claimed: Bool
        do {
            let rows = try await connection.query(Self.claimSQL, [.text(StoredKey.make(key)), .integer(Int(expiresAt)), .integer(Int(now))])
            claimed = !rows.isEmpty
        } catch {
            throw failed("claim failed: \(Self.describe(error))")
        }
        failures.recovered()
        if purge.due(now: now) { _ = try? await purgeExpired(now: now) }
        return claimed
    }

    /// Deletes up to one batch of expired rows; returns how many went.
    @discardableResult
    public func purgeExpired(now: Int64) async throws(ReplayStoreUnavailable) -> Int {
        let connection = try await connection()
        do {
            return try await connection.query(Self.purgeSQL, [.integer(Int(now)), .integer(purgeBatch)]).count
        } catch {
            throw ReplayStoreUnavailable("sqlite \(path): purge failed: \(Self.describe(error))")
        }
    }

    /// Rows in the table, expired or not: for tests and operators.
    public func count() async throws(ReplayStoreUnavailable) -> Int {
        let connection = try await connection()
        do {
            let rows = try await connection.query("SELECT count(*) FROM baton_replay")
            return rows.first?.column("count(*)")?.integer ?? 0
        } catch {
            throw ReplayStoreUnavailable("sqlite \(path): \(Self.describe(error))")
        }
    }

    /// The stored expiry of `key`, expired or not; nil when there is no row: for tests and operators.
    public func expiry(of key: ReplayKey) async throws(ReplayStoreUnavailable) -> Int64? {
        let connection = try await connection()
        do {
            let rows = try await connection.query("SELECT expires_at FROM baton_replay WHERE key = ?1", [.text(StoredKey.make(key))])
            return rows.first?.column("expires_at")?.integer.map(Int64.init)
        } catch {
            throw ReplayStoreUnavailable("sqlite \(path): \(Self.describe(error))")
        }
    }

    public func prepare() async throws(ReplayStoreUnavailable) {
        _ = try await connection()
    }

    public func close() async {
        let previous = state.withLock { state in
            defer { state = .closed }
            return state
        }
        switch previous {
        case .open(let connection):
            try? await connection.close()
        case .opening(let task):
            task.cancel()
            if let connection = try? await task.value { try? await connection.close() }
        case .idle, .closed:
            break
        }
    }

    // MARK: - Opening

    private func failed(_ reason: String) -> ReplayStoreUnavailable {
        let message = "sqlite \(path): \(reason)"
        failures.report(message)
        return ReplayStoreUnavailable(message)
    }

    /// The open connection, opening the file on first use. A failed open is retried by the next call.
    private func connection() async throws(ReplayStoreUnavailable) -> SQLiteConnection {
        enum Next { case ready(SQLiteConnection), wait(Task<SQLiteConnection, any Error>), closed }
        let next: Next = state.withLock { state in
            switch state {
            case .open(let connection): return .ready(connection)
            case .opening(let task): return .wait(task)
            case .closed: return .closed
            case .idle:
                let task = Task { [path, busyTimeoutMilliseconds, requireOwnFile] in
                    try await Self.openConnection(path: path, busyTimeoutMilliseconds: busyTimeoutMilliseconds, requireOwnFile: requireOwnFile)
                }
                state = .opening(task)
                return .wait(task)
            }
        }
        switch next {
        case .ready(let connection):
            return connection
        case .closed:
            throw ReplayStoreUnavailable("sqlite \(path): the store is closed")
        case .wait(let task):
            do {
                let connection = try await task.value
                state.withLock { state in
                    if case .opening = state { state = .open(connection) }
                }
                return connection
            } catch {
                state.withLock { state in
                    if case .opening = state { state = .idle }
                }
                throw failed("cannot open: \(Self.describe(error))")
            }
        }
    }

    private static func openConnection(path: String, busyTimeoutMilliseconds: Int, requireOwnFile: Bool) async throws -> SQLiteConnection {
        try createPrivately(path: path, requireOwnFile: requireOwnFile)
        let connection = try await SQLiteConnection.open(storage: .file(path: path))
        do {
            // Replaces SQLiteNIO's retry-forever busy handler with a bounded wait.
            _ = try await connection.query("PRAGMA busy_timeout = \(busyTimeoutMilliseconds)")
            // A claim is synced to disk before the token is issued, so it survives a power cut too.
            _ = try await connection.query("PRAGMA synchronous = FULL")
            // Switching to WAL and creating the schema take locks other starting processes may hold; a few
            // of these can return SQLITE_BUSY without waiting, so retry them for the busy timeout.
            let deadline = ContinuousClock.now + .milliseconds(busyTimeoutMilliseconds)
            while true {
                do {
                    let mode = try await connection.query("PRAGMA journal_mode = WAL")
                    if mode.first?.column("journal_mode")?.string?.lowercased() == "wal" {
                        for statement in schemaSQL { _ = try await connection.query(statement) }
                        break
                    }
                    // Another process holds the file in rollback mode for the moment.
                    if ContinuousClock.now >= deadline { throw SetupError(description: "cannot switch the file to WAL mode") }
                    try await Task.sleep(for: .milliseconds(Int.random(in: 5...25)))
                } catch let error as SQLiteError where Self.retryable.contains(error.reason) {
                    if ContinuousClock.now >= deadline { throw error }
                    try await Task.sleep(for: .milliseconds(Int.random(in: 5...25)))
                }
            }
            return connection
        } catch {
            try? await connection.close()
            throw error
        }
    }

    static let retryable: Set<SQLiteError.Reason> = [
        .busy, .busyInRecovery, .busyInSnapshot, .busyTimeout, .locked, .lockedBySharedCache, .proto,
    ]

    static func describe(_ error: any Error) -> String {
        if let error = error as? SQLiteError { return "\(error.reason): \(error.message)" }
        if let error = error as? ReplayStoreUnavailable { return error.reason }
        if let error = error as? SetupError { return error.description }
        return "\(error)"
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

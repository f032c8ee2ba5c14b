#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
// The SQLite that sqlite-nio bundles (its VaporCSQLite target: no system library), called directly.
// SQLiteNIO itself runs every statement on its thread pool and answers on an event loop: a cold
// `baton invoke` started seven threads for one claim and switched threads three times per statement.
import VaporCSQLite
import CSQLiteSupport

/// One SQLite connection to a replay file. Not thread-safe by itself (opened NOMUTEX): it is only
/// reached through `SQLiteReplayStore`'s lock, which is what makes it safe to send between threads.
/// Statements the store runs on each claim are prepared once.
final class SQLiteFile: @unchecked Sendable {
    private let database: OpaquePointer
    private let claimStatement: OpaquePointer
    private let purgeStatement: OpaquePointer
    private let busyTimeoutMilliseconds: Int32
    /// Frames in the write-ahead log after the last commit, as SQLite's WAL hook reports them.
    private var framesInLog: Int32 = 0

    /// Opens (creating if needed) `path`, switches it to WAL and creates the schema. Waits up to
    /// `busyTimeoutMilliseconds` for other processes' locks, including while they switch the file to WAL.
    /// `leavesShortLog`: for a process that makes one claim and exits (see `keepLogOnClose`); otherwise
    /// SQLite's defaults. `syncsEachCommit`: `synchronous = FULL`, else `NORMAL` (see
    /// `SQLiteReplayStore.Durability`).
    init(path: String, busyTimeoutMilliseconds: Int, leavesShortLog: Bool, syncsEachCommit: Bool) throws(SQLiteFailure) {
        try Self.checkLibrary()
        var handle: OpaquePointer?
        // NOMUTEX: the store serialises calls itself. Not SQLITE_OPEN_NOFOLLOW, which refuses a link
        // anywhere in the path (`/tmp` on macOS, `/var/run`); SQLite opens the file, its log and its
        // index with O_NOFOLLOW, which refuses a link in place of the file itself.
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE
        let opened = sqlite_nio_sqlite3_open_v2(path, &handle, flags, nil)
        guard let handle else { throw SQLiteFailure(code: opened, message: "out of memory") }
        guard opened == SQLITE_OK else {
            let failure = SQLiteFailure(code: opened, database: handle)
            sqlite_nio_sqlite3_close_v2(handle)
            throw failure
        }
        do throws(SQLiteFailure) {
            sqlite_nio_sqlite3_busy_timeout(handle, Int32(clamping: busyTimeoutMilliseconds))
            try Self.execute(syncsEachCommit ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL", on: handle)
            if leavesShortLog { try Self.keepLogOnClose(handle) }
            try Self.switchToWAL(handle, busyTimeoutMilliseconds: busyTimeoutMilliseconds)
            claimStatement = try Self.prepare(SQLiteReplayStore.claimSQL, on: handle)
            do throws(SQLiteFailure) {
                purgeStatement = try Self.prepare(SQLiteReplayStore.purgeSQL, on: handle)
            } catch {
                sqlite_nio_sqlite3_finalize(claimStatement)
                throw error
            }
        } catch {
            sqlite_nio_sqlite3_close_v2(handle)
            throw error
        }
        database = handle
        self.busyTimeoutMilliseconds = Int32(clamping: busyTimeoutMilliseconds)
        guard leavesShortLog else { return }
        // Replaces SQLite's automatic checkpoint, see `checkpointIfLogIsLong`.
        sqlite_nio_sqlite3_wal_hook(handle, { context, _, _, frames in
            Unmanaged<SQLiteFile>.fromOpaque(context!).takeUnretainedValue().framesInLog = frames
            return SQLITE_OK
        }, Unmanaged.passUnretained(self).toOpaque())
    }

    deinit {
        sqlite_nio_sqlite3_wal_hook(database, nil, nil)
        sqlite_nio_sqlite3_finalize(claimStatement)
        sqlite_nio_sqlite3_finalize(purgeStatement)
        // With `leavesShortLog`, leaves the log for the next connection: no checkpoint, no fsync.
        sqlite_nio_sqlite3_close_v2(database)
    }

    /// A checkpoint that failed for another reason than a busy lock, since the last call; cleared when
    /// read. The claims are safe (nothing is removed from the log until it is copied and synced), but
    /// the log grows, so the store reports it.
    func takeCheckpointFailure() -> SQLiteFailure? {
        defer { checkpointFailure = nil }
        return checkpointFailure
    }
    private var checkpointFailure: SQLiteFailure?

    /// True when `key` was free (absent or expired) and is now held until `expiresAt`.
    func claim(_ key: String, expiresAt: Int64, now: Int64) throws(SQLiteFailure) -> Bool {
        let statement = claimStatement
        sqlite_nio_sqlite3_bind_text(statement, 1, key, -1, transient)
        sqlite_nio_sqlite3_bind_int64(statement, 2, expiresAt)
        sqlite_nio_sqlite3_bind_int64(statement, 3, now)
        let claimed = try rowsThenReset(statement) == 1
        checkpointIfLogIsLong()
        return claimed
    }

    /// Deletes up to `batch` expired rows; returns how many went.
    func purgeExpired(now: Int64, batch: Int) throws(SQLiteFailure) -> Int {
        let statement = purgeStatement
        sqlite_nio_sqlite3_bind_int64(statement, 1, now)
        sqlite_nio_sqlite3_bind_int64(statement, 2, Int64(batch))
        let purged = try rowsThenReset(statement)
        checkpointIfLogIsLong()
        return purged
    }

    /// Copies the log into the database and empties it once it holds `framesBeforeCheckpoint` frames.
    ///
    /// SQLite's own automatic checkpoint copies the log but leaves its frames valid; a new process,
    /// which rebuilds the log's index from the file, then sees them all again, copies them all again
    /// on each commit, and the log never restarts. Truncating it after the copy ends that. The
    /// checkpoint does not wait for other processes (busy timeout 0): if one is using the log, a
    /// later commit tries again. Its failure does not undo the claim, which is already durable.
    private func checkpointIfLogIsLong() {
        guard framesInLog >= Self.framesBeforeCheckpoint else { return }
        sqlite_nio_sqlite3_busy_timeout(database, 0)
        let code = sqlite_nio_sqlite3_wal_checkpoint_v2(database, nil, SQLITE_CHECKPOINT_TRUNCATE, nil, nil)
        sqlite_nio_sqlite3_busy_timeout(database, busyTimeoutMilliseconds)
        if code == SQLITE_OK {
            framesInLog = 0
        } else if code & 0xFF != SQLITE_BUSY {
            checkpointFailure = SQLiteFailure(code: code, database: database)
        }
    }

    /// The first column of the first row of `sql` as an integer, nil when there is no row.
    func integer(_ sql: String, text: String? = nil) throws(SQLiteFailure) -> Int64? {
        let statement = try Self.prepare(sql, on: database, persistent: false)
        defer { sqlite_nio_sqlite3_finalize(statement) }
        if let text { sqlite_nio_sqlite3_bind_text(statement, 1, text, -1, transient) }
        switch sqlite_nio_sqlite3_step(statement) {
        case SQLITE_ROW: return sqlite_nio_sqlite3_column_int64(statement, 0)
        case SQLITE_DONE: return nil
        case let code: throw SQLiteFailure(code: code, database: database)
        }
    }

    /// Steps `statement` to the end and counts its rows (`RETURNING 1` rows here).
    private func rowsThenReset(_ statement: OpaquePointer) throws(SQLiteFailure) -> Int {
        defer { Self.reset(statement) }
        var count = 0
        while true {
            switch sqlite_nio_sqlite3_step(statement) {
            case SQLITE_ROW: count += 1
            case SQLITE_DONE: return count
            case let code: throw SQLiteFailure(code: code, database: database)
            }
        }
    }

    private static func reset(_ statement: OpaquePointer) {
        sqlite_nio_sqlite3_reset(statement)
        sqlite_nio_sqlite3_clear_bindings(statement)
    }

    private static func prepare(_ sql: String, on database: OpaquePointer, persistent: Bool = true) throws(SQLiteFailure) -> OpaquePointer {
        var statement: OpaquePointer?
        let flags = persistent ? UInt32(SQLITE_PREPARE_PERSISTENT) : 0
        let code = sqlite_nio_sqlite3_prepare_v3(database, sql, -1, flags, &statement, nil)
        guard code == SQLITE_OK, let statement else { throw SQLiteFailure(code: code, database: database) }
        return statement
    }

    private static func execute(_ sql: String, on database: OpaquePointer) throws(SQLiteFailure) {
        let code = sqlite_nio_sqlite3_exec(database, sql, nil, nil, nil)
        guard code == SQLITE_OK else { throw SQLiteFailure(code: code, database: database) }
    }

    /// What this file relies on from the SQLite that sqlite-nio bundles, checked rather than assumed:
    /// a build that allows a connection to move between threads (NOMUTEX is then only about the
    /// connection's own mutex), and 3.37 or later for `SQLITE_OPEN_EXRESCODE`.
    private static func checkLibrary() throws(SQLiteFailure) {
        guard sqlite_nio_sqlite3_threadsafe() != 0 else {
            throw SQLiteFailure(code: SQLITE_MISUSE, message: "the bundled SQLite was built without thread support")
        }
        guard sqlite_nio_sqlite3_libversion_number() >= 3_037_000 else {
            let version = String(cString: sqlite_nio_sqlite3_libversion())
            throw SQLiteFailure(code: SQLITE_MISUSE, message: "the bundled SQLite is \(version); Baton needs 3.37 or later")
        }
    }

    /// Frames in the write-ahead log before a commit copies them into the database. A new process reads
    /// the whole log when it opens the file (see `keepLogOnClose`), so the log is kept short: a claim
    /// writes two or three frames.
    static let framesBeforeCheckpoint: Int32 = 32

    /// By default the last connection to close copies the log into the database and deletes it: two
    /// fsyncs, and the next process creates the log again (two more, one for the directory). A
    /// `baton invoke` process is always the last connection, so each claim paid five fsyncs. Left in
    /// place, the log costs the commit's fsync (a configured file; the default file's commits are synced
    /// at checkpoints, see `SQLiteReplayStore.Durability`) and one of the directory per process, plus a
    /// checkpoint every `framesBeforeCheckpoint` frames.
    ///
    /// Not for a long-running process: there SQLite's automatic checkpoint restarts the log in place,
    /// reusing its space, and a claim that appends to a freshly truncated log costs more (a server's
    /// sequential claims, `bench/run` section 5: 0.24-0.26 ms in place, 0.39 ms appending).
    private static func keepLogOnClose(_ database: OpaquePointer) throws(SQLiteFailure) {
        let code = baton_sqlite_keep_wal_on_close(database)
        guard code == SQLITE_OK else { throw SQLiteFailure(code: code, database: database) }
    }

    /// Switching to WAL and creating the schema take locks that other starting processes may hold, and
    /// some of these return SQLITE_BUSY at once instead of waiting; retried until the busy timeout.
    private static func switchToWAL(_ database: OpaquePointer, busyTimeoutMilliseconds: Int) throws(SQLiteFailure) {
        let deadline = ContinuousClock.now + .milliseconds(busyTimeoutMilliseconds)
        while true {
            do throws(SQLiteFailure) {
                let statement = try prepare("PRAGMA journal_mode = WAL", on: database, persistent: false)
                let code = sqlite_nio_sqlite3_step(statement)
                let mode = code == SQLITE_ROW ? sqlite_nio_sqlite3_column_text(statement, 0).map { String(cString: $0) } : nil
                sqlite_nio_sqlite3_finalize(statement)
                guard code == SQLITE_ROW else { throw SQLiteFailure(code: code, database: database) }
                if mode?.lowercased() == "wal" {
                    for sql in SQLiteReplayStore.schemaSQL { try execute(sql, on: database) }
                    return
                }
                // Another process holds the file in rollback-journal mode for the moment.
                if ContinuousClock.now >= deadline {
                    throw SQLiteFailure(code: SQLITE_BUSY, message: "cannot switch the file to WAL mode")
                }
            } catch where error.isTransient && ContinuousClock.now < deadline {
                // Retried below.
            }
            usleep(UInt32.random(in: 5_000...25_000))
        }
    }
}

/// SQLITE_TRANSIENT: SQLite copies a bound value before the call returns.
private let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

/// An SQLite result code and the connection's message for it.
struct SQLiteFailure: Error, CustomStringConvertible {
    var code: Int32
    var message: String

    init(code: Int32, message: String) {
        self.code = code
        self.message = message
    }

    init(code: Int32, database: OpaquePointer) {
        self.init(code: code, message: String(cString: sqlite_nio_sqlite3_errmsg(database)))
    }

    /// Another connection holds a lock, or the WAL index is being rebuilt: worth another try.
    var isTransient: Bool {
        [SQLITE_BUSY, SQLITE_LOCKED, SQLITE_PROTOCOL].contains(code & 0xFF)
    }

    var description: String {
        let name = String(cString: sqlite_nio_sqlite3_errstr(code))
        return name == message ? message : "\(name): \(message)"
    }
}

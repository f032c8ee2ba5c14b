import Handlers
import Logging
import PostgresNIO
import Synchronization

/// Spent keys in PostgreSQL, shared by every replica and function. One pooled client runs for the
/// process's lifetime; the table is created on first use. Every claim is bounded in time: when the
/// server cannot be reached or does not answer within `timeout`, the claim throws
/// `ReplayStoreUnavailable` and the grant fails closed (503). The pool reconnects by itself when the
/// server is back.
///
/// Schema (created on first use unless it already exists):
///
///     CREATE TABLE IF NOT EXISTS baton_replay (key text PRIMARY KEY, expires_at bigint NOT NULL);
///     CREATE INDEX IF NOT EXISTS baton_replay_expires_at ON baton_replay (expires_at);
public final class PostgresReplayStore: ManagedReplayStore {
    public let url: PostgresURL
    public let timeout: Duration
    private let client: PostgresClient
    private let runTask: Task<Void, Never>
    private let schemaReady = Mutex(false)
    private let closed = Mutex(false)
    private let purge: PurgeSchedule
    private let purgeBatch: Int
    private let failures = FailureLog(label: "baton.replay.postgres")

    static let claimSQL = """
        INSERT INTO baton_replay (key, expires_at) VALUES ($1, $2) \
        ON CONFLICT (key) DO UPDATE SET expires_at = EXCLUDED.expires_at WHERE baton_replay.expires_at <= $3 \
        RETURNING 1
        """
    static let purgeSQL = """
        DELETE FROM baton_replay WHERE key IN \
        (SELECT key FROM baton_replay WHERE expires_at <= $1 ORDER BY expires_at LIMIT $2) RETURNING 1
        """
    static let schemaSQL = [
        "CREATE TABLE IF NOT EXISTS baton_replay (key text PRIMARY KEY, expires_at bigint NOT NULL)",
        "CREATE INDEX IF NOT EXISTS baton_replay_expires_at ON baton_replay (expires_at)",
    ]
    /// Serialises concurrent creators of the schema (two replicas starting at once would otherwise race
    /// on the catalog and one would fail with a unique violation). The value is "baton" in ASCII.
    static let schemaLockID: Int64 = 0x62_61_74_6F_6E

    public init(url: PostgresURL, timeout: Duration = .milliseconds(2500), maxConnections: Int = 10, purge: PurgePolicy = PurgePolicy()) {
        self.url = url
        self.timeout = timeout
        var configuration = url.clientConfiguration()
        configuration.options.maximumConnections = maxConnections
        let client = PostgresClient(configuration: configuration)
        self.client = client
        self.runTask = Task { await client.run() }
        self.purge = PurgeSchedule(purge)
        self.purgeBatch = purge.batch
    }

    public func claim(_ key: ReplayKey, expiresAt: Int64, now: Int64) async throws(ReplayStoreUnavailable) -> Bool {
        let stored = StoredKey.make(key)
        let claimed = try await run("claim") { connection in
            let rows = try await connection.query(
                PostgresQuery(unsafeSQL: Self.claimSQL, binds: Self.binds(.text(stored), .integer(expiresAt), .integer(now))), logger: Self.quiet
            )
            var claimed = false
            for try await _ in rows { claimed = true }
            return claimed
        }
        if purge.due(now: now) { _ = try? await purgeExpired(now: now) }
        return claimed
    }

    /// Deletes up to one batch of expired rows; returns how many went.
    @discardableResult
    public func purgeExpired(now: Int64) async throws(ReplayStoreUnavailable) -> Int {
        let batch = Int64(purgeBatch)
        return try await run("purge", report: false) { connection in
            let rows = try await connection.query(
                PostgresQuery(unsafeSQL: Self.purgeSQL, binds: Self.binds(.integer(now), .integer(batch))), logger: Self.quiet
            )
            var count = 0
            for try await _ in rows { count += 1 }
            return count
        }
    }

    /// Rows in the table, expired or not: for tests and operators.
    public func count() async throws(ReplayStoreUnavailable) -> Int {
        try await run("count") { connection in
            let rows = try await connection.query("SELECT count(*)::bigint FROM baton_replay", logger: Self.quiet)
            for try await row in rows { return Int(try row.decode(Int64.self)) }
            return 0
        }
    }

    /// The stored expiry of `key`, expired or not; nil when there is no row: for tests and operators.
    public func expiry(of key: ReplayKey) async throws(ReplayStoreUnavailable) -> Int64? {
        let stored = StoredKey.make(key)
        return try await run("lookup") { connection in
            let rows = try await connection.query(
                PostgresQuery(unsafeSQL: "SELECT expires_at FROM baton_replay WHERE key = $1", binds: Self.binds(.text(stored))), logger: Self.quiet
            )
            var expiry: Int64?
            for try await row in rows { expiry = try row.decode(Int64.self) }
            return expiry
        }
    }

    public func prepare() async throws(ReplayStoreUnavailable) {
        _ = try await run("connect") { _ in true }
    }

    public func close() async {
        let wasClosed = closed.withLock { closed in
            defer { closed = true }
            return closed
        }
        guard !wasClosed else { return }
        runTask.cancel()
        await runTask.value
    }

    // MARK: - Running statements

    private static let quiet = Logger(label: "baton.replay.postgres.query", factory: { _ in SwiftLogNoOpLogHandler() })

    private enum Bind { case text(String), integer(Int64) }

    private static func binds(_ values: Bind...) -> PostgresBindings {
        var bindings = PostgresBindings(capacity: values.count)
        for value in values {
            switch value {
            case .text(let text): bindings.append(text)
            case .integer(let number): bindings.append(number)
            }
        }
        return bindings
    }

    /// Leases a connection, makes sure the table exists, runs `body`; all within `timeout`. Any failure,
    /// the deadline included, becomes `ReplayStoreUnavailable` (with a reason that names no secret).
    private func run<T: Sendable>(
        _ what: String, report: Bool = true, _ body: @escaping @Sendable (PostgresConnection) async throws -> T
    ) async throws(ReplayStoreUnavailable) -> T {
        guard !closed.withLock({ $0 }) else { throw ReplayStoreUnavailable("postgres \(url.redacted): the store is closed") }
        let leased = Locked<PostgresConnection?>(nil)
        do {
            let result = try await withDeadline(timeout, what: "postgres \(url.redacted)", onTimeout: {
                // A statement stuck on a dead connection would hold it for minutes: drop the connection.
                if let connection = leased.value { let _: EventLoopFuture<Void> = connection.close() }
            }) {
                try await self.client.withConnection { connection in
                    leased.value = connection
                    if !self.schemaReady.withLock({ $0 }) {
                        try await Self.createSchema(on: connection)
                        self.schemaReady.withLock { $0 = true }
                    }
                    return try await body(connection)
                }
            }
            if report { failures.recovered() }
            return result
        } catch {
            if let error = error as? PSQLError, error.serverInfo?[.sqlState] == "42P01" {
                // The table was dropped behind our back: create it again next time.
                schemaReady.withLock { $0 = false }
            }
            let reason = "postgres \(url.redacted): \(what) failed: \(Self.describe(error))"
            if report { failures.report(reason) }
            throw ReplayStoreUnavailable(reason)
        }
    }

    /// Creates the table unless it exists. Checking first means a role without CREATE rights works
    /// with a table an administrator made; the advisory lock serialises replicas that start together.
    private static func createSchema(on connection: PostgresConnection) async throws {
        let exists = try await connection.query("SELECT to_regclass('baton_replay') IS NOT NULL", logger: quiet)
        for try await row in exists {
            if try row.decode(Bool.self) { return }
        }
        _ = try await connection.query("BEGIN", logger: quiet)
        do {
            _ = try await connection.query("SELECT pg_advisory_xact_lock(\(schemaLockID))", logger: quiet)
            for statement in schemaSQL {
                _ = try await connection.query(PostgresQuery(unsafeSQL: statement), logger: quiet)
            }
            _ = try await connection.query("COMMIT", logger: quiet)
        } catch {
            _ = try? await connection.query("ROLLBACK", logger: quiet)
            throw error
        }
    }

    static func describe(_ error: any Error) -> String {
        if let error = error as? ReplayStoreUnavailable { return error.reason }
        if let error = error as? PSQLError {
            var parts = ["\(error.code)"]
            if let state = error.serverInfo?[.sqlState] { parts.append("SQLSTATE \(state)") }
            if let message = error.serverInfo?[.message] { parts.append(message) }
            if let underlying = error.underlying { parts.append("\(underlying)") }
            return parts.joined(separator: ": ")
        }
        if error is CancellationError { return "cancelled" }
        return "\(error)"
    }
}

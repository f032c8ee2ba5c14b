import Handlers
import ReplayStores
import Testing

@Suite("Choosing a replay store")
struct FactoryTests {
    @Test("automatic: memory for serve, an SQLite file per issuer in TMPDIR for invoke")
    func automatic() {
        #expect(ReplayStoreFactory.resolve(.automatic, adapter: .serve, issuer: "https://b", environment: [:]) == .memory)
        let path = ReplayStoreFactory.defaultSQLitePath(issuer: "https://b.baton.example", environment: [:])
        #expect(path.hasPrefix("/tmp/baton-replay-") && path.hasSuffix(".db"))
        #expect(path.count == "/tmp/baton-replay-".count + 16 + 3)
        #expect(ReplayStoreFactory.resolve(.automatic, adapter: .invoke, issuer: "https://b.baton.example", environment: [:]) == .sqlite(path: path))
        #expect(ReplayStoreFactory.defaultSQLitePath(issuer: "https://a.baton.example", environment: [:]) != path)
        #expect(ReplayStoreFactory.defaultSQLitePath(issuer: "x", environment: ["TMPDIR": "/var/tmp/"]).hasPrefix("/var/tmp/baton-replay-"))
        // An explicit setting is never replaced.
        #expect(ReplayStoreFactory.resolve(.memory, adapter: .invoke, issuer: "x", environment: [:]) == .memory)
    }

    @Test("invoke's default file syncs at checkpoints; a configured file syncs every claim")
    func durability() async throws {
        let directory = try TempDir()
        defer { directory.remove() }
        let issuer = "https://durability.baton.example"
        let environment = ["TMPDIR": directory.path]
        let automatic = try #require(
            try await ReplayStoreFactory.make(.automatic, adapter: .invoke, issuer: issuer, environment: environment) as? SQLiteReplayStore
        )
        let configured = try #require(
            try await ReplayStoreFactory.make(.sqlite(path: directory.file("configured.db")), adapter: .invoke, issuer: issuer) as? SQLiteReplayStore
        )
        let served = try #require(
            try await ReplayStoreFactory.make(.sqlite(path: directory.file("served.db")), adapter: .serve, issuer: issuer) as? SQLiteReplayStore
        )
        #expect(automatic.path == ReplayStoreFactory.defaultSQLitePath(issuer: issuer, environment: environment))
        #expect(automatic.durability == .checkpoints)
        #expect(configured.durability == .everyClaim)
        #expect(served.durability == .everyClaim)
        // What the connections were told, read back from SQLite: 1 is NORMAL, 2 FULL.
        #expect(try await automatic.synchronousLevel() == 1)
        #expect(try await configured.synchronousLevel() == 2)
        #expect(try await served.synchronousLevel() == 2)
        // Either way a spent key stays spent for the next connection to the file.
        let key = ReplayKey(purpose: .grantAssertion, issuer: issuer, jti: uniqueJTI())
        #expect(try await automatic.claim(key, expiresAt: 2_000_000_000, now: 1_000_000_000))
        await automatic.close()
        let reopened = try #require(
            try await ReplayStoreFactory.make(.automatic, adapter: .invoke, issuer: issuer, environment: environment) as? SQLiteReplayStore
        )
        #expect(try await !reopened.claim(key, expiresAt: 2_000_000_000, now: 1_000_000_000))
        for store in [reopened, configured, served] { await store.close() }
    }

    @Test("the factory builds each kind without connecting")
    func kinds() async throws {
        let memory = try await ReplayStoreFactory.make(.memory)
        #expect(memory is MemoryReplayStore)
        let sqlite = try await ReplayStoreFactory.make(.sqlite(path: "/nonexistent/dir/replay.db"))
        #expect(ReplayStoreFactory.describe(sqlite) == "sqlite:/nonexistent/dir/replay.db")
        let postgres = try await ReplayStoreFactory.make(.postgres(url: "postgres://baton:s3cret-pw@db.internal:6543/replay"))
        #expect(ReplayStoreFactory.describe(postgres) == "postgres://baton@db.internal:6543/replay")
        #expect(!ReplayStoreFactory.describe(postgres).contains("s3cret"))
        await ReplayStoreFactory.close(postgres)
        await ReplayStoreFactory.close(sqlite)
        await #expect(throws: ReplayStoreFactory.ConfigurationError.self) {
            _ = try await ReplayStoreFactory.make(.postgres(url: "postgres://u:pw@host:99999/db"))
        }
    }

    @Test("PostgreSQL URLs are read as libpq reads them; the password never appears in messages")
    func postgresURL() throws {
        let url = try PostgresURL("postgresql://baton%40svc:p%3Ass%2Fword@[::1]:6432/replay?sslmode=verify-full&connect_timeout=3")
        #expect(url.username == "baton@svc")
        #expect(url.password == "p:ss/word")
        #expect(url.host == "::1")
        #expect(url.port == 6432)
        #expect(url.database == "replay")
        #expect(url.sslMode == .verifyFull)
        #expect(url.connectTimeout == 3)
        #expect(url.redacted == "postgres://baton@svc@[::1]:6432/replay")
        #expect(!url.redacted.contains("word"))

        let defaults = try PostgresURL("postgres://db.internal", environment: ["PGUSER": "svc", "PGPASSWORD": "from-env"])
        #expect(defaults.username == "svc" && defaults.database == "svc" && defaults.port == 5432 && defaults.sslMode == .prefer)
        #expect(defaults.password == "from-env")
        #expect(!defaults.redacted.contains("from-env"))

        let socket = try PostgresURL("postgres://svc@/replay?host=/run/postgresql")
        #expect(socket.socketDirectory == "/run/postgresql")

        for bad in ["postgres://h:0/db", "postgres://h/db?sslmode=sometimes", "postgres://h/db?foo=1", "postgres://u:%zz@h/db", "mysql://h"] {
            #expect(throws: PostgresURL.ParseError.self, "\(bad)") { try PostgresURL(bad) }
        }
        do {
            _ = try PostgresURL("postgres://u:hunter2@h/db?sslmode=bogus")
        } catch {
            #expect(!error.description.contains("hunter2"))
        }
    }
}

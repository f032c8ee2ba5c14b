import Handlers
import KeyLoader
import ReplayStores

/// Builds the configured replay store for an adapter (see docs/replay-store.md).
enum ReplayStoreSetup {
    static func make(
        for domain: Domain, adapter: ReplayStoreFactory.Adapter, environment: [String: String]
    ) async throws -> any ReplayStore {
        do {
            return try await ReplayStoreFactory.make(
                domain.snapshot.replayStore, adapter: adapter, issuer: domain.snapshot.issuer, environment: environment
            )
        } catch {
            throw Fatal(error.description)
        }
    }

    /// `baton serve`: a store on this host (an SQLite file) must open now, or the server does not start;
    /// a PostgreSQL server may be down at start-up: Baton starts, answers token requests that need the
    /// store with 503 until the server is back, and says so once on stderr.
    static func prepareForServe(_ store: any ReplayStore) async throws {
        do {
            try await ReplayStoreFactory.prepare(store)
        } catch {
            if store is SQLiteReplayStore { throw Fatal("replay store: \(error.reason)") }
            StandardStreams.error("warning: \(error.reason); token requests fail with 503 until it is reachable")
        }
    }
}

import Crypto
import Handlers

/// Builds the replay store a `ReplayStoreSetting` names. Nothing here connects: SQLite opens its file
/// and PostgreSQL its pool on first use (or on `ManagedReplayStore.prepare()`).
public enum ReplayStoreFactory {
    /// Who runs the store; decides what `.automatic` means.
    public enum Adapter: Sendable {
        /// `baton serve`: one long-running process; `.automatic` is memory.
        case serve
        /// `baton invoke`: one process per event; `.automatic` is an SQLite file, see `defaultSQLitePath`.
        case invoke
    }

    public struct ConfigurationError: Error, CustomStringConvertible {
        public var description: String
    }

    /// - Parameters:
    ///   - issuer: the domain's issuer; names the default SQLite file.
    ///   - environment: `TMPDIR` for the default SQLite path; `PGPASSWORD`, `PGUSER` for PostgreSQL.
    public static func make(
        _ setting: ReplayStoreSetting, adapter: Adapter = .serve, issuer: String = "", environment: [String: String] = [:]
    ) async throws(ConfigurationError) -> any ReplayStore {
        switch resolve(setting, adapter: adapter, issuer: issuer, environment: environment) {
        case .memory, .automatic:
            return MemoryReplayStore()
        case .sqlite(let path):
            let isDefault = setting == .automatic
            let workload: SQLiteReplayStore.Workload = adapter == .invoke ? .oneEventPerProcess : .server
            // The default file is in the temporary directory: synced at checkpoints (see `Durability`).
            return SQLiteReplayStore(
                path: path, requireOwnFile: isDefault, workload: workload, durability: isDefault ? .checkpoints : .everyClaim
            )
        case .postgres(let text):
            do {
                return PostgresReplayStore(url: try PostgresURL(text, environment: environment))
            } catch {
                throw ConfigurationError(description: "replay store: \(error.description)")
            }
        }
    }

    /// The concrete setting `.automatic` stands for with this adapter.
    public static func resolve(
        _ setting: ReplayStoreSetting, adapter: Adapter, issuer: String, environment: [String: String]
    ) -> ReplayStoreSetting {
        guard setting == .automatic else { return setting }
        switch adapter {
        case .serve: return .memory
        case .invoke: return .sqlite(path: defaultSQLitePath(issuer: issuer, environment: environment))
        }
    }

    /// `$TMPDIR/baton-replay-<first 16 hex digits of SHA-256(issuer)>.db` (`/tmp` when `TMPDIR` is unset):
    /// one file per domain, shared by every `baton invoke` of that domain on the host.
    public static func defaultSQLitePath(issuer: String, environment: [String: String]) -> String {
        var directory = environment["TMPDIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
        while directory.count > 1, directory.hasSuffix("/") { directory.removeLast() }
        let digest = SHA256.hash(data: Array(issuer.utf8))
        let hex = digest.prefix(8).map { byte in
            let digits = Array("0123456789abcdef".utf8)
            return String(decoding: [digits[Int(byte >> 4)], digits[Int(byte & 0x0F)]], as: UTF8.self)
        }.joined()
        return "\(directory == "/" ? "" : directory)/baton-replay-\(hex).db"
    }

    /// Where the store keeps its entries, for start-up messages; never shows a password.
    public static func describe(_ store: any ReplayStore) -> String {
        switch store {
        case let store as SQLiteReplayStore: "sqlite:\(store.path)"
        case let store as PostgresReplayStore: store.url.redacted
        case is MemoryReplayStore: "memory:"
        default: "\(type(of: store))"
        }
    }

    /// Connects now (serve calls this at start-up). Memory stores have nothing to do.
    public static func prepare(_ store: any ReplayStore) async throws(ReplayStoreUnavailable) {
        if let store = managed(store) { try await store.prepare() }
    }

    /// Releases connections and files; call once when the process stops serving.
    public static func close(_ store: any ReplayStore) async {
        if let store = managed(store) { await store.close() }
    }

    /// The stores this module makes are told apart by type. A cast to a protocol scans every conformance
    /// record in the binary the first time, and a failing one also looks for Foundation's boxed values:
    /// 0.17 ms of a cold `baton invoke`, which closes its store once.
    static func managed(_ store: any ReplayStore) -> (any ManagedReplayStore)? {
        let type = type(of: store)
        if type == MemoryReplayStore.self { return nil }
        if type == SQLiteReplayStore.self { return store as! SQLiteReplayStore }
        if type == PostgresReplayStore.self { return store as! PostgresReplayStore }
        return store as? any ManagedReplayStore
    }
}

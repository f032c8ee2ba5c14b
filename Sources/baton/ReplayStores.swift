import Handlers

/// Builds the configured replay store.
enum ReplayStores {
    static func make(_ setting: ReplayStoreSetting) throws -> any ReplayStore {
        switch setting {
        case .memory:
            return MemoryReplayStore()
        case .sqlite, .postgres:
            throw Fatal("replay_store: only memory: is available in this build")
        }
    }
}

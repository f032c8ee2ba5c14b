import Synchronization

/// Single-process replay store. A mutex, not an actor: a claim is a few hash operations and an actor
/// hop would cost more than the work.
public final class MemoryReplayStore: ReplayStore {
    private struct State {
        var expiries: [ReplayKey: Int64] = [:]
        var nextPurge: Int64 = 0
    }

    private let state = Mutex(State())
    private let maxEntries: Int

    public init(maxEntries: Int = 1_000_000) {
        self.maxEntries = maxEntries
    }

    public func claim(_ key: ReplayKey, expiresAt: Int64, now: Int64) async throws(ReplayStoreUnavailable) -> Bool {
        let result: Bool? = state.withLock { state in
            // Purge at most once a second, amortised over the claims, so no background task is needed.
            if now >= state.nextPurge || state.expiries.count >= maxEntries {
                state.expiries = state.expiries.filter { $0.value > now }
                state.nextPurge = now + 1
            }
            if let expiry = state.expiries[key], expiry > now { return false }
            // Full of unexpired entries: refusing is safer than forgetting a live one.
            if state.expiries.count >= maxEntries { return nil }
            state.expiries[key] = expiresAt
            return true
        }
        guard let result else { throw ReplayStoreUnavailable("the in-memory replay store is full") }
        return result
    }

    public var count: Int { state.withLock { $0.expiries.count } }
}

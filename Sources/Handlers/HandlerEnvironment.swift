/// Everything a handler may not reach for itself: the time, fresh identifiers and the replay store.
/// Adapters build one per request; tests build one with a fixed clock.
public struct HandlerEnvironment: Sendable {
    /// Seconds since the Unix epoch.
    public var now: Int64
    /// Returns a fresh unpredictable identifier for `jti`.
    public var makeTokenID: @Sendable () -> String
    public var replayStore: any ReplayStore

    public init(now: Int64, makeTokenID: @escaping @Sendable () -> String, replayStore: any ReplayStore) {
        self.now = now
        self.makeTokenID = makeTokenID
        self.replayStore = replayStore
    }
}

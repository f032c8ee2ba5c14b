/// Spends a `jti` in the environment's replay store, failing closed.
enum SingleUse {
    /// Remembers the key until the token expires (plus skew, so a token accepted late is still covered),
    /// but never longer than the maximum lifetime allows, as Keycloak does.
    static func spend(
        _ key: ReplayKey, tokenExpiry: Int64, maxLifetime: Int64, skew: Int64, environment: HandlerEnvironment
    ) async throws(OAuthError) -> Bool {
        let expiresAt = min(tokenExpiry, environment.now + maxLifetime) + skew
        do {
            return try await environment.replayStore.claim(key, expiresAt: expiresAt, now: environment.now)
        } catch {
            // Fail closed: without the store Baton cannot tell a replay from a first use.
            throw OAuthError(.temporarilyUnavailable, "the replay store is unavailable; no token was issued, retry later")
        }
    }
}

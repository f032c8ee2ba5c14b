/// What a single-use key is for; part of the key so that two purposes never collide.
public enum ReplayPurpose: String, Sendable {
    case grantAssertion = "grant"
    case clientAssertion = "client"
}

/// A single-use key: purpose, issuer (or client) and the token's `jti`.
public struct ReplayKey: Sendable, Hashable {
    public var purpose: ReplayPurpose
    public var issuer: String
    public var jti: String

    public init(purpose: ReplayPurpose, issuer: String, jti: String) {
        self.purpose = purpose
        self.issuer = issuer
        self.jti = jti
    }

    /// One flat string for stores that index a single column. Lengths are prefixed so that no choice of
    /// issuer and jti can produce another pair's string.
    public var storageKey: String {
        "\(purpose.rawValue):\(issuer.utf8.count):\(issuer):\(jti)"
    }
}

/// The store could not answer; the grant must fail closed.
public struct ReplayStoreUnavailable: Error, Sendable {
    public var reason: String
    public init(_ reason: String) { self.reason = reason }
}

/// The only shared mutable state of a Baton domain: which single-use keys have been spent.
public protocol ReplayStore: Sendable {
    /// Claims `key` until `expiresAt` (Unix seconds). Returns true only for the first caller while the
    /// claim lasts; throws `ReplayStoreUnavailable` when it cannot tell.
    func claim(_ key: ReplayKey, expiresAt: Int64, now: Int64) async throws(ReplayStoreUnavailable) -> Bool
}

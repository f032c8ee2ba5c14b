import JOSE

/// One domain's configuration, decoded and validated once at start-up and never changed after.
/// KeyLoader builds it; handlers only read it.
public struct Snapshot: Sendable {
    public var issuer: String
    public var tokenEndpoint: String
    public var jwksURI: String
    public var tokenPolicy: TokenPolicy
    public var clients: [String: ClientConfig]
    public var trustedIssuers: [String: TrustedIssuer]
    public var exchangeTargets: [ExchangeTarget]
    public var replayStore: ReplayStoreSetting
    public var limits: Limits

    public init(
        issuer: String, tokenEndpoint: String? = nil, jwksURI: String? = nil, tokenPolicy: TokenPolicy,
        clients: [ClientConfig] = [], trustedIssuers: [TrustedIssuer] = [], exchangeTargets: [ExchangeTarget] = [],
        replayStore: ReplayStoreSetting = .memory, limits: Limits = Limits()
    ) {
        self.issuer = issuer
        let base = issuer.hasSuffix("/") ? String(issuer.dropLast()) : issuer
        self.tokenEndpoint = tokenEndpoint ?? base + "/token"
        self.jwksURI = jwksURI ?? base + "/jwks"
        self.tokenPolicy = tokenPolicy
        self.clients = Dictionary(clients.map { ($0.clientID, $0) }, uniquingKeysWith: { first, _ in first })
        self.trustedIssuers = Dictionary(trustedIssuers.map { ($0.issuer, $0) }, uniquingKeysWith: { first, _ in first })
        self.exchangeTargets = exchangeTargets
        self.replayStore = replayStore
        self.limits = limits
    }

    /// Grant types some client may use, in a stable order for metadata.
    public var enabledGrantTypes: [GrantType] {
        GrantType.allCases.filter { grant in clients.values.contains { $0.grantTypes.contains(grant) } }
    }
}

public struct TokenPolicy: Sendable {
    /// Lifetime of issued access tokens, seconds.
    public var accessTokenLifetime: Int64
    public var signingAlgorithm: JWSAlgorithm
    /// Default `aud` of access tokens; a client may override it.
    public var audience: [String]

    public init(accessTokenLifetime: Int64 = 300, signingAlgorithm: JWSAlgorithm = .es256, audience: [String]) {
        self.accessTokenLifetime = accessTokenLifetime
        self.signingAlgorithm = signingAlgorithm
        self.audience = audience
    }
}

/// Size bounds applied before any parsing.
public struct Limits: Sendable {
    public var maxBodyBytes: Int
    public var maxTokenBytes: Int

    public init(maxBodyBytes: Int = 64 * 1024, maxTokenBytes: Int = 16 * 1024) {
        self.maxBodyBytes = maxBodyBytes
        self.maxTokenBytes = maxTokenBytes
    }
}

public enum ReplayStoreSetting: Sendable, Equatable {
    /// Neither `replay_store` nor `BATON_REPLAY_STORE` is set: the adapter picks (`baton serve` keeps
    /// spent keys in memory, `baton invoke` in an SQLite file in the temporary directory).
    case automatic
    case memory
    case sqlite(path: String)
    case postgres(url: String)
}

public enum GrantType: String, Sendable, CaseIterable, Hashable {
    case clientCredentials = "client_credentials"
    case jwtBearer = "urn:ietf:params:oauth:grant-type:jwt-bearer"
    case tokenExchange = "urn:ietf:params:oauth:grant-type:token-exchange"

    /// By case, not by the long raw string the default for raw-value enums hashes: every token request
    /// looks its grant type up in the client's set.
    public func hash(into hasher: inout Hasher) {
        switch self {
        case .clientCredentials: hasher.combine(0)
        case .jwtBearer: hasher.combine(1)
        case .tokenExchange: hasher.combine(2)
        }
    }
}

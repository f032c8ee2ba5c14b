import JOSE

/// How a client proves who it is at the token endpoint; exactly one per client.
public enum ClientAuthMethod: String, Sendable, CaseIterable, Hashable {
    case clientSecretBasic = "client_secret_basic"
    case clientSecretPost = "client_secret_post"
    case privateKeyJWT = "private_key_jwt"
    case none = "none"
}

public struct ClientConfig: Sendable {
    public enum Credential: Sendable {
        case secret(SecretHash)
        case keys([VerificationKey])
        case none
    }

    public var clientID: String
    public var authMethod: ClientAuthMethod
    public var credential: Credential
    public var grantTypes: Set<GrantType>
    public var allowedScopes: Set<String>
    public var defaultScopes: [String]
    /// Trusted issuers whose assertions this client may redeem (Keycloak's "allowed identity providers").
    public var allowedIssuers: Set<String>
    /// Overrides the token policy's audience for this client's access tokens.
    public var accessTokenAudience: [String]?
    /// A public client may use jwt-bearer or token exchange only when this is set.
    public var allowUnauthenticatedGrants: Bool

    public init(
        clientID: String, authMethod: ClientAuthMethod, credential: Credential, grantTypes: Set<GrantType>,
        allowedScopes: Set<String> = [], defaultScopes: [String] = [], allowedIssuers: Set<String> = [],
        accessTokenAudience: [String]? = nil, allowUnauthenticatedGrants: Bool = false
    ) {
        self.clientID = clientID
        self.authMethod = authMethod
        self.credential = credential
        self.grantTypes = grantTypes
        self.allowedScopes = allowedScopes
        self.defaultScopes = defaultScopes
        self.allowedIssuers = allowedIssuers
        self.accessTokenAudience = accessTokenAudience
        self.allowUnauthenticatedGrants = allowUnauthenticatedGrants
    }

    public var isPublic: Bool { authMethod == .none }
}

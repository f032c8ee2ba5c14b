import JOSE

/// How a client proves who it is at the token endpoint; exactly one per client.
public enum ClientAuthMethod: String, Sendable, CaseIterable, Hashable {
    case clientSecretBasic = "client_secret_basic"
    case clientSecretPost = "client_secret_post"
    case privateKeyJWT = "private_key_jwt"
    case none = "none"
}

/// A registered client.
///
/// Like `TrustedIssuer`, its settings sit behind one shared, immutable reference: every request holds
/// its client from authentication to response, and setting a field copies the settings first.
@dynamicMemberLookup
public struct ClientConfig: Sendable {
    public enum Credential: Sendable {
        case secret(SecretHash)
        case keys([VerificationKey])
        case none
    }

    public struct Settings: Sendable {
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
    }

    private final class Storage: Sendable {
        let settings: Settings
        init(_ settings: Settings) { self.settings = settings }
    }

    private var storage: Storage

    public init(
        clientID: String, authMethod: ClientAuthMethod, credential: Credential, grantTypes: Set<GrantType>,
        allowedScopes: Set<String> = [], defaultScopes: [String] = [], allowedIssuers: Set<String> = [],
        accessTokenAudience: [String]? = nil, allowUnauthenticatedGrants: Bool = false
    ) {
        storage = Storage(Settings(
            clientID: clientID, authMethod: authMethod, credential: credential, grantTypes: grantTypes,
            allowedScopes: allowedScopes, defaultScopes: defaultScopes, allowedIssuers: allowedIssuers,
            accessTokenAudience: accessTokenAudience, allowUnauthenticatedGrants: allowUnauthenticatedGrants
        ))
    }

    public subscript<Value>(dynamicMember member: WritableKeyPath<Settings, Value>) -> Value {
        get { storage.settings[keyPath: member] }
        set {
            var settings = storage.settings
            settings[keyPath: member] = newValue
            storage = Storage(settings)
        }
    }

    public var isPublic: Bool { storage.settings.authMethod == .none }
}

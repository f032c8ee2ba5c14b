import JOSE

/// Another domain (or another audience of this one) that token exchange may aim at, and everything
/// that may cross to it.
public struct ExchangeTarget: Sendable {
    /// The kinds of token an exchange can produce (RFC 8693 3, identity chaining 2.3.3, ID-JAG 3).
    public enum TokenKind: String, Sendable, CaseIterable, Hashable {
        case jwt = "urn:ietf:params:oauth:token-type:jwt"
        case idJAG = "urn:ietf:params:oauth:token-type:id-jag"
        case accessToken = "urn:ietf:params:oauth:token-type:access_token"

        public var shortName: String {
            switch self {
            case .jwt: "jwt"
            case .idJAG: "id-jag"
            case .accessToken: "access_token"
            }
        }
    }

    public var name: String
    /// The `audience` parameter value that selects this target.
    public var audience: String?
    /// `resource` URIs that select this target.
    public var resources: [String]
    /// The target authorization server's issuer: the `aud` of chaining grants and ID-JAGs. For a local
    /// access-token target, the audience of the issued access token.
    public var issuer: String
    public var allowedClients: Set<String>
    /// Token kinds this target may receive; the first is the default when none is requested.
    public var tokenKinds: [TokenKind]
    public var lifetime: Int64
    public var subjectMapping: SubjectMapping
    public var claimRules: ClaimRules
    public var allowedScopes: Set<String>
    /// The client's identifier at the target authorization server, for the ID-JAG `client_id` claim.
    public var clientIDs: [String: String]

    public init(
        name: String, audience: String?, resources: [String], issuer: String, allowedClients: Set<String>,
        tokenKinds: [TokenKind], lifetime: Int64 = 60, subjectMapping: SubjectMapping = .passthrough,
        claimRules: ClaimRules = ClaimRules(), allowedScopes: Set<String> = [], clientIDs: [String: String] = [:]
    ) {
        self.name = name
        self.audience = audience
        self.resources = resources
        self.issuer = issuer
        self.allowedClients = allowedClients
        self.tokenKinds = tokenKinds
        self.lifetime = lifetime
        self.subjectMapping = subjectMapping
        self.claimRules = claimRules
        self.allowedScopes = allowedScopes
        self.clientIDs = clientIDs
    }
}

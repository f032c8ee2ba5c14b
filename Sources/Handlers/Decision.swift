/// What the token endpoint decided and about whom: one value per request, for audit records and metrics.
public struct Decision: Sendable {
    public enum Outcome: Sendable, Equatable {
        case issued
        case denied(OAuthError.Code, String)
    }

    public var grantType: String?
    public var clientID: String?
    public var subject: String?
    public var assertionIssuer: String?
    public var scopes: [String]
    public var audience: [String]
    public var tokenID: String?
    public var outcome: Outcome

    public init(
        grantType: String? = nil, clientID: String? = nil, subject: String? = nil, assertionIssuer: String? = nil,
        scopes: [String] = [], audience: [String] = [], tokenID: String? = nil, outcome: Outcome
    ) {
        self.grantType = grantType
        self.clientID = clientID
        self.subject = subject
        self.assertionIssuer = assertionIssuer
        self.scopes = scopes
        self.audience = audience
        self.tokenID = tokenID
        self.outcome = outcome
    }
}

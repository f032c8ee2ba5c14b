/// One grant type (RFC 6749 4, RFC 7523, RFC 8693). Each lives in its own file; the token endpoint picks
/// one by `grant_type` after the client has authenticated.
protocol Grant: Sendable {
    static var grantType: GrantType { get }
    static func issue(
        _ request: TokenRequest, client: ClientConfig, domain: Domain, environment: HandlerEnvironment
    ) async throws(OAuthError) -> IssuedToken
}

/// A successful grant: what goes into the response and what the decision record says.
public struct IssuedToken: Sendable {
    /// The compact JWS, as bytes: it goes into the response as it is (ASCII, never escaped).
    public var token: [UInt8]
    /// `Bearer` for access tokens, `N_A` for tokens that are not (RFC 8693 2.2.1).
    public var tokenType: String
    public var expiresIn: Int64
    public var scopes: [String]
    /// RFC 8693 `issued_token_type`; nil outside token exchange.
    public var issuedTokenType: String?
    public var subject: String
    public var audience: [String]
    public var tokenID: String
    /// The trusted issuer whose assertion or subject token the grant redeemed, if any.
    public var assertionIssuer: String?
}

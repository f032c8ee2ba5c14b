/// `client_credentials` (RFC 6749 4.4): a confidential client asks for a token about itself.
struct ClientCredentialsGrant: Grant {
    static let grantType = GrantType.clientCredentials

    static func issue(
        _ request: TokenRequest, client: ClientConfig, domain: Domain, environment: HandlerEnvironment
    ) async throws(OAuthError) -> IssuedToken {
        guard !client.isPublic else { throw .unauthorizedClient("public clients cannot use client_credentials") }
        let scopes = try ScopeRules.grant(
            requested: try ScopeRules.requested(request.form), defaults: client.defaultScopes, limit: client.allowedScopes
        )
        let audience = client.accessTokenAudience ?? domain.snapshot.tokenPolicy.audience
        let lifetime = domain.snapshot.tokenPolicy.accessTokenLifetime
        let minted = try AccessTokenMinter.mint(
            domain: domain, environment: environment, subject: client.clientID, clientID: client.clientID,
            audience: audience, scopes: scopes, expiresAt: environment.now + lifetime
        )
        return IssuedToken(
            token: minted.token, tokenType: "Bearer", expiresIn: lifetime, scopes: scopes, issuedTokenType: nil,
            subject: client.clientID, audience: audience, tokenID: minted.tokenID, assertionIssuer: nil
        )
    }
}

/// `urn:ietf:params:oauth:grant-type:jwt-bearer` (RFC 7523 2.1, 3): a trusted issuer's signed assertion
/// becomes an access token of this domain. Domain B's side of identity chaining.
struct JWTBearerGrant: Grant {
    static let grantType = GrantType.jwtBearer

    static func issue(
        _ request: TokenRequest, client: ClientConfig, domain: Domain, environment: HandlerEnvironment
    ) async throws(OAuthError) -> IssuedToken {
        guard let assertion = request.form["assertion"] else { throw .invalidRequest("the assertion parameter is required") }
        let requestedScopes = try ScopeRules.requested(request.form)

        let validated: ValidatedAssertion
        do {
            validated = try await TrustedAssertion(acceptedTypes: TrustedAssertion.plainJWTTypes, purpose: .grantAssertion)
                .validate(assertion, client: client, domain: domain, environment: environment)
        } catch {
            switch error {
            case .rejected(let message): throw .invalidGrant("assertion: \(message)")
            case .unavailable(let failure): throw failure
            }
        }

        var limits = [client.allowedScopes]
        if let issuerScopes = validated.issuer.allowedScopes { limits.append(issuerScopes) }
        if let assertionScopes = validated.scopes { limits.append(assertionScopes) }
        let scopes = try ScopeRules.grant(requested: requestedScopes, defaults: client.defaultScopes, limits: limits)

        let policy = domain.snapshot.tokenPolicy
        var expiresAt = environment.now + policy.accessTokenLifetime
        if validated.issuer.capTokenExpiryAtAssertion { expiresAt = min(expiresAt, validated.expiresAt) }
        // An assertion accepted within the clock skew may already be past its exp: never issue a token
        // that is born expired.
        guard expiresAt > environment.now else { throw .invalidGrant("assertion: the token expired") }

        let audience = client.accessTokenAudience ?? policy.audience
        let minted = try AccessTokenMinter.mint(
            domain: domain, environment: environment, subject: validated.localSubject, clientID: client.clientID,
            audience: audience, scopes: scopes, expiresAt: expiresAt,
            extraClaims: AccessTokenMinter.transcribe(validated.issuer.claimRules, from: validated.claims)
        )
        return IssuedToken(
            token: minted.token, tokenType: "Bearer", expiresIn: expiresAt - environment.now, scopes: scopes,
            issuedTokenType: nil, subject: validated.localSubject, audience: audience, tokenID: minted.tokenID,
            assertionIssuer: validated.issuer.issuer
        )
    }
}

import JOSE

/// `urn:ietf:params:oauth:grant-type:jwt-bearer` (RFC 7523 2.1, 3): a trusted issuer's signed assertion
/// becomes an access token of this domain. Domain B's side of identity chaining.
struct JWTBearerGrant: Grant {
    static let grantType = GrantType.jwtBearer

    static func issue(
        _ request: TokenRequest, client: ClientConfig, domain: Domain, environment: HandlerEnvironment
    ) async throws(OAuthError) -> IssuedToken {
        guard let assertion = request.form.bytes("assertion") else { throw .invalidRequest("the assertion parameter is required") }
        let requestedScopes = try ScopeRules.requested(request.form)

        // One parse decides the profile: an ID-JAG is recognised only by its `typ`, and a plain JWT is
        // never read as an ID-JAG or the other way round.
        let validated: ValidatedAssertion
        let isIDJAG: Bool
        do {
            let jws = try TrustedAssertion.parse(assertion, domain: domain)
            isIDJAG = CompactJWS.normalisedType(jws.type) == TokenTypeURI.idJAGHeaderType
            let rule = isIDJAG
                ? TrustedAssertion(acceptedTypes: TrustedAssertion.idJAGTypes, purpose: .grantAssertion,
                                   audiences: [domain.snapshot.issuer], requireSingleUse: true, profile: .idJAG)
                : TrustedAssertion(acceptedTypes: TrustedAssertion.plainJWTTypes, purpose: .grantAssertion, profile: .jwt)
            validated = try await rule.validate(jws, client: client, domain: domain, environment: environment)
        } catch {
            throw .invalidGrant("assertion: \(error.message)")
        }
        var audience = client.accessTokenAudience ?? domain.snapshot.tokenPolicy.audience
        if isIDJAG {
            // ID-JAG 5.1: the grant is bound to the client it was issued for at this server.
            let boundClient: String?
            do {
                boundClient = try Claims(validated.claims).string("client_id")
            } catch {
                throw .invalidGrant("assertion: \(error.message)")
            }
            guard boundClient == client.clientID else {
                throw .invalidGrant("assertion: the ID-JAG was issued for client \"\(CompactJWS.printable(boundClient ?? ""))\", not \"\(client.clientID)\"")
            }
            audience = try IDJAGResources.grant(requested: request.form.values("resource"), in: validated.claims) ?? audience
        } else if !request.form.values("resource").isEmpty {
            throw .invalidTarget("resource is only accepted with an ID-JAG that carries resources")
        }

        let scopes = try ScopeRules.grant(
            requested: requestedScopes, defaults: client.defaultScopes, limit: client.allowedScopes,
            validated.issuer.allowedScopes, validated.scopes
        )

        let policy = domain.snapshot.tokenPolicy
        var expiresAt = environment.now + policy.accessTokenLifetime
        if validated.issuer.capTokenExpiryAtAssertion { expiresAt = min(expiresAt, validated.expiresAt) }
        // An assertion accepted within the clock skew may already be past its exp: never issue a token
        // that is born expired.
        guard expiresAt > environment.now else { throw .invalidGrant("assertion: the token expired") }

        var extraClaims = AccessTokenMinter.transcribe(validated.issuer.claimRules, from: validated.claims)
        // Delegation recorded upstream stays visible downstream (RFC 8693 4.1), within the nesting bound.
        if let act = validated.claims["act"] {
            guard act.objectValue != nil, Delegation.depth(of: act) <= Delegation.maxDepth else {
                throw .invalidGrant("assertion: claim \"act\" must be an object nested at most \(Delegation.maxDepth) levels")
            }
            extraClaims.append(.init(name: "act", value: act))
        }
        if let pending = validated.pendingUse, !(try await pending.spend(environment)) {
            throw .invalidGrant("assertion: the token has already been used")
        }
        let minted = try AccessTokenMinter.mint(
            domain: domain, environment: environment, subject: validated.localSubject, clientID: client.clientID,
            audience: audience, scopes: scopes, expiresAt: expiresAt, extraClaims: extraClaims
        )
        return IssuedToken(
            token: minted.token, tokenType: "Bearer", expiresIn: expiresAt - environment.now, scopes: scopes,
            issuedTokenType: nil, subject: validated.localSubject, audience: audience, tokenID: minted.tokenID,
            assertionIssuer: validated.issuer.issuer
        )
    }
}

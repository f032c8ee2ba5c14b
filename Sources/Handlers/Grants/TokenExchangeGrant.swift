import JOSE

/// `urn:ietf:params:oauth:grant-type:token-exchange` (RFC 8693): domain A's side of identity chaining.
/// A subject token (ours or a trusted issuer's) becomes, for one configured target:
/// - a chaining grant (`jwt`): a JWT for the target's authorization server to redeem with jwt-bearer;
/// - an ID-JAG (`id-jag`): the same, typed `oauth-id-jag+jwt` and bound to the client's id there;
/// - an access token (`access_token`) of this domain for another of its audiences.
struct TokenExchangeGrant: Grant {
    static let grantType = GrantType.tokenExchange

    static func issue(
        _ request: TokenRequest, client: ClientConfig, domain: Domain, environment: HandlerEnvironment
    ) async throws(OAuthError) -> IssuedToken {
        let form = request.form
        guard let subjectToken = form.bytes("subject_token") else { throw .invalidRequest("the subject_token parameter is required") }
        guard let subjectType = form["subject_token_type"] else { throw .invalidRequest("the subject_token_type parameter is required") }
        let actorToken = form.bytes("actor_token")
        let actorType = form["actor_token_type"]
        if (actorToken == nil) != (actorType == nil) {
            throw .invalidRequest(actorToken == nil ? "actor_token_type was sent without actor_token" : "actor_token requires actor_token_type")
        }
        let (target, resources) = try ExchangeTargetResolver.resolve(form, client: client, domain: domain)
        let kind = try requestedKind(form["requested_token_type"], target: target)
        if kind == .idJAG, subjectType != TokenTypeURI.idToken {
            throw .invalidRequest("an ID-JAG is issued for an identity assertion: send subject_token_type \(TokenTypeURI.idToken)")
        }
        let requestedScopes = try ScopeRules.requested(form)

        let subject = try await SubjectTokenValidator.validate(
            subjectToken, type: subjectType, role: "subject_token", client: client, domain: domain, environment: environment
        )
        var actor: ValidatedSubjectToken?
        if let actorToken, let actorType {
            actor = try await SubjectTokenValidator.validate(
                actorToken, type: actorType, role: "actor_token", client: client, domain: domain, environment: environment
            )
        }
        let act = try Delegation.act(subject: subject, actor: actor)

        // Down-scoping: never more than the subject token carried, the client may ask for, and the target admits.
        var limits = [client.allowedScopes, target.allowedScopes]
        if let carried = subject.scopes { limits.append(carried) }
        if let issuerScopes = subject.issuerScopes { limits.append(issuerScopes) }
        let defaults = subject.scopes.map { Array($0).sorted() } ?? client.defaultScopes
        let scopes = try ScopeRules.grant(requested: requestedScopes, defaults: defaults, limits: limits)

        guard let targetSubject = target.subjectMapping.localSubject(for: subject.subject, issuer: domain.snapshot.issuer) else {
            throw .invalidRequest("subject_token: the subject has no identity at target \"\(target.name)\"")
        }
        // The issued token never outlives the token it was derived from.
        let expiresAt = min(environment.now + target.lifetime, subject.expiresAt)
        guard expiresAt > environment.now else { throw .invalidRequest("subject_token: the token has expired") }
        let transcribed = AccessTokenMinter.transcribe(target.claimRules, from: subject.claims)
        if let unmet = target.claimRules.firstUnmet(in: subject.claims) { throw .invalidRequest("subject_token: \(unmet)") }

        // Single-use subject and actor tokens are spent only now, after every other check passed.
        for (role, validated) in [("subject_token", Optional(subject)), ("actor_token", actor)] {
            guard let pending = validated?.pendingUse else { continue }
            guard try await pending.spend(environment) else { throw .invalidRequest("\(role): the token has already been used") }
        }

        let token: [UInt8]
        let tokenID: String
        let audience: [String]
        switch kind {
        case .accessToken:
            audience = [target.issuer]
            var extra = transcribed
            if let act { extra.append(.init(name: "act", value: act)) }
            let minted = try AccessTokenMinter.mint(
                domain: domain, environment: environment, subject: targetSubject, clientID: client.clientID,
                audience: audience, scopes: scopes, expiresAt: expiresAt, extraClaims: extra
            )
            token = minted.token
            tokenID = minted.tokenID
        case .jwt, .idJAG:
            audience = [target.issuer]
            tokenID = environment.makeTokenID()
            var claims = JSONWriter(capacity: 512)
            claims.beginObject()
            claims.member("iss", domain.snapshot.issuer)
            claims.member("sub", targetSubject)
            claims.member("aud", target.issuer)
            if kind == .idJAG { claims.member("client_id", target.clientIDs[client.clientID]!) }
            claims.member("jti", tokenID)
            claims.member("exp", expiresAt)
            claims.member("iat", environment.now)
            if !scopes.isEmpty { claims.member("scope", spaceSeparated: scopes) }
            if kind == .idJAG, !resources.isEmpty {
                if resources.count == 1 { claims.member("resource", resources[0]) } else { claims.member("resource", strings: resources) }
            }
            if let act { claims.member("act", act) }
            for member in transcribed { claims.member(named: member.name, member.value) }
            claims.endObject()
            token = try AccessTokenMinter.sign(
                domain: domain, type: kind == .idJAG ? TokenTypeURI.idJAGHeaderType : "JWT", payload: claims.bytes
            )
        }
        return IssuedToken(
            token: token, tokenType: kind == .accessToken ? "Bearer" : "N_A", expiresIn: expiresAt - environment.now,
            scopes: scopes, issuedTokenType: kind.rawValue, subject: targetSubject, audience: audience, tokenID: tokenID,
            assertionIssuer: subject.origin == .own ? nil : subject.issuer
        )
    }

    /// `requested_token_type`: absent means the target's default (its first kind). A type Baton does not
    /// issue at all is `invalid_request`; one it issues but not for this target is `invalid_target`.
    static func requestedKind(_ requested: String?, target: ExchangeTarget) throws(OAuthError) -> ExchangeTarget.TokenKind {
        guard let requested else { return target.tokenKinds[0] }
        guard let kind = ExchangeTarget.TokenKind(rawValue: requested) else {
            throw .invalidRequest("requested_token_type \"\(CompactJWS.printable(requested))\" is not supported")
        }
        guard target.tokenKinds.contains(kind) else {
            throw .invalidTarget("target \"\(target.name)\" does not accept \(kind.shortName) tokens")
        }
        return kind
    }
}

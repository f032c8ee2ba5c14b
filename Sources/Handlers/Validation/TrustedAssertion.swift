import JOSE

/// Why a token from a trusted issuer was not accepted. Grants turn it into their own error code
/// (`invalid_grant` for jwt-bearer, `invalid_request` for token exchange).
struct AssertionFailure: Error {
    var message: String
    init(_ message: String) { self.message = message }
}

/// A token from a trusted issuer that passed every check.
struct ValidatedAssertion: Sendable {
    var issuer: TrustedIssuer
    var claims: JSONObject
    var foreignSubject: String
    var localSubject: String
    var expiresAt: Int64
    /// The token's own `scope`, when it carries one: it bounds what may be granted from it.
    var scopes: Set<String>?
    /// The `jti` to spend once the grant has made every other check; nil when the issuer allows reuse.
    var pendingUse: PendingUse?
}

/// A single-use key not spent yet. Grants spend it as their last check before signing, so that a token
/// refused for any other reason (scope, client binding, target) can be corrected and sent again.
struct PendingUse: Sendable {
    var key: ReplayKey
    var tokenExpiry: Int64
    var maxLifetime: Int64
    var skew: Int64

    /// True when this was the first use; throws 503 when the store cannot tell (fail closed).
    func spend(_ environment: HandlerEnvironment) async throws(OAuthError) -> Bool {
        try await SingleUse.spend(key, tokenExpiry: tokenExpiry, maxLifetime: maxLifetime, skew: skew, environment: environment)
    }
}

/// Validates a JWT against the trusted issuer it names, with that issuer's keys and policy only
/// (checklist B and J). The order is: structure, `typ`, issuer, client permission, signature, then
/// claims. The `jti` is not spent here: the grant spends it (`PendingUse`) after its own checks, so that
/// a refused token never burns it.
struct TrustedAssertion {
    /// Which `typ` header values this slot accepts; `nil` means "no typ header". A list, not a set: it
    /// holds one or two values, and comparing them costs less than hashing one.
    var acceptedTypes: [String?]
    var purpose: ReplayPurpose
    /// Overrides the issuer's accepted audiences (ID-JAG: this server's issuer only).
    var audiences: [String]?
    /// Forces single use even where the issuer allows `jti` reuse (ID-JAGs are always single use).
    var requireSingleUse = false
    /// The grant profile this token is presented as, checked against the issuer's `grant_profiles`;
    /// nil for subject and actor tokens, which are not grants.
    var profile: TrustedIssuer.GrantProfile?

    static let plainJWTTypes: [String?] = [nil, "jwt"]
    static let idJAGTypes: [String?] = [TokenTypeURI.idJAGHeaderType]

    static func parse(_ token: ArraySlice<UInt8>, domain: Domain) throws(AssertionFailure) -> UnverifiedJWS {
        do {
            return try CompactJWS.parse(token, maxLength: domain.snapshot.limits.maxTokenBytes)
        } catch {
            throw AssertionFailure(error.description)
        }
    }

    func validate(
        _ token: ArraySlice<UInt8>, client: ClientConfig, domain: Domain, environment: HandlerEnvironment
    ) async throws(AssertionFailure) -> ValidatedAssertion {
        try await validate(try Self.parse(token, domain: domain), client: client, domain: domain, environment: environment)
    }

    func validate(
        _ jws: UnverifiedJWS, client: ClientConfig, domain: Domain, environment: HandlerEnvironment
    ) async throws(AssertionFailure) -> ValidatedAssertion {
        guard acceptedTypes.contains(CompactJWS.normalisedType(jws.type)) else {
            throw AssertionFailure(jws.type.map { "a token of type \"\(CompactJWS.printable($0))\" is not accepted here" } ?? "the token has no \"typ\" header")
        }
        let claims = Claims(jws.claims)
        do {
            let issuerName = try claims.requiredString("iss")
            guard let issuer = domain.snapshot.trustedIssuers[issuerName] else {
                throw ClaimProblem("issuer \"\(CompactJWS.printable(issuerName))\" is not trusted")
            }
            if let profile, !issuer.grantProfiles.contains(profile) {
                throw ClaimProblem(profile == .jwt
                    ? "issuer \"\(issuerName)\" may only present ID-JAGs (typ \(TokenTypeURI.idJAGHeaderType))"
                    : "issuer \"\(issuerName)\" may not present ID-JAGs")
            }
            guard client.allowedIssuers.contains(issuerName) else {
                throw ClaimProblem("client \"\(client.clientID)\" may not present tokens from issuer \"\(CompactJWS.printable(issuerName))\"")
            }
            do {
                _ = try jws.verify(with: issuer.keys, allowedAlgorithms: issuer.allowedAlgorithms)
            } catch {
                throw ClaimProblem(error.description)
            }
            let subject = try claims.requiredString("sub")
            let audience = try claims.audiences()
            guard audience.count == 1 else {
                throw ClaimProblem(audience.isEmpty ? "claim \"aud\" is empty" : "claim \"aud\" must hold exactly one audience")
            }
            guard (audiences ?? issuer.audiences).contains(audience[0]) else {
                throw ClaimProblem("audience \"\(CompactJWS.printable(audience[0]))\" does not identify this server")
            }
            let rules = TimeRules(maxLifetime: issuer.maxAssertionLifetime, skew: issuer.clockSkew)
            let exp = try rules.check(claims, now: environment.now)
            if let unmet = issuer.claimRules.firstUnmet(in: jws.claims) { throw ClaimProblem(unmet) }
            if let pattern = issuer.subjectPattern, !pattern.matches(subject) {
                throw ClaimProblem("subject is not allowed for issuer \"\(issuerName)\"")
            }
            guard let localSubject = issuer.subjectMapping.localSubject(for: subject, issuer: issuerName) else {
                throw ClaimProblem("subject is not linked to an account of this domain")
            }
            let scopes = try claims.scopes()
            var jti = try claims.string("jti")
            if jti?.isEmpty == true { jti = nil }
            var pendingUse: PendingUse?
            if !issuer.allowJTIReuse || requireSingleUse {
                guard let jti else { throw ClaimProblem("claim \"jti\" is required: this issuer's tokens are single use") }
                pendingUse = PendingUse(
                    key: ReplayKey(purpose: purpose, issuer: issuerName, jti: jti), tokenExpiry: exp,
                    maxLifetime: issuer.maxAssertionLifetime, skew: issuer.clockSkew
                )
            }
            return ValidatedAssertion(
                issuer: issuer, claims: jws.claims, foreignSubject: subject, localSubject: localSubject,
                expiresAt: exp, scopes: scopes, pendingUse: pendingUse
            )
        } catch let problem as ClaimProblem {
            throw AssertionFailure(problem.message)
        } catch {
            throw AssertionFailure("the token could not be validated")
        }
    }
}

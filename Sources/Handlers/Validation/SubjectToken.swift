import JOSE

/// A subject or actor token after validation according to its stated type (RFC 8693 2.1).
struct ValidatedSubjectToken: Sendable {
    enum Origin: Sendable, Equatable {
        /// An access token this domain issued.
        case own
        /// A token from a trusted issuer, with that issuer's name.
        case trusted(String)
    }

    var origin: Origin
    /// The subject as this domain knows it (own tokens: as issued; trusted tokens: after mapping).
    var subject: String
    /// The `sub` as the token states it, which `may_act` and `act` refer to.
    var rawSubject: String
    var issuer: String
    var claims: JSONObject
    var expiresAt: Int64
    /// Scopes the token carries; nil when the token type has no scope semantics (ID tokens).
    var scopes: Set<String>?
    /// The trusted issuer's scope limit (its `scopes`), applied when exchanging its tokens.
    var issuerScopes: Set<String>?
    /// The `jti` to spend when the exchange succeeds (trusted tokens that are single use).
    var pendingUse: PendingUse?
}

/// Validates `subject_token` / `actor_token` by `*_token_type`, with explicit `typ` checks so that a
/// token is only ever accepted in its own slot:
/// - `access_token`: an access token of this domain (`typ: at+jwt`, our issuer, our keys). The
///   requesting client must be one of its audiences or the client it was issued to.
/// - `jwt`: a JWT (`typ` absent or `JWT`) from a trusted issuer, under that issuer's jwt-bearer rules:
///   `aud` identifies this server, lifetime bounds, `jti` single use.
/// - `id_token`: an ID token from a trusted issuer whose `aud` is the requesting client (ID-JAG 4.3).
enum SubjectTokenValidator {
    static func validate(
        _ token: ArraySlice<UInt8>, type: String, role: String, client: ClientConfig, domain: Domain, environment: HandlerEnvironment
    ) async throws(OAuthError) -> ValidatedSubjectToken {
        switch type {
        case TokenTypeURI.accessToken:
            return try ownAccessToken(token, role: role, client: client, domain: domain, environment: environment)
        case TokenTypeURI.jwt, TokenTypeURI.idToken:
            let isIDToken = type == TokenTypeURI.idToken
            let rule = TrustedAssertion(
                acceptedTypes: TrustedAssertion.plainJWTTypes, purpose: .grantAssertion,
                audiences: isIDToken ? [client.clientID] : nil
            )
            do {
                let validated = try await rule.validate(token, client: client, domain: domain, environment: environment)
                return ValidatedSubjectToken(
                    origin: .trusted(validated.issuer.issuer), subject: validated.localSubject, rawSubject: validated.foreignSubject,
                    issuer: validated.issuer.issuer, claims: validated.claims, expiresAt: validated.expiresAt,
                    scopes: isIDToken ? nil : validated.scopes, issuerScopes: validated.issuer.allowedScopes,
                    pendingUse: validated.pendingUse
                )
            } catch {
                throw .invalidRequest("\(role): \(error.message)")
            }
        case TokenTypeURI.refreshToken, TokenTypeURI.saml2, TokenTypeURI.idJAG:
            throw .invalidRequest("\(role)_type \(type) is not accepted")
        default:
            throw .invalidRequest("\(role)_type \"\(CompactJWS.printable(type))\" is not a supported token type")
        }
    }

    static func ownAccessToken(
        _ token: ArraySlice<UInt8>, role: String, client: ClientConfig, domain: Domain, environment: HandlerEnvironment
    ) throws(OAuthError) -> ValidatedSubjectToken {
        do {
            let jws = try CompactJWS.parse(token, maxLength: domain.snapshot.limits.maxTokenBytes)
            guard CompactJWS.typeMatches(jws.type, AccessTokenMinter.type) else {
                throw ClaimProblem("not an access token of this domain (\"typ\" must be at+jwt)")
            }
            let claims = Claims(jws.claims)
            guard try claims.requiredString("iss") == domain.snapshot.issuer else {
                throw ClaimProblem("not issued by this domain; send tokens of other issuers as \(TokenTypeURI.jwt)")
            }
            do {
                _ = try jws.verify(with: domain.keys.published, allowedAlgorithms: Set(domain.keys.published.map(\.algorithm)))
            } catch {
                throw ClaimProblem(error.description)
            }
            // We signed it, so its own exp is authoritative; the bound only has to cover every lifetime
            // this domain issues (token policy and exchange targets).
            let longest = domain.snapshot.exchangeTargets.map(\.lifetime).reduce(domain.snapshot.tokenPolicy.accessTokenLifetime, max)
            let exp = try TimeRules(maxLifetime: longest, skew: 5).check(claims, now: environment.now)
            let subject = try claims.requiredString("sub")
            let issuedTo = try claims.string("client_id")
            // Keycloak's rule: a client may exchange a token issued to it, or one that names it as audience.
            let audiences = try claims.audiences()
            guard issuedTo == client.clientID || audiences.contains(client.clientID) else {
                throw ClaimProblem("client \"\(client.clientID)\" is neither the token's client nor one of its audiences")
            }
            return ValidatedSubjectToken(
                origin: .own, subject: subject, rawSubject: subject, issuer: domain.snapshot.issuer, claims: jws.claims,
                expiresAt: exp, scopes: try claims.scopes() ?? [], issuerScopes: nil, pendingUse: nil
            )
        } catch let problem as ClaimProblem {
            throw .invalidRequest("\(role): \(problem.message)")
        } catch let error as JWSError {
            throw .invalidRequest("\(role): \(error.description)")
        } catch {
            throw .invalidRequest("\(role): the token could not be validated")
        }
    }
}

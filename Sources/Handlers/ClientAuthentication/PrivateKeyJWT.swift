import JOSE

/// `private_key_jwt` (RFC 7523 2.2, 3): the client signs an assertion with a key registered in the
/// snapshot. `iss` = `sub` = client_id; `aud` is this server's issuer or its token endpoint URL, as a
/// single value; `exp` within five minutes; `jti` single use.
struct PrivateKeyJWT: ClientAuthenticationMethod {
    static let method = ClientAuthMethod.privateKeyJWT
    static let assertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
    static let maxLifetime: Int64 = 300
    static let skew: Int64 = 30
    /// `typ` values a client assertion may carry; any other type is a different kind of token.
    static let acceptedTypes: Set<String> = ["jwt", "client-authentication+jwt"]

    static func isPresent(in request: TokenRequest) -> Bool {
        request.form.contains("client_assertion") || request.form.contains("client_assertion_type")
    }

    static func authenticate(
        _ request: TokenRequest, domain: Domain, environment: HandlerEnvironment
    ) async throws(OAuthError) -> ClientConfig {
        guard let type = request.form["client_assertion_type"] else { throw .invalidRequest("client_assertion requires client_assertion_type") }
        guard type == assertionType else { throw .invalidClient("unsupported client_assertion_type") }
        guard let assertion = request.form.bytes("client_assertion") else { throw .invalidRequest("client_assertion_type requires client_assertion") }

        let jws: UnverifiedJWS
        do {
            jws = try CompactJWS.parse(assertion, maxLength: domain.snapshot.limits.maxTokenBytes)
        } catch {
            throw .invalidClient("client assertion: \(error.description)")
        }
        if let typ = jws.type, !acceptedTypes.contains(where: { CompactJWS.typeMatches(typ, $0) }) {
            throw .invalidClient("client assertion: \"typ\" \(CompactJWS.printable(typ)) is not a client assertion type")
        }
        let claims = Claims(jws.claims)
        do {
            let issuer = try claims.requiredString("iss")
            let subject = try claims.requiredString("sub")
            guard issuer == subject else { throw ClaimProblem("\"iss\" and \"sub\" must both be the client_id") }
            guard let client = domain.snapshot.clients[issuer], case .keys(let keys) = client.credential else {
                throw ClaimProblem("client \"\(CompactJWS.printable(issuer))\" is not registered for private_key_jwt")
            }
            do {
                _ = try jws.verify(with: keys, allowedAlgorithms: Set(keys.map(\.algorithm)))
            } catch {
                throw ClaimProblem(error.description)
            }
            let audiences = try claims.audiences()
            guard audiences.count == 1 else { throw ClaimProblem("\"aud\" must be a single value") }
            guard audiences[0] == domain.snapshot.issuer || audiences[0] == domain.snapshot.tokenEndpoint else {
                throw ClaimProblem("\"aud\" must be this server's issuer or token endpoint")
            }
            let exp = try TimeRules(maxLifetime: maxLifetime, skew: skew).check(claims, now: environment.now)
            let jti = try claims.requiredString("jti")
            let key = ReplayKey(purpose: .clientAssertion, issuer: client.clientID, jti: jti)
            guard try await SingleUse.spend(key, tokenExpiry: exp, maxLifetime: maxLifetime, skew: skew, environment: environment) else {
                throw ClaimProblem("the client assertion has already been used")
            }
            return client
        } catch let problem as ClaimProblem {
            throw .invalidClient("client assertion: \(problem.message)")
        } catch let error as OAuthError {
            throw error
        } catch {
            throw OAuthError(.serverError, "unexpected error")
        }
    }
}

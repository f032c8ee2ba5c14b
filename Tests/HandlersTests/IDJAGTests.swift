import Handlers
import JOSE
import Testing

/// ID-JAG issuance (token exchange at the IdP) and redemption (jwt-bearer at the resource AS).
@Suite struct IDJAGTests {
    func idToken(aud: String = "app", jti: String = "id-1", extra: [(String, JSONValue?)] = []) -> String {
        assertion(aud: .string(aud), jti: jti, extra: [("email", .string("alice@example.com"))] + extra)
    }

    func issue(_ call: TokenCall, subject: String, type: String = idTokenType, extra: [(String, String)] = []) async -> Result {
        await call.post([("grant_type", tokenExchange), ("subject_token", subject), ("subject_token_type", type),
                         ("requested_token_type", idJAGType), ("audience", "https://partner.example")] + extra)
    }

    @Test func issuesAnIDJAG() async {
        let call = TokenCall(exchangeDomain())
        let result = await issue(call, subject: idToken(), extra: [("scope", "read"), ("resource", "https://api.partner.example")])
        #expect(result.response.status == 200, "\(result.description)")
        #expect(result.json["issued_token_type"]?.stringValue == idJAGType)
        #expect(result.json["token_type"]?.stringValue == "N_A")
        let jws = try! CompactJWS.parse(result.accessToken!)
        #expect(jws.type == "oauth-id-jag+jwt")
        #expect(jws.claims["aud"]?.stringValue == "https://partner.example")
        #expect(jws.claims["client_id"]?.stringValue == "app-at-partner")
        #expect(jws.claims["sub"]?.stringValue == "alice")
        #expect(jws.claims["scope"]?.stringValue == "read")
        #expect(jws.claims["resource"]?.stringValue == "https://api.partner.example")
        for claim in ["iss", "jti", "exp", "iat"] { #expect(jws.claims[claim] != nil, "\(claim)") }
    }

    @Test func idJAGNeedsAnIdentityAssertionForTheClient() async {
        let call = TokenCall(exchangeDomain())
        let own = await ownAccessToken(call)
        expectError(await issue(call, subject: own, type: accessTokenType), "invalid_request", "id_token")
        expectError(await issue(call, subject: idToken(aud: "someone-else")), "invalid_request", "audience")
    }

    // Redemption: domain "b.example" trusts the IdP; the IdP's ID-JAG is bound to client "app".
    func idJAG(aud: JSONValue = .string(domainIssuer), clientID: String? = "app", type: String = "oauth-id-jag+jwt", jti: String = "jag-1",
               extra: [(String, JSONValue?)] = []) -> String {
        assertion(type: type, aud: aud, jti: jti, extra: [("client_id", clientID.map { .string($0) }), ("scope", .string("read profile"))] + extra)
    }

    @Test func redeemsAnIDJAG() async {
        let call = TokenCall(TestDomainBuilder().build())
        let result = await call.jwtBearer(idJAG(), scope: "read")
        #expect(result.response.status == 200, "\(result.description)")
        #expect(result.json["scope"]?.stringValue == "read")
        #expect(result.json["refresh_token"] == nil)
        #expect(result.tokenClaims["sub"]?.stringValue == "alice")
        // One-element array audience is accepted too.
        #expect(await call.jwtBearer(idJAG(aud: .array([.string(domainIssuer)]), jti: "jag-2")).response.status == 200)
    }

    @Test func idJAGAudienceMustBeTheIssuerNotTheTokenEndpoint() async {
        let call = TokenCall(TestDomainBuilder().build())
        expectError(await call.jwtBearer(idJAG(aud: .string(domainIssuer + "/token"))), "invalid_grant", "does not identify this server")
    }

    @Test func clientIDMustMatch() async {
        let call = TokenCall(TestDomainBuilder().build())
        expectError(await call.jwtBearer(idJAG(clientID: "poster")), "invalid_grant", "issued for client \"poster\"")
        expectError(await call.jwtBearer(idJAG(clientID: nil, jti: "jag-3")), "invalid_grant", "issued for client")
    }

    @Test func aRefusedIDJAGIsNotSpent() async {
        // Refused for its client binding and for scope: the jti is still fresh for the right request.
        let call = TokenCall(TestDomainBuilder().build())
        let token = idJAG(jti: "retry")
        expectError(await call.jwtBearer(token, headers: [basic("poster", clientSecret)]), "invalid_client", nil, status: 401)
        expectError(await call.jwtBearer(token, scope: "write"), "invalid_scope")
        let wrongClient = await call.post([("grant_type", jwtBearer), ("assertion", token), ("client_id", "poster"), ("client_secret", clientSecret)], headers: [])
        expectError(wrongClient, "invalid_grant", "issued for client \"app\"")
        #expect(await call.jwtBearer(token, scope: "read").response.status == 200)
        expectError(await call.jwtBearer(token), "invalid_grant", "already been used")
    }

    @Test func idJAGIsAlwaysSingleUse() async {
        var builder = TestDomainBuilder()
        builder.updateIssuer(idpIssuer) { $0.allowJTIReuse = true }
        let call = TokenCall(builder.build())
        let token = idJAG()
        #expect(await call.jwtBearer(token).response.status == 200)
        expectError(await call.jwtBearer(token), "invalid_grant", "already been used")
    }

    @Test func scopeAndResourceSubsets() async {
        let call = TokenCall(TestDomainBuilder().build())
        expectError(await call.jwtBearer(idJAG(jti: "s1"), scope: "write"), "invalid_scope")
        let withResource = idJAG(jti: "s2", extra: [("resource", .string("https://api.b.example/orders"))])
        let ok = await call.post([("grant_type", jwtBearer), ("assertion", withResource), ("resource", "https://api.b.example/orders")])
        #expect(ok.response.status == 200, "\(ok.description)")
        #expect(ok.tokenClaims["aud"]?.stringValue == "https://api.b.example/orders")
        let other = idJAG(jti: "s3", extra: [("resource", .string("https://api.b.example/orders"))])
        expectError(await call.post([("grant_type", jwtBearer), ("assertion", other), ("resource", "https://api.b.example/admin")]), "invalid_target", "not granted")
    }

    @Test func plainJWTIsNeverAnIDJAGAndViceVersa() async {
        var builder = TestDomainBuilder()
        builder.updateIssuer(idpIssuer) { $0.grantProfiles = [.idJAG] }
        let jagOnly = TokenCall(builder.build())
        // An ID-JAG without its typ is a plain JWT, which this issuer may not present.
        expectError(await jagOnly.jwtBearer(idJAG(type: "JWT")), "invalid_grant", "may only present ID-JAGs")
        var plain = TestDomainBuilder()
        plain.updateIssuer(idpIssuer) { $0.grantProfiles = [.jwt] }
        expectError(await TokenCall(plain.build()).jwtBearer(idJAG()), "invalid_grant", "may not present ID-JAGs")
        // A plain JWT accepted as a grant does not get ID-JAG semantics: its client_id claim is not trusted
        // as a binding, and no resource is accepted.
        let domain = TestDomainBuilder().build()
        let plainGrant = await TokenCall(domain).post([("grant_type", jwtBearer), ("assertion", idJAG(type: "JWT", jti: "p")), ("resource", "https://x.example")])
        expectError(plainGrant, "invalid_target", "only accepted with an ID-JAG")
    }
}

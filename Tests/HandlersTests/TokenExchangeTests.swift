import Handlers
import JOSE
import Testing

let accessTokenType = "urn:ietf:params:oauth:token-type:access_token"
let jwtType = "urn:ietf:params:oauth:token-type:jwt"
let idTokenType = "urn:ietf:params:oauth:token-type:id_token"
let idJAGType = "urn:ietf:params:oauth:token-type:id-jag"

func exchangeDomain(_ change: (inout TestDomainBuilder) -> Void = { _ in }) -> Domain {
    var builder = TestDomainBuilder()
    builder.targets = [
        ExchangeTarget(
            name: "partner", audience: "https://partner.example", resources: ["https://api.partner.example"],
            issuer: "https://partner.example", allowedClients: ["app"], tokenKinds: [.jwt, .idJAG], lifetime: 60,
            claimRules: ClaimRules(copied: [ClaimCopy(from: "email")]), allowedScopes: ["read", "profile"],
            clientIDs: ["app": "app-at-partner"]
        ),
        ExchangeTarget(
            name: "local-api", audience: "https://api2.b.example", resources: [], issuer: "https://api2.b.example",
            allowedClients: ["app"], tokenKinds: [.accessToken], allowedScopes: ["read"]
        ),
        ExchangeTarget(
            name: "poster-only", audience: "https://poster-target.example", resources: [], issuer: "https://poster-target.example",
            allowedClients: ["poster"], tokenKinds: [.jwt], allowedScopes: ["read"]
        ),
    ]
    builder.updateIssuer(idpIssuer) { $0.claimRules = ClaimRules(copied: [ClaimCopy(from: "email")]) }
    change(&builder)
    return builder.build()
}

/// An access token of the domain itself, obtained through its own jwt-bearer grant.
func ownAccessToken(_ call: TokenCall, sub: String = "alice", scope: String = "read profile", jti: String = "own", extra: [(String, JSONValue?)] = []) async -> String {
    let result = await call.jwtBearer(
        assertion(sub: sub, jti: jti, extra: [("email", .string("\(sub)@example.com"))] + extra), scope: scope
    )
    return result.accessToken!
}

@Suite struct TokenExchangeTests {
    func exchange(_ call: TokenCall, subject: String, type: String = accessTokenType, extra: [(String, String)], client: (String, String) = basic("app", clientSecret)) async -> Result {
        await call.post([("grant_type", tokenExchange), ("subject_token", subject), ("subject_token_type", type)] + extra, headers: [client])
    }

    @Test func chainingGrantForAnotherDomain() async {
        let call = TokenCall(exchangeDomain())
        let subject = await ownAccessToken(call)
        let result = await exchange(call, subject: subject, extra: [("audience", "https://partner.example"), ("requested_token_type", jwtType), ("scope", "read")])
        #expect(result.response.status == 200, "\(result.description)")
        #expect(result.json["issued_token_type"]?.stringValue == jwtType)
        #expect(result.json["token_type"]?.stringValue == "N_A")
        #expect(result.json["expires_in"]?.numberValue == 60)
        #expect(result.json["refresh_token"] == nil)
        let jws = try! CompactJWS.parse(result.accessToken!)
        _ = try! jws.verify(with: [TestKeys.domainSigner.verificationKey], allowedAlgorithms: [.es256])
        #expect(jws.type == "JWT")
        #expect(jws.claims["aud"]?.stringValue == "https://partner.example", "a single audience: the target's issuer")
        #expect(jws.claims["iss"]?.stringValue == domainIssuer)
        #expect(jws.claims["sub"]?.stringValue == "alice")
        #expect(jws.claims["scope"]?.stringValue == "read")
        #expect(jws.claims["email"]?.stringValue == "alice@example.com")
        #expect(jws.claims["jti"]?.stringValue != nil)
    }

    @Test func defaultTokenTypeIsTheTargetsFirst() async {
        let call = TokenCall(exchangeDomain())
        let subject = await ownAccessToken(call)
        let result = await exchange(call, subject: subject, extra: [("resource", "https://api.partner.example")])
        #expect(result.json["issued_token_type"]?.stringValue == jwtType)
        #expect(result.json["scope"]?.stringValue == "profile read", "no scope requested: what the subject carried, within limits")
    }

    @Test func localAccessTokenForAnotherAudience() async {
        let call = TokenCall(exchangeDomain())
        let subject = await ownAccessToken(call)
        let result = await exchange(call, subject: subject, extra: [("audience", "https://api2.b.example"), ("scope", "read")])
        #expect(result.response.status == 200, "\(result.description)")
        #expect(result.json["token_type"]?.stringValue == "Bearer")
        #expect(result.json["issued_token_type"]?.stringValue == accessTokenType)
        #expect(result.tokenHeader["typ"]?.stringValue == "at+jwt")
        #expect(result.tokenClaims["aud"]?.stringValue == "https://api2.b.example")
    }

    @Test func downScopingNeverWidens() async {
        let call = TokenCall(exchangeDomain())
        let subject = await ownAccessToken(call, scope: "read")
        expectError(await exchange(call, subject: subject, extra: [("audience", "https://partner.example"), ("scope", "profile")]), "invalid_scope", "profile")
        expectError(await exchange(call, subject: subject, extra: [("audience", "https://partner.example"), ("scope", "write")]), "invalid_scope", "write")
    }

    @Test func unknownOrRefusedTargets() async {
        let call = TokenCall(exchangeDomain())
        let subject = await ownAccessToken(call)
        expectError(await exchange(call, subject: subject, extra: [("audience", "https://nowhere.example")]), "invalid_target", "not a known target")
        expectError(await exchange(call, subject: subject, extra: [("resource", "https://api.nowhere.example")]), "invalid_target", "not a known target")
        expectError(await exchange(call, subject: subject, extra: [("audience", "https://poster-target.example")]), "invalid_target", "may not exchange")
        expectError(await exchange(call, subject: subject, extra: []), "invalid_request", "audience or resource")
        expectError(await exchange(call, subject: subject, extra: [("resource", "not a uri")]), "invalid_request", "absolute URI")
        expectError(await exchange(call, subject: subject, extra: [("resource", "https://api.partner.example#frag")]), "invalid_request", "absolute URI")
    }

    @Test func repeatedAudienceAndResource() async {
        let call = TokenCall(exchangeDomain())
        let subject = await ownAccessToken(call)
        // Several values naming the same target are one target.
        let same = await exchange(call, subject: subject, extra: [("audience", "https://partner.example"), ("resource", "https://api.partner.example")])
        #expect(same.response.status == 200, "\(same.description)")
        // Values naming two targets are refused: one single-audience token per exchange.
        let two = await exchange(call, subject: subject, extra: [("audience", "https://partner.example"), ("audience", "https://api2.b.example")])
        expectError(two, "invalid_target", "different targets")
    }

    @Test func requestedTokenTypeRules() async {
        let call = TokenCall(exchangeDomain())
        let subject = await ownAccessToken(call)
        expectError(await exchange(call, subject: subject, extra: [("audience", "https://partner.example"), ("requested_token_type", "urn:ietf:params:oauth:token-type:refresh_token")]), "invalid_request", "not supported")
        expectError(await exchange(call, subject: subject, extra: [("audience", "https://partner.example"), ("requested_token_type", accessTokenType)]), "invalid_target", "does not accept")
    }

    @Test func requiredParameters() async {
        let call = TokenCall(exchangeDomain())
        expectError(await call.post([("grant_type", tokenExchange), ("subject_token_type", accessTokenType), ("audience", "https://partner.example")]), "invalid_request", "subject_token")
        expectError(await call.post([("grant_type", tokenExchange), ("subject_token", "x"), ("audience", "https://partner.example")]), "invalid_request", "subject_token_type")
        expectError(await exchange(call, subject: "x", type: "urn:example:unknown", extra: [("audience", "https://partner.example")]), "invalid_request", "not a supported token type")
        expectError(await exchange(call, subject: "x", type: "urn:ietf:params:oauth:token-type:refresh_token", extra: [("audience", "https://partner.example")]), "invalid_request", "not accepted")
    }

    @Test func subjectTokensAreValidatedByTheirStatedType() async {
        let call = TokenCall(exchangeDomain())
        let own = await ownAccessToken(call)
        // Our access token presented as a generic JWT: it is not a trusted issuer's JWT.
        expectError(await exchange(call, subject: own, type: jwtType, extra: [("audience", "https://partner.example")]), "invalid_request", "not accepted here")
        // A trusted issuer's JWT presented as our access token.
        expectError(await exchange(call, subject: assertion(jti: "x1"), type: accessTokenType, extra: [("audience", "https://partner.example")]), "invalid_request", "at+jwt")
        // The chaining grant we issue (typ JWT, aud partner) is not an access token of ours either.
        let grant = await exchange(call, subject: own, extra: [("audience", "https://partner.example")])
        expectError(await exchange(call, subject: grant.accessToken!, type: accessTokenType, extra: [("audience", "https://partner.example")]), "invalid_request", "at+jwt")
        // A garbled or forged subject token.
        expectError(await exchange(call, subject: "abc", extra: [("audience", "https://partner.example")]), "invalid_request")
        var forged = own
        forged.removeLast(4)
        forged += "AAAA"
        expectError(await exchange(call, subject: forged, extra: [("audience", "https://partner.example")]), "invalid_request", "signature")
    }

    @Test func tokenOfAnotherDomainPresentedAsChainingGrantIsRefused() async {
        // Domain B's own access token presented to domain B's jwt-bearer as a grant: mis-typed.
        let call = TokenCall(exchangeDomain())
        let own = await ownAccessToken(call)
        expectError(await call.jwtBearer(own), "invalid_grant", "not accepted here")
    }

    @Test func foreignJWTAsSubjectToken() async {
        let call = TokenCall(exchangeDomain())
        let foreign = assertion(jti: "f1", extra: [("scope", .string("read")), ("email", .string("alice@example.com"))])
        let result = await exchange(call, subject: foreign, type: jwtType, extra: [("audience", "https://partner.example")])
        #expect(result.response.status == 200, "\(result.description)")
        #expect(result.json["scope"]?.stringValue == "read")
        #expect(result.decision.assertionIssuer == idpIssuer)
        // Single use applies to subject JWTs too.
        expectError(await exchange(call, subject: foreign, type: jwtType, extra: [("audience", "https://partner.example")]), "invalid_request", "already been used")
    }

    @Test func clientMustBeAudienceOrOwner() async {
        let call = TokenCall(exchangeDomain { $0.updateClient("poster") { $0.grantTypes.insert(.tokenExchange) } })
        // A token issued to "app" (client_id app) cannot be exchanged by "poster".
        let own = await ownAccessToken(call)
        let result = await call.post(
            [("grant_type", tokenExchange), ("subject_token", own), ("subject_token_type", accessTokenType), ("audience", "https://poster-target.example"),
             ("client_id", "poster"), ("client_secret", clientSecret)], headers: []
        )
        expectError(result, "invalid_request", "neither the token's client nor one of its audiences")
    }

    @Test func expiredSubjectTokenAndLifetimeCap() async {
        let domain = exchangeDomain()
        let own = await ownAccessToken(TokenCall(domain))
        let later = TokenCall(domain, environment: makeEnvironment(at: now + 400))
        expectError(await exchange(later, subject: own, extra: [("audience", "https://partner.example")]), "invalid_request", "expired")
        // Near its end, the issued token is capped at the subject token's exp (60 s assertion -> exp now+60).
        let nearEnd = TokenCall(domain, environment: makeEnvironment(at: now + 50))
        let capped = await exchange(nearEnd, subject: own, extra: [("audience", "https://partner.example")])
        #expect(capped.json["expires_in"]?.numberValue == 10, "\(capped.description)")
    }

    @Test func actorTokenRules() async {
        let call = TokenCall(exchangeDomain())
        let subject = await ownAccessToken(call, jti: "s")
        let actor = await ownAccessToken(call, sub: "agent-7", jti: "a")
        expectError(await exchange(call, subject: subject, extra: [("audience", "https://partner.example"), ("actor_token", actor)]), "invalid_request", "actor_token_type")
        expectError(await exchange(call, subject: subject, extra: [("audience", "https://partner.example"), ("actor_token_type", accessTokenType)]), "invalid_request", "actor_token")
        let delegated = await exchange(call, subject: subject, extra: [("audience", "https://partner.example"), ("actor_token", actor), ("actor_token_type", accessTokenType)])
        #expect(delegated.response.status == 200, "\(delegated.description)")
        let claims = try! CompactJWS.parse(delegated.accessToken!).claims
        #expect(claims["act"] == .object(JSONObject(members: [.init(name: "sub", value: .string("agent-7"))])))
        #expect(claims["sub"]?.stringValue == "alice")
    }

    @Test func actNestsAndMayActIsEnforced() async {
        let call = TokenCall(exchangeDomain())
        let priorAct: JSONValue = .object(JSONObject(members: [.init(name: "sub", value: .string("first-agent"))]))
        let mayAct: JSONValue = .object(JSONObject(members: [.init(name: "sub", value: .string("agent-7"))]))
        // A foreign subject JWT that already records an actor and says who may act next.
        let subject = assertion(jti: "m1", extra: [("act", priorAct), ("may_act", mayAct), ("email", .string("a@example.com"))])
        let actor = await ownAccessToken(call, sub: "agent-7", jti: "a1")
        let nested = await exchange(call, subject: subject, type: jwtType, extra: [("audience", "https://partner.example"), ("actor_token", actor), ("actor_token_type", accessTokenType)])
        #expect(nested.response.status == 200, "\(nested.description)")
        let act = try! CompactJWS.parse(nested.accessToken!).claims["act"]?.objectValue
        #expect(act?["sub"]?.stringValue == "agent-7")
        #expect(act?["act"]?.objectValue?["sub"]?.stringValue == "first-agent")

        let intruder = await ownAccessToken(call, sub: "agent-9", jti: "a2")
        let subject2 = assertion(jti: "m2", extra: [("may_act", mayAct)])
        let refused = await exchange(call, subject: subject2, type: jwtType, extra: [("audience", "https://partner.example"), ("actor_token", intruder), ("actor_token_type", accessTokenType)])
        expectError(refused, "invalid_request", "may_act")
    }

    @Test func mayActNamesTheActorAsItsTokenDoes() async {
        // The actor is a foreign JWT whose subject domain B would map (qualified); may_act names the raw sub.
        let domain = exchangeDomain { builder in
            builder.updateClient("app") { $0.allowedIssuers = [idpIssuer, otherIssuer] }
            builder.updateIssuer(otherIssuer) { $0.subjectMapping = .qualified(separator: "#") }
        }
        let call = TokenCall(domain)
        let mayAct: JSONValue = .object(JSONObject(members: [.init(name: "sub", value: .string("bot")), .init(name: "iss", value: .string(otherIssuer))]))
        let subject = assertion(jti: "ma1", extra: [("may_act", mayAct), ("email", .string("a@example.com"))])
        let actor = assertion(key: TestKeys.otherEC, iss: otherIssuer, sub: "bot", jti: "ma2")
        let result = await exchange(call, subject: subject, type: jwtType, extra: [("audience", "https://partner.example"), ("actor_token", actor), ("actor_token_type", jwtType)])
        #expect(result.response.status == 200, "\(result.description)")
        let act = try! CompactJWS.parse(result.accessToken!).claims["act"]?.objectValue
        #expect(act?["sub"]?.stringValue == "bot")
        #expect(act?["iss"]?.stringValue == otherIssuer)
    }

    @Test func aRefusedExchangeDoesNotSpendTheSubjectToken() async {
        let call = TokenCall(exchangeDomain())
        let foreign = assertion(jti: "keep", extra: [("scope", .string("read")), ("email", .string("alice@example.com"))])
        expectError(await exchange(call, subject: foreign, type: jwtType, extra: [("audience", "https://partner.example"), ("scope", "write")]), "invalid_scope")
        #expect(await exchange(call, subject: foreign, type: jwtType, extra: [("audience", "https://partner.example")]).response.status == 200)
    }

    @Test func exchangedAccessTokensWithLongerLifetimesCanBeExchangedAgain() async {
        // A foreign JWT living an hour becomes a 900 s local access token (longer than the 300 s policy);
        // that token of ours must remain exchangeable.
        let domain = exchangeDomain { builder in
            builder.targets[1].lifetime = 900
            builder.updateIssuer(idpIssuer) { $0.maxAssertionLifetime = 3600 }
        }
        let call = TokenCall(domain)
        let foreign = assertion(iat: now, exp: now + 3000, jti: "long", extra: [("scope", .string("read"))])
        let local = await exchange(call, subject: foreign, type: jwtType, extra: [("audience", "https://api2.b.example")])
        #expect(local.json["expires_in"]?.numberValue == 900, "\(local.description)")
        let again = await exchange(call, subject: local.accessToken!, extra: [("audience", "https://api2.b.example")])
        #expect(again.response.status == 200, "\(again.description)")
    }

    @Test func deepActChainIsRefused() async {
        let call = TokenCall(exchangeDomain())
        var act: JSONValue = .object(JSONObject(members: [.init(name: "sub", value: .string("a0"))]))
        for level in 1..<5 { act = .object(JSONObject(members: [.init(name: "sub", value: .string("a\(level)")), .init(name: "act", value: act)])) }
        // Five levels is the limit; adding one more actor would make six.
        let subject = assertion(jti: "deep", extra: [("act", act)])
        let actor = await ownAccessToken(call, sub: "agent-7", jti: "a3")
        let result = await exchange(call, subject: subject, type: jwtType, extra: [("audience", "https://partner.example"), ("actor_token", actor), ("actor_token_type", accessTokenType)])
        expectError(result, "invalid_request", "deeper than")
    }
}

import Crypto
import Handlers
import JOSE
import Testing

/// Mirrors Keycloak's JWT Authorization Grant test list, plus Baton's subject mapping and claim rules.
@Suite struct JWTBearerGrantTests {
    let domain = TestDomainBuilder().build()

    @Test func success() async {
        let result = await TokenCall(domain).jwtBearer(assertion(), scope: "read")
        #expect(result.response.status == 200, "\(result.description)")
        #expect(result.json["token_type"]?.stringValue == "Bearer")
        #expect(result.json["scope"]?.stringValue == "read")
        #expect(result.json["refresh_token"] == nil)
        #expect(result.response.header("cache-control") == "no-store")
        #expect(result.response.header("pragma") == "no-cache")
        let claims = result.tokenClaims
        #expect(claims["iss"]?.stringValue == domainIssuer)
        #expect(claims["sub"]?.stringValue == "alice")
        #expect(claims["aud"]?.stringValue == "https://api.b.example")
        #expect(claims["client_id"]?.stringValue == "app")
        #expect(claims["scope"]?.stringValue == "read")
        #expect(claims["iat"]?.numberValue == Double(now))
        #expect(claims["jti"]?.stringValue != nil)
        #expect(result.tokenHeader["typ"]?.stringValue == "at+jwt")
        #expect(result.tokenHeader["kid"]?.stringValue == "b-1")
        #expect(result.decision.outcome == .issued)
        #expect(result.decision.assertionIssuer == idpIssuer)
        #expect(result.decision.subject == "alice")
    }

    @Test func rsaAssertionFromTheSameIssuer() async {
        let result = await TokenCall(domain).jwtBearer(assertion(key: TestKeys.idpRSA))
        #expect(result.response.status == 200, "\(result.description)")
    }

    @Test func publicClientIsRefusedUnlessAllowed() async {
        let refused = await TokenCall(domain).jwtBearer(assertion(), headers: []).self
        // No credentials and no client_id at all.
        expectError(refused, "invalid_client", "client authentication is required", status: 401)
        let call = TokenCall(domain)
        let publicResult = await call.post([("grant_type", jwtBearer), ("assertion", assertion()), ("client_id", "public-app")], headers: [])
        expectError(publicResult, "unauthorized_client", "public clients")

        var builder = TestDomainBuilder()
        builder.updateClient("public-app") { $0.allowUnauthenticatedGrants = true }
        let allowed = await TokenCall(builder.build()).post([("grant_type", jwtBearer), ("assertion", assertion()), ("client_id", "public-app")], headers: [])
        #expect(allowed.response.status == 200, "\(allowed.description)")
    }

    @Test func issuerNotAllowedForClient() async {
        let result = await TokenCall(domain).jwtBearer(assertion(key: TestKeys.otherEC, iss: otherIssuer))
        expectError(result, "invalid_grant", "may not present tokens from issuer")
    }

    @Test func clientNotAllowedTheGrant() async {
        let result = await TokenCall(domain).jwtBearer(assertion(), headers: [basic("limited", clientSecret)])
        expectError(result, "unauthorized_client", "may not use")
    }

    @Test func missingAssertion() async {
        let result = await TokenCall(domain).post([("grant_type", jwtBearer)])
        expectError(result, "invalid_request", "assertion")
    }

    @Test func garbledAssertion() async {
        for garbage in ["not-a-jwt", "a.b.c", "eyJ.eyJ.", "....", String(repeating: "A", count: 100)] {
            let result = await TokenCall(domain).jwtBearer(garbage)
            expectError(result, "invalid_grant")
        }
    }

    @Test func expired() async {
        let result = await TokenCall(domain).jwtBearer(assertion(iat: now - 200, exp: now - 100))
        expectError(result, "invalid_grant", "expired")
    }

    @Test func expiredWithinSkewIsAcceptedButNeverIssuesAnExpiredToken() async {
        // exp 10 s ago is inside the 30 s skew, but the access token would be born expired.
        let result = await TokenCall(domain).jwtBearer(assertion(iat: now - 60, exp: now - 10))
        expectError(result, "invalid_grant", "expired")
    }

    @Test func notYetValid() async {
        let result = await TokenCall(domain).jwtBearer(assertion(extra: [("nbf", .number(Double(now + 120)))]))
        expectError(result, "invalid_grant", "not valid before")
    }

    @Test func iatTooOld() async {
        let result = await TokenCall(domain).jwtBearer(assertion(iat: now - 400, exp: now + 60))
        expectError(result, "invalid_grant", "too old")
    }

    @Test func iatInTheFuture() async {
        let result = await TokenCall(domain).jwtBearer(assertion(iat: now + 120, exp: now + 180))
        expectError(result, "invalid_grant", "future")
    }

    @Test func lifetimeBeyondMaximumWithoutIat() async {
        let result = await TokenCall(domain).jwtBearer(assertion(iat: nil, exp: now + 3600))
        expectError(result, "invalid_grant", "no \"iat\"")
        let ok = await TokenCall(domain).jwtBearer(assertion(iat: nil, exp: now + 200))
        #expect(ok.response.status == 200, "\(ok.description)")
    }

    @Test func loweredMaxLifetime() async {
        var builder = TestDomainBuilder()
        builder.updateIssuer(idpIssuer) { $0.maxAssertionLifetime = 30 }
        let result = await TokenCall(builder.build()).jwtBearer(assertion(iat: now - 10, exp: now + 60))
        expectError(result, "invalid_grant", "exceeds the maximum of 30")
    }

    @Test func audienceIsIssuerOrTokenEndpoint() async {
        let asIssuer = await TokenCall(domain).jwtBearer(assertion(aud: .string(domainIssuer)))
        #expect(asIssuer.response.status == 200)
        let asEndpoint = await TokenCall(domain).jwtBearer(assertion(aud: .string(domainIssuer + "/token")))
        #expect(asEndpoint.response.status == 200)
        let oneElementArray = await TokenCall(domain).jwtBearer(assertion(aud: .array([.string(domainIssuer)])))
        #expect(oneElementArray.response.status == 200)
    }

    @Test func otherMissingOrMultipleAudiencesRejected() async {
        let other = await TokenCall(domain).jwtBearer(assertion(aud: .string("https://elsewhere.example")))
        expectError(other, "invalid_grant", "does not identify this server")
        let missing = await TokenCall(domain).jwtBearer(assertion(aud: nil))
        expectError(missing, "invalid_grant", "\"aud\" is required")
        let multiple = await TokenCall(domain).jwtBearer(assertion(aud: .array([.string(domainIssuer), .string(domainIssuer + "/token")])))
        expectError(multiple, "invalid_grant", "exactly one audience")
        let empty = await TokenCall(domain).jwtBearer(assertion(aud: .array([])))
        expectError(empty, "invalid_grant", "empty")
    }

    @Test func unknownIssuer() async {
        let result = await TokenCall(domain).jwtBearer(assertion(iss: "https://unknown.example"))
        expectError(result, "invalid_grant", "is not trusted")
    }

    @Test func missingSubjectOrIssuer() async {
        let noSub = try! TestKeys.idpEC.sign(type: "JWT", payload: claims([
            ("iss", .string(idpIssuer)), ("aud", .string(domainIssuer)), ("exp", .number(Double(now + 60))), ("jti", .string("x")),
        ]))
        expectError(await TokenCall(domain).jwtBearer(noSub), "invalid_grant", "\"sub\" is required")
        let noIss = try! TestKeys.idpEC.sign(type: "JWT", payload: claims([
            ("sub", .string("alice")), ("aud", .string(domainIssuer)), ("exp", .number(Double(now + 60))), ("jti", .string("x")),
        ]))
        expectError(await TokenCall(domain).jwtBearer(noIss), "invalid_grant", "\"iss\" is required")
    }

    @Test func unknownSubjectInLinkTable() async {
        var builder = TestDomainBuilder()
        builder.updateIssuer(idpIssuer) { $0.subjectMapping = .linked(["alice": "local-1"]) }
        let linked = TestDomainBuilder.build(builder)
        let known = await TokenCall(linked).jwtBearer(assertion(sub: "alice"))
        #expect(known.tokenClaims["sub"]?.stringValue == "local-1")
        let unknown = await TokenCall(linked).jwtBearer(assertion(sub: "mallory", jti: "other"))
        expectError(unknown, "invalid_grant", "not linked")
    }

    @Test func subjectMappingModes() async {
        var qualified = TestDomainBuilder()
        qualified.updateIssuer(idpIssuer) { $0.subjectMapping = .qualified(separator: "|") }
        let q = await TokenCall(qualified.build()).jwtBearer(assertion())
        #expect(q.tokenClaims["sub"]?.stringValue == "\(idpIssuer)|alice")

        var pairwise = TestDomainBuilder()
        pairwise.updateIssuer(idpIssuer) { $0.subjectMapping = .pairwise(key: SymmetricKeyBytes(Array("a-pairwise-secret-of-32-bytes-or-more".utf8))) }
        let first = await TokenCall(pairwise.build()).jwtBearer(assertion(jti: "p1"))
        let second = await TokenCall(pairwise.build()).jwtBearer(assertion(jti: "p2"))
        let pairwiseSubject = first.tokenClaims["sub"]?.stringValue
        #expect(pairwiseSubject != nil && pairwiseSubject != "alice")
        #expect(pairwiseSubject == second.tokenClaims["sub"]?.stringValue, "pairwise subjects are stable")
        var otherKey = TestDomainBuilder()
        otherKey.updateIssuer(idpIssuer) { $0.subjectMapping = .pairwise(key: SymmetricKeyBytes(Array("another-pairwise-secret-of-32-bytes".utf8))) }
        let third = await TokenCall(otherKey.build()).jwtBearer(assertion(jti: "p3"))
        #expect(third.tokenClaims["sub"]?.stringValue != pairwiseSubject, "different domains get unlinkable subjects")
    }

    @Test func subjectPattern() async throws {
        var builder = TestDomainBuilder()
        let pattern = try Pattern("[a-z]+@corp")
        builder.updateIssuer(idpIssuer) { $0.subjectPattern = pattern }
        let domain = builder.build()
        #expect(await TokenCall(domain).jwtBearer(assertion(sub: "alice@corp")).response.status == 200)
        // Whole-string match: a matching substring is not enough.
        expectError(await TokenCall(domain).jwtBearer(assertion(sub: "x-alice@corp-y", jti: "2")), "invalid_grant", "subject is not allowed")
    }

    @Test func replayIsRejected() async {
        let call = TokenCall(domain)
        let token = assertion()
        #expect(await call.jwtBearer(token).response.status == 200)
        expectError(await call.jwtBearer(token), "invalid_grant", "already been used")
        // A different jti from the same issuer is fresh.
        #expect(await call.jwtBearer(assertion(jti: "assertion-2")).response.status == 200)
        // The same jti from another issuer is a different key.
        var builder = TestDomainBuilder()
        builder.updateClient("app") { $0.allowedIssuers = [idpIssuer, otherIssuer] }
        let both = TokenCall(builder.build())
        #expect(await both.jwtBearer(assertion(jti: "shared")).response.status == 200)
        #expect(await both.jwtBearer(assertion(key: TestKeys.otherEC, iss: otherIssuer, jti: "shared")).response.status == 200)
    }

    @Test func jtiRequiredUnlessReuseAllowed() async {
        expectError(await TokenCall(domain).jwtBearer(assertion(jti: nil)), "invalid_grant", "\"jti\" is required")
        var builder = TestDomainBuilder()
        builder.updateIssuer(idpIssuer) { $0.allowJTIReuse = true }
        let reusable = TokenCall(builder.build())
        let token = assertion(jti: nil)
        #expect(await reusable.jwtBearer(token).response.status == 200)
        #expect(await reusable.jwtBearer(token).response.status == 200)
    }

    @Test func expiredReplayEntryNoLongerBlocks() async {
        let store = MemoryReplayStore()
        let token = assertion(iat: now - 10, exp: now + 20)
        #expect(await TokenCall(domain, environment: makeEnvironment(at: now, store: store)).jwtBearer(token).response.status == 200)
        // Later than exp + skew the entry is gone, and the token itself is expired: refused for expiry, not replay.
        let later = await TokenCall(domain, environment: makeEnvironment(at: now + 100, store: store)).jwtBearer(token)
        expectError(later, "invalid_grant", "expired")
        #expect(store.count == 0 || store.count == 1)
    }

    @Test func algorithmNotAllowed() async {
        var builder = TestDomainBuilder()
        builder.updateIssuer(idpIssuer) { $0.allowedAlgorithms = [.rs256] }
        let result = await TokenCall(builder.build()).jwtBearer(assertion(key: TestKeys.idpEC))
        expectError(result, "invalid_grant", "ES256 is not allowed")
    }

    @Test func badSignature() async {
        var token = assertion()
        let last = token.removeLast()
        token.append(last == "A" ? "B" : "A")
        expectError(await TokenCall(domain).jwtBearer(token), "invalid_grant")
        // Signed by a key that claims the trusted kid.
        expectError(await TokenCall(domain).jwtBearer(assertion(key: TestKeys.attacker)), "invalid_grant", "signature is invalid")
    }

    @Test func fixedKeyWithAndWithoutKid() async {
        var builder = TestDomainBuilder()
        builder.updateIssuer(idpIssuer) { $0.keys = [VerificationKey(kid: "fixed", algorithm: .es256, material: TestKeys.idpEC.material.publicKey)] }
        let domain = builder.build()
        let withKid = try! SigningKey(kid: "fixed", algorithm: .es256, material: TestKeys.idpEC.material)
        #expect(await TokenCall(domain).jwtBearer(assertion(key: withKid, jti: "k1")).response.status == 200)
        let payload = String(decoding: claims([
            ("iss", .string(idpIssuer)), ("sub", .string("alice")), ("aud", .string(domainIssuer)),
            ("exp", .number(Double(now + 60))), ("jti", .string("k2")),
        ]), as: UTF8.self)
        let withoutKid = signedRaw(header: #"{"alg":"ES256","typ":"JWT"}"#, payload: payload, key: TestKeys.idpEC)
        #expect(await TokenCall(domain).jwtBearer(withoutKid).response.status == 200)
        let wrongKid = try! SigningKey(kid: "other", algorithm: .es256, material: TestKeys.idpEC.material)
        expectError(await TokenCall(domain).jwtBearer(assertion(key: wrongKid, jti: "k3")), "invalid_grant", "no key with kid")
    }

    @Test func noKidWithSeveralKeysIsRefused() async {
        var builder = TestDomainBuilder()
        let second = try! SigningKey(kid: "idp-ec-2", algorithm: .es256, material: .p256(.init()))
        builder.updateIssuer(idpIssuer) { $0.keys.append(second.verificationKey) }
        let payload = String(decoding: claims([
            ("iss", .string(idpIssuer)), ("sub", .string("alice")), ("aud", .string(domainIssuer)),
            ("exp", .number(Double(now + 60))), ("jti", .string("k2")),
        ]), as: UTF8.self)
        let withoutKid = signedRaw(header: #"{"alg":"ES256","typ":"JWT"}"#, payload: payload, key: TestKeys.idpEC)
        expectError(await TokenCall(builder.build()).jwtBearer(withoutKid), "invalid_grant", "no kid")
    }

    @Test func scopeHandling() async {
        // No scope requested: the client's defaults.
        let defaults = await TokenCall(domain).jwtBearer(assertion(jti: "s1"))
        #expect(defaults.json["scope"]?.stringValue == "read")
        // Requested within the client's scopes.
        let within = await TokenCall(domain).jwtBearer(assertion(jti: "s2"), scope: "read write")
        #expect(within.json["scope"]?.stringValue == "read write")
        // Outside the client's scopes.
        expectError(await TokenCall(domain).jwtBearer(assertion(jti: "s3"), scope: "admin"), "invalid_scope", "admin")
        // The issuer's allowed scopes cut further.
        var builder = TestDomainBuilder()
        builder.updateIssuer(idpIssuer) { $0.allowedScopes = ["read"] }
        expectError(await TokenCall(builder.build()).jwtBearer(assertion(jti: "s4"), scope: "write"), "invalid_scope")
        // The assertion's own scope cuts further still.
        let narrowed = assertion(jti: "s5", extra: [("scope", .string("profile"))])
        expectError(await TokenCall(domain).jwtBearer(narrowed, scope: "read"), "invalid_scope")
        let fromAssertion = await TokenCall(domain).jwtBearer(assertion(jti: "s6", extra: [("scope", .string("profile read"))]), scope: "profile")
        #expect(fromAssertion.json["scope"]?.stringValue == "profile")
        // Malformed scope tokens.
        expectError(await TokenCall(domain).jwtBearer(assertion(jti: "s7"), scope: "re\"ad"), "invalid_scope")
    }

    @Test func tokenLifetimeCappedAtAssertionExpiry() async {
        let capped = await TokenCall(domain).jwtBearer(assertion(exp: now + 45))
        #expect(capped.json["expires_in"]?.numberValue == 45)
        #expect(capped.tokenClaims["exp"]?.numberValue == Double(now + 45))
        var builder = TestDomainBuilder()
        builder.updateIssuer(idpIssuer) { $0.capTokenExpiryAtAssertion = false }
        let uncapped = await TokenCall(builder.build()).jwtBearer(assertion(exp: now + 45))
        #expect(uncapped.json["expires_in"]?.numberValue == 300)
    }

    @Test func requiredClaimsAndTranscription() async throws {
        var builder = TestDomainBuilder()
        let pattern = try Pattern("[a-z]+@example\\.com")
        builder.updateIssuer(idpIssuer) {
            $0.claimRules = ClaimRules(
                required: [
                    ClaimCondition(claim: "email", requirement: .matches(pattern)),
                    ClaimCondition(claim: "email_verified", requirement: .equals(.bool(true))),
                    ClaimCondition(claim: "tenant", requirement: .present),
                ],
                copied: [ClaimCopy(from: "email"), ClaimCopy(from: "groups", to: "roles")]
            )
        }
        let domain = builder.build()
        let good = assertion(jti: "c1", extra: [
            ("email", .string("alice@example.com")), ("email_verified", .bool(true)), ("tenant", .string("t1")),
            ("groups", .array([.string("admins")])), ("secret_internal", .string("do not copy")),
        ])
        let result = await TokenCall(domain).jwtBearer(good)
        #expect(result.response.status == 200, "\(result.description)")
        let claims = result.tokenClaims
        #expect(claims["email"]?.stringValue == "alice@example.com")
        #expect(claims["roles"] == .array([.string("admins")]))
        #expect(claims["groups"] == nil)
        #expect(claims["secret_internal"] == nil)
        #expect(claims["tenant"] == nil)

        let unverified = assertion(jti: "c2", extra: [("email", .string("alice@example.com")), ("email_verified", .bool(false)), ("tenant", .string("t"))])
        expectError(await TokenCall(domain).jwtBearer(unverified), "invalid_grant", "email_verified")
        let badEmail = assertion(jti: "c3", extra: [("email", .string("alice@evil.com")), ("email_verified", .bool(true)), ("tenant", .string("t"))])
        expectError(await TokenCall(domain).jwtBearer(badEmail), "invalid_grant", "pattern")
        let noTenant = assertion(jti: "c4", extra: [("email", .string("alice@example.com")), ("email_verified", .bool(true))])
        expectError(await TokenCall(domain).jwtBearer(noTenant), "invalid_grant", "tenant")
    }

    @Test func accessTokenTypedAssertionIsRefused() async {
        // An access token (typ at+jwt) is not an authorization grant, even from a trusted issuer.
        let result = await TokenCall(domain).jwtBearer(assertion(type: "at+jwt"))
        expectError(result, "invalid_grant", "not accepted here")
    }

    @Test func issuerLimitedToIDJAGRefusesPlainJWT() async {
        var builder = TestDomainBuilder()
        builder.updateIssuer(idpIssuer) { $0.grantProfiles = [.idJAG] }
        expectError(await TokenCall(builder.build()).jwtBearer(assertion()), "invalid_grant", "may only present ID-JAGs")
    }
}

extension TestDomainBuilder {
    static func build(_ builder: TestDomainBuilder) -> Domain { builder.build() }
}

@Suite("Memory replay store")
struct MemoryReplayStoreTests {
    @Test func fullStoreRefusesUntilEntriesExpire() async throws {
        let store = MemoryReplayStore(maxEntries: 2)
        func key(_ jti: String) -> ReplayKey { ReplayKey(purpose: .grantAssertion, issuer: "https://idp.example", jti: jti) }
        #expect(try await store.claim(key("a"), expiresAt: now + 10, now: now))
        #expect(try await store.claim(key("b"), expiresAt: now + 60, now: now))
        // A replay is still told apart from a full store.
        #expect(try await !store.claim(key("a"), expiresAt: now + 10, now: now))
        await #expect(throws: ReplayStoreUnavailable.self) { try await store.claim(key("c"), expiresAt: now + 10, now: now) }
        // Once "a" has expired, the next purge makes room.
        #expect(try await store.claim(key("c"), expiresAt: now + 60, now: now + 11))
        #expect(store.count == 2)
    }

    @Test func fullStoreStillReplacesAnExpiredEntryOfTheSameKey() async throws {
        let store = MemoryReplayStore(maxEntries: 1)
        let key = ReplayKey(purpose: .grantAssertion, issuer: "https://idp.example", jti: "same")
        #expect(try await store.claim(key, expiresAt: now + 10, now: now))
        // Within the purge interval, the entry has expired: the same key may be claimed again.
        #expect(try await store.claim(key, expiresAt: now + 20, now: now + 10))
    }

    @Test func clockSteppedBackDoesNotBlockPurging() async throws {
        let store = MemoryReplayStore(maxEntries: 1)
        func key(_ jti: String) -> ReplayKey { ReplayKey(purpose: .grantAssertion, issuer: "https://idp.example", jti: jti) }
        // Claimed while the clock ran an hour fast (the purge then scheduled the next one an hour ahead).
        #expect(try await store.claim(key("a"), expiresAt: now + 5, now: now + 3600))
        // The clock is corrected; "a" has expired by it, so purging must make room now, not in an hour.
        #expect(try await store.claim(key("b"), expiresAt: now + 60, now: now + 10))
    }

    @Test func storageKeyFormatIsStable() {
        // SQL stores persist this text; a change would let a jti spent before an upgrade be spent again.
        #expect(ReplayKey(purpose: .grantAssertion, issuer: "https://idp.example", jti: "j-1").storageKey == "grant:19:https://idp.example:j-1")
    }

    @Test func keysDifferingOnlyInHowIssuerAndJTISplitAreDistinct() async throws {
        let store = MemoryReplayStore()
        #expect(try await store.claim(ReplayKey(purpose: .grantAssertion, issuer: "a:b", jti: "c"), expiresAt: now + 10, now: now))
        #expect(try await store.claim(ReplayKey(purpose: .grantAssertion, issuer: "a", jti: "b:c"), expiresAt: now + 10, now: now))
        #expect(try await store.claim(ReplayKey(purpose: .clientAssertion, issuer: "a", jti: "b:c"), expiresAt: now + 10, now: now))
        #expect(try await !store.claim(ReplayKey(purpose: .grantAssertion, issuer: "a", jti: "b:c"), expiresAt: now + 10, now: now))
    }
}

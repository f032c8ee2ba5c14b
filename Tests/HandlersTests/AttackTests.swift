import Crypto
import Handlers
import JOSE
import Testing
import _CryptoExtras

/// Checklist J (RFC 8725 and known JWT pitfalls) at the grant: every attack is an `invalid_grant`.
@Suite struct AttackTests {
    let domain = TestDomainBuilder().build()

    var validPayload: String {
        String(decoding: claims([
            ("iss", .string(idpIssuer)), ("sub", .string("alice")), ("aud", .string(domainIssuer)),
            ("iat", .number(Double(now - 5))), ("exp", .number(Double(now + 60))), ("jti", .string("attack")),
        ]), as: UTF8.self)
    }

    @Test(arguments: ["none", "None", "NONE", "nOnE"])
    func algNoneInAnyCase(alg: String) async {
        let token = rawToken(header: #"{"alg":"\#(alg)","typ":"JWT"}"#, payload: validPayload, signature: [])
        expectError(await TokenCall(domain).jwtBearer(token), "invalid_grant", "none")
        let withDot = Base64URL.encodeToString(Array(#"{"alg":"\#(alg)"}"#.utf8)) + "." + Base64URL.encodeToString(Array(validPayload.utf8)) + "."
        expectError(await TokenCall(domain).jwtBearer(withDot), "invalid_grant")
    }

    @Test func hs256WithTheRSAPublicKeyAsSecret() async {
        guard case .rsa(let rsa) = TestKeys.idpRSA.material else { Issue.record("not RSA"); return }
        let secret = SymmetricKey(data: Array(rsa.publicKey.pemRepresentation.utf8))
        let header = #"{"alg":"HS256","typ":"JWT","kid":"idp-rsa"}"#
        let input = Base64URL.encodeToString(Array(header.utf8)) + "." + Base64URL.encodeToString(Array(validPayload.utf8))
        let mac = HMAC<SHA256>.authenticationCode(for: Array(input.utf8), using: secret)
        let token = input + "." + Base64URL.encodeToString(Array(mac))
        expectError(await TokenCall(domain).jwtBearer(token), "invalid_grant", "HS256")
    }

    @Test func rs256KeyNeverVerifiesPS256() async {
        // The same RSA key signs PS256; the issuer's key is bound to RS256.
        let ps = try! SigningKey(kid: "idp-rsa", algorithm: .ps256, material: TestKeys.idpRSA.material)
        var builder = TestDomainBuilder()
        builder.updateIssuer(idpIssuer) { $0.allowedAlgorithms = [.rs256, .ps256, .es256] }
        let result = await TokenCall(builder.build()).jwtBearer(assertion(key: ps))
        expectError(result, "invalid_grant", "is for RS256, not PS256")
    }

    @Test func keyOfIssuerANeverVerifiesTokenClaimingIssuerB() async {
        // Signed by the IdP's key, claims to be from `other`: other's keys are the only candidates.
        var builder = TestDomainBuilder()
        builder.updateClient("app") { $0.allowedIssuers = [idpIssuer, otherIssuer] }
        let idpKeyAsOther = try! SigningKey(kid: "other-ec", algorithm: .es256, material: TestKeys.idpEC.material)
        let result = await TokenCall(builder.build()).jwtBearer(assertion(key: idpKeyAsOther, iss: otherIssuer))
        expectError(result, "invalid_grant", "signature is invalid")
        let idpKid = await TokenCall(builder.build()).jwtBearer(assertion(key: TestKeys.idpEC, iss: otherIssuer))
        expectError(idpKid, "invalid_grant", "no key with kid")
    }

    @Test func embeddedKeyHeadersAreIgnored() async {
        // The attacker signs with its own key and points jwk / jku / x5u / x5c at it.
        let attackerJWK: String = {
            var writer = JSONWriter()
            TestKeys.attacker.material.publicKey.writeJWK(kid: "idp-ec", algorithm: .es256, into: &writer)
            return String(decoding: writer.bytes, as: UTF8.self)
        }()
        let headers = [
            #"{"alg":"ES256","typ":"JWT","kid":"idp-ec","jwk":\#(attackerJWK)}"#,
            #"{"alg":"ES256","typ":"JWT","kid":"idp-ec","jku":"https://attacker.example/jwks"}"#,
            #"{"alg":"ES256","typ":"JWT","kid":"idp-ec","x5u":"https://attacker.example/cert"}"#,
            #"{"alg":"ES256","typ":"JWT","kid":"idp-ec","x5c":["MIIB"]}"#,
        ]
        for header in headers {
            let token = signedRaw(header: header, payload: validPayload, key: TestKeys.attacker)
            expectError(await TokenCall(domain).jwtBearer(token), "invalid_grant", "signature is invalid")
        }
    }

    @Test func critIsRefused() async {
        let token = signedRaw(header: #"{"alg":"ES256","typ":"JWT","kid":"idp-ec","crit":["exp"],"exp":1}"#, payload: validPayload, key: TestKeys.idpEC)
        expectError(await TokenCall(domain).jwtBearer(token), "invalid_grant", "crit")
    }

    @Test func jweAndJSONSerializationAreRefused() async {
        expectError(await TokenCall(domain).jwtBearer("eyJhbGciOiJSU0EtT0FFUCJ9.a.b.c.d"), "invalid_grant", "JWE")
        expectError(await TokenCall(domain).jwtBearer(#"{"payload":"x","signatures":[]}"#), "invalid_grant", "JSON serialization")
    }

    @Test func ecdsaZeroSignatureIsRefused() async {
        let header = #"{"alg":"ES256","typ":"JWT","kid":"idp-ec"}"#
        let token = rawToken(header: header, payload: validPayload, signature: [UInt8](repeating: 0, count: 64))
        expectError(await TokenCall(domain).jwtBearer(token), "invalid_grant", "signature is invalid")
    }

    @Test func ecdsaSignatureMustBeExactly64Bytes() async {
        let valid = signedRaw(header: #"{"alg":"ES256","typ":"JWT","kid":"idp-ec"}"#, payload: validPayload, key: TestKeys.idpEC)
        let parts = valid.split(separator: ".")
        let signature = Base64URL.decode(String(parts[2]))!
        let padded = parts[0] + "." + parts[1] + "." + Base64URL.encodeToString(signature + [0])
        expectError(await TokenCall(domain).jwtBearer(String(padded)), "invalid_grant", "signature is invalid")
        // The untouched token is fine, so the failure above is the length.
        #expect(await TokenCall(domain).jwtBearer(valid).response.status == 200)
    }

    @Test func duplicateMembersAreRefused() async {
        let duplicateSub = #"{"iss":"\#(idpIssuer)","sub":"alice","sub":"admin","aud":"\#(domainIssuer)","exp":\#(now + 60),"jti":"d1"}"#
        let token = signedRaw(header: #"{"alg":"ES256","typ":"JWT","kid":"idp-ec"}"#, payload: duplicateSub, key: TestKeys.idpEC)
        expectError(await TokenCall(domain).jwtBearer(token), "invalid_grant", "duplicate")
        let duplicateAlg = signedRaw(header: #"{"alg":"ES256","alg":"none","typ":"JWT","kid":"idp-ec"}"#, payload: validPayload, key: TestKeys.idpEC)
        expectError(await TokenCall(domain).jwtBearer(duplicateAlg), "invalid_grant", "duplicate")
    }

    @Test func claimsOfTheWrongTypeAreRefused() async {
        let expString = #"{"iss":"\#(idpIssuer)","sub":"alice","aud":"\#(domainIssuer)","exp":"\#(now + 60)","jti":"w1"}"#
        let token = signedRaw(header: #"{"alg":"ES256","typ":"JWT","kid":"idp-ec"}"#, payload: expString, key: TestKeys.idpEC)
        expectError(await TokenCall(domain).jwtBearer(token), "invalid_grant", "\"exp\" must be a number")
        let subNumber = #"{"iss":"\#(idpIssuer)","sub":42,"aud":"\#(domainIssuer)","exp":\#(now + 60),"jti":"w2"}"#
        let token2 = signedRaw(header: #"{"alg":"ES256","typ":"JWT","kid":"idp-ec"}"#, payload: subNumber, key: TestKeys.idpEC)
        expectError(await TokenCall(domain).jwtBearer(token2), "invalid_grant", "\"sub\" must be a string")
        let headerArray = rawToken(header: "[]", payload: validPayload, signature: [1, 2, 3])
        expectError(await TokenCall(domain).jwtBearer(headerArray), "invalid_grant", "header is not a JSON object")
    }

    @Test func oversizedAndLongKidAreRefused() async {
        let big = assertion(extra: [("padding", .string(String(repeating: "x", count: 20_000)))])
        expectError(await TokenCall(domain).jwtBearer(big), "invalid_grant", "longer than")
        let longKid = try! SigningKey(kid: String(repeating: "k", count: 300), algorithm: .es256, material: TestKeys.idpEC.material)
        expectError(await TokenCall(domain).jwtBearer(assertion(key: longKid)), "invalid_grant", "kid")
    }

    @Test func malformedBase64IsRefused() async {
        let valid = assertion()
        let parts = valid.split(separator: ".").map(String.init)
        for index in 0..<3 {
            var broken = parts
            broken[index] = "%%%" + broken[index]
            expectError(await TokenCall(domain).jwtBearer(broken.joined(separator: ".")), "invalid_grant", "base64url")
        }
    }

    @Test func deepActNestingIsRefused() async {
        var act: JSONValue = .object(JSONObject(members: [.init(name: "sub", value: .string("actor-0"))]))
        for level in 1...6 {
            act = .object(JSONObject(members: [.init(name: "sub", value: .string("actor-\(level)")), .init(name: "act", value: act)]))
        }
        expectError(await TokenCall(domain).jwtBearer(assertion(extra: [("act", act)])), "invalid_grant", "act")
    }

    @Test func deeplyNestedJSONIsRefusedCleanly() async {
        let nested = String(repeating: "[", count: 200) + String(repeating: "]", count: 200)
        let payload = #"{"iss":"\#(idpIssuer)","sub":"alice","aud":"\#(domainIssuer)","exp":\#(now + 60),"jti":"n","deep":\#(nested)}"#
        let token = signedRaw(header: #"{"alg":"ES256","typ":"JWT","kid":"idp-ec"}"#, payload: payload, key: TestKeys.idpEC)
        expectError(await TokenCall(domain).jwtBearer(token), "invalid_grant", "nesting")
    }

    @Test func clientCannotSteerRegisteredClaims() async {
        // An assertion cannot set client_id, scope or iss of the issued token, even through copy rules.
        var builder = TestDomainBuilder()
        builder.updateIssuer(idpIssuer) { $0.claimRules = ClaimRules(copied: [ClaimCopy(from: "email")]) }
        let token = assertion(extra: [("client_id", .string("admin-client")), ("email", .string("a@example.com"))])
        let result = await TokenCall(builder.build()).jwtBearer(token)
        #expect(result.tokenClaims["client_id"]?.stringValue == "app")
        #expect(result.tokenClaims["iss"]?.stringValue == domainIssuer)
    }
}

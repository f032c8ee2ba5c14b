import Handlers
import JOSE
import Testing

@Suite struct ClientAuthenticationTests {
    let domain = TestDomainBuilder().build()
    let clientCredentials = [("grant_type", "client_credentials")]

    @Test func secretBasic() async {
        let ok = await TokenCall(domain).post(clientCredentials, headers: [basic("app", clientSecret)])
        #expect(ok.response.status == 200)
        let wrong = await TokenCall(domain).post(clientCredentials, headers: [basic("app", clientSecret + "x")])
        expectError(wrong, "invalid_client", "authentication failed", status: 401)
        #expect(wrong.response.header("www-authenticate")?.hasPrefix("Basic realm=") == true)
        let unknown = await TokenCall(domain).post(clientCredentials, headers: [basic("nobody", clientSecret)])
        expectError(unknown, "invalid_client", "authentication failed", status: 401)
        #expect(unknown.description == wrong.description, "unknown and wrong-secret failures look the same")
    }

    @Test func secretBasicIsFormEncodedBeforeBase64() async {
        // RFC 6749 2.3.1: a secret with ':' and '%' is form-encoded inside the Basic credentials.
        let special = "s3cret:with%special+chars-and-enough-length"
        var builder = TestDomainBuilder()
        builder.updateClient("app") { $0.credential = .secret(SecretHash(secret: special, salt: Array(repeating: 1, count: 16))) }
        let result = await TokenCall(builder.build()).post(clientCredentials, headers: [basic("app", special)])
        #expect(result.response.status == 200, "\(result.description)")
    }

    @Test func basicSchemeIsCaseInsensitiveAndSecretsKeepAmpersands() async {
        let encoded = Base64Standard.encode(Array("app:\(clientSecret)".utf8))
        for header in ["basic " + encoded, "BASIC " + encoded, "Basic   " + encoded] {
            let result = await TokenCall(domain).post(clientCredentials, headers: [("authorization", header)])
            #expect(result.response.status == 200, "\(header.prefix(8)): \(result.description)")
        }
        // A raw '&' is not form syntax inside Basic credentials: it stays part of the secret.
        let ampersand = "s3cret&with=ampersand-and-enough-length-0123"
        var builder = TestDomainBuilder()
        builder.updateClient("app") { $0.credential = .secret(SecretHash(secret: ampersand, salt: Array(repeating: 1, count: 16))) }
        let raw = "Basic " + Base64Standard.encode(Array("app:\(ampersand)".utf8))
        let result = await TokenCall(builder.build()).post(clientCredentials, headers: [("authorization", raw)])
        #expect(result.response.status == 200, "\(result.description)")
    }

    @Test func malformedBasicHeader() async {
        let badEscape = "Basic " + Base64Standard.encode(Array("app:bad%zzescape".utf8))
        for header in ["Basic !!!", "Basic " + Base64Standard.encode(Array("no-colon".utf8)), "Bearer abc", "Basic", "Basic ", "Basicx abc", badEscape] {
            let result = await TokenCall(domain).post(clientCredentials, headers: [("authorization", header)])
            expectError(result, "invalid_client", nil, status: 401)
            #expect(result.response.header("www-authenticate") != nil)
        }
    }

    @Test func basicSecretThatIsNotUTF8IsMalformed() async {
        // Raw bytes after the colon that are not UTF-8, with and without form escapes: refused as
        // malformed before any hash is compared.
        let raw = "Basic " + Base64Standard.encode(Array("app:".utf8) + [0xFF, 0xFE] + Array("rest-of-secret".utf8))
        let escaped = "Basic " + Base64Standard.encode(Array("app:%FF%FErest-of-secret".utf8))
        for header in [raw, escaped] {
            let result = await TokenCall(domain).post(clientCredentials, headers: [("authorization", header)])
            expectError(result, "invalid_client", "malformed", status: 401)
        }
    }

    @Test func secretPost() async {
        let ok = await TokenCall(domain).post(clientCredentials + [("client_id", "poster"), ("client_secret", clientSecret)], headers: [])
        #expect(ok.response.status == 200, "\(ok.description)")
        let wrong = await TokenCall(domain).post(clientCredentials + [("client_id", "poster"), ("client_secret", "nope")], headers: [])
        expectError(wrong, "invalid_client", nil, status: 401)
        #expect(wrong.response.header("www-authenticate") == nil, "no challenge without an Authorization header")
    }

    @Test func clientMustUseItsRegisteredMethod() async {
        let postForBasicClient = await TokenCall(domain).post(clientCredentials + [("client_id", "app"), ("client_secret", clientSecret)], headers: [])
        expectError(postForBasicClient, "invalid_client", "not registered for client_secret_post", status: 401)
    }

    @Test func moreThanOneMethodIsInvalidRequest() async {
        let result = await TokenCall(domain).post(
            clientCredentials + [("client_id", "app"), ("client_secret", clientSecret)], headers: [basic("app", clientSecret)]
        )
        expectError(result, "invalid_request", "more than one client authentication method")
    }

    @Test func clientIDParameterMustMatch() async {
        let result = await TokenCall(domain).post(clientCredentials + [("client_id", "poster")], headers: [basic("app", clientSecret)])
        expectError(result, "invalid_request", "client_id does not match")
    }

    func clientAssertion(
        iss: String = "signer", sub: String = "signer", aud: JSONValue = .string(domainIssuer), exp: Int64 = now + 60,
        jti: String? = "ca-1", key: SigningKey = TestKeys.clientKey, type: String = "JWT"
    ) -> String {
        try! key.sign(type: type, payload: claims([
            ("iss", .string(iss)), ("sub", .string(sub)), ("aud", aud), ("iat", .number(Double(now))),
            ("exp", .number(Double(exp))), ("jti", jti.map { .string($0) }),
        ]))
    }

    func privateKeyJWT(_ assertion: String, type: String = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer") -> [(String, String)] {
        clientCredentials + [("client_assertion_type", type), ("client_assertion", assertion)]
    }

    @Test func privateKeyJWTSuccessAndReplay() async {
        let call = TokenCall(domain)
        let assertion = clientAssertion()
        let ok = await call.post(privateKeyJWT(assertion), headers: [])
        #expect(ok.response.status == 200, "\(ok.description)")
        #expect(ok.tokenClaims["client_id"]?.stringValue == "signer")
        let replay = await call.post(privateKeyJWT(assertion), headers: [])
        expectError(replay, "invalid_client", "already been used", status: 401)
    }

    @Test func privateKeyJWTAudienceIsIssuerOrTokenEndpoint() async {
        #expect(await TokenCall(domain).post(privateKeyJWT(clientAssertion(aud: .string(domainIssuer + "/token"))), headers: []).response.status == 200)
        expectError(await TokenCall(domain).post(privateKeyJWT(clientAssertion(aud: .string("https://elsewhere"))), headers: []), "invalid_client", "aud", status: 401)
        expectError(
            await TokenCall(domain).post(privateKeyJWT(clientAssertion(aud: .array([.string(domainIssuer), .string("https://x")]))), headers: []),
            "invalid_client", "single value", status: 401
        )
    }

    @Test func privateKeyJWTChecks() async {
        expectError(await TokenCall(domain).post(privateKeyJWT(clientAssertion(sub: "someone-else")), headers: []), "invalid_client", "\"iss\" and \"sub\"", status: 401)
        expectError(await TokenCall(domain).post(privateKeyJWT(clientAssertion(exp: now - 100)), headers: []), "invalid_client", "expired", status: 401)
        expectError(await TokenCall(domain).post(privateKeyJWT(clientAssertion(exp: now + 3600)), headers: []), "invalid_client", "exceeds", status: 401)
        expectError(await TokenCall(domain).post(privateKeyJWT(clientAssertion(jti: nil)), headers: []), "invalid_client", "jti", status: 401)
        expectError(await TokenCall(domain).post(privateKeyJWT(clientAssertion(key: TestKeys.attacker)), headers: []), "invalid_client", "no key with kid", status: 401)
        let forged = try! SigningKey(kid: "client-key", algorithm: .es256, material: TestKeys.attacker.material)
        expectError(await TokenCall(domain).post(privateKeyJWT(clientAssertion(key: forged)), headers: []), "invalid_client", "signature", status: 401)
        expectError(await TokenCall(domain).post(privateKeyJWT(clientAssertion(type: "at+jwt")), headers: []), "invalid_client", "typ", status: 401)
        expectError(await TokenCall(domain).post(privateKeyJWT(clientAssertion(iss: "app", sub: "app")), headers: []), "invalid_client", "not registered for private_key_jwt", status: 401)
        expectError(await TokenCall(domain).post(privateKeyJWT(clientAssertion(), type: "urn:other"), headers: []), "invalid_client", "client_assertion_type", status: 401)
        expectError(await TokenCall(domain).post(clientCredentials + [("client_assertion", clientAssertion())], headers: []), "invalid_request", "client_assertion_type")
    }

    @Test func clientAssertionJTIDoesNotCollideWithGrantJTI() async {
        // The same jti used for a client assertion and a grant assertion: different purposes, both fresh.
        let call = TokenCall(domain)
        let pairs = [("grant_type", jwtBearer), ("assertion", assertion(jti: "same")),
                     ("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"),
                     ("client_assertion", clientAssertion(jti: "same"))]
        let result = await call.post(pairs, headers: [])
        #expect(result.response.status == 200, "\(result.description)")
    }
}

@Suite struct ClientCredentialsGrantTests {
    let domain = TestDomainBuilder().build()

    @Test func issuesATokenAboutTheClient() async {
        let result = await TokenCall(domain).post([("grant_type", "client_credentials"), ("scope", "write")])
        #expect(result.response.status == 200)
        let claims = result.tokenClaims
        #expect(claims["sub"]?.stringValue == "app")
        #expect(claims["client_id"]?.stringValue == "app")
        #expect(claims["scope"]?.stringValue == "write")
        #expect(claims["exp"]?.numberValue == Double(now + 300))
        #expect(result.json["expires_in"]?.numberValue == 300)
    }

    @Test func scopeListsWithExtraSpacesAndRepeats() async {
        let result = await TokenCall(domain).post([("grant_type", "client_credentials"), ("scope", "  write   read write ")])
        #expect(result.response.status == 200, "\(result.description)")
        #expect(result.json["scope"]?.stringValue == "write read")
        #expect(result.tokenClaims["scope"]?.stringValue == "write read")
        expectError(await TokenCall(domain).post([("grant_type", "client_credentials"), ("scope", "read \"x")]), "invalid_scope", "characters")
        #expect(await TokenCall(domain).post([("grant_type", "client_credentials"), ("scope", "   ")]).json["scope"]?.stringValue == "read")
    }

    @Test func defaultScopesAndRefusals() async {
        #expect(await TokenCall(domain).post([("grant_type", "client_credentials")]).json["scope"]?.stringValue == "read")
        expectError(await TokenCall(domain).post([("grant_type", "client_credentials"), ("scope", "read admin")]), "invalid_scope", "admin")
    }

    @Test func clientAudienceOverride() async {
        var builder = TestDomainBuilder()
        builder.updateClient("app") { $0.accessTokenAudience = ["https://one.example", "https://two.example"] }
        let result = await TokenCall(builder.build()).post([("grant_type", "client_credentials")])
        #expect(result.tokenClaims["aud"] == .array([.string("https://one.example"), .string("https://two.example")]))
    }

    @Test func publicClientCannotUseClientCredentials() async {
        var builder = TestDomainBuilder()
        builder.updateClient("public-app") { $0.grantTypes.insert(.clientCredentials) }
        let result = await TokenCall(builder.build()).post([("grant_type", "client_credentials"), ("client_id", "public-app")], headers: [])
        expectError(result, "unauthorized_client", "public clients")
    }
}

@Suite struct SecretHashTests {
    /// Computed outside Baton (Python's hashlib): SHA-256 over salt || secret, base64url without padding.
    static let encoded = "sha256$QkJCQkJCQkJCQkJCQkJCQg$CCggoe6wlVFuDPLLdyR7Uzxs1PAugp-dmiz2sARiPWU"
    static let secret = "correct-horse-battery-staple-0123456789"

    @Test func matchesAHashMadeElsewhere() throws {
        let hash = try #require(SecretHash(encoded: Self.encoded))
        #expect(hash.matches(Self.secret))
        #expect(Array(Self.secret.utf8).withUnsafeBytes { hash.matches(utf8: $0) })
        #expect(!hash.matches(Self.secret + "x"))
        #expect(!hash.matches(String(Self.secret.dropLast())))
        #expect(!hash.matches(""))
        #expect(SecretHash(secret: Self.secret, salt: Array(repeating: 0x42, count: 16)).encoded == Self.encoded)
    }

    @Test func longSecretsHashTheSame() throws {
        // Past the size a stack scratch buffer holds; the digest was computed with Python's hashlib.
        let long = String(repeating: "k", count: 20_000)
        let hash = try #require(SecretHash(encoded: "sha256$AQEBAQEBAQEBAQEBAQEBAQ$T8NGoHMAvt5x25S18HSLIQ9FBMG_zdCupKZEvMhcB7E"))
        #expect(hash.matches(long))
        #expect(!hash.matches(long + "k"))
        #expect(SecretHash(secret: long, salt: Array(repeating: 1, count: 16)).encoded == hash.encoded)
    }
}

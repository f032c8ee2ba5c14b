import Crypto
import Foundation
import JOSE
import JWTKit
import Testing
import _CryptoExtras

/// Claims as JWTKit decodes them.
struct KitClaims: JWTPayload, Equatable {
    var iss: IssuerClaim
    var sub: SubjectClaim
    var exp: ExpirationClaim

    func verify(using algorithm: some JWTAlgorithm) async throws {
        try exp.verifyNotExpired()
    }
}

/// JWTKit key collections holding one of Baton's test keys under `kid`.
enum Kit {
    static func verifier(_ algorithm: JWSAlgorithm, material: PublicKeyMaterial, kid: String) async throws -> JWTKeyCollection {
        let keys = JWTKeyCollection()
        let identifier = JWKIdentifier(string: kid)
        let pem = PEM.encode(material)
        switch algorithm {
        case .rs256: await keys.add(rsa: try Insecure.RSA.PublicKey(pem: pem), digestAlgorithm: .sha256, kid: identifier)
        case .ps256: await keys.add(pss: try Insecure.RSA.PublicKey(pem: pem), digestAlgorithm: .sha256, kid: identifier)
        case .es256: await keys.add(ecdsa: try ES256PublicKey(pem: pem), kid: identifier)
        case .es384: await keys.add(ecdsa: try ES384PublicKey(pem: pem), kid: identifier)
        case .edDSA: await keys.add(eddsa: try EdDSA.PublicKey(x: material.members["x"]!, curve: .ed25519), kid: identifier)
        }
        return keys
    }

    static func signer(_ algorithm: JWSAlgorithm, material: PrivateKeyMaterial, kid: String) async throws -> JWTKeyCollection {
        let keys = JWTKeyCollection()
        let identifier = JWKIdentifier(string: kid)
        let pem = PEM.encode(material)
        switch algorithm {
        case .rs256: await keys.add(rsa: try Insecure.RSA.PrivateKey(pem: pem), digestAlgorithm: .sha256, kid: identifier)
        case .ps256: await keys.add(pss: try Insecure.RSA.PrivateKey(pem: pem), digestAlgorithm: .sha256, kid: identifier)
        case .es256: await keys.add(ecdsa: try ES256PrivateKey(pem: pem), kid: identifier)
        case .es384: await keys.add(ecdsa: try ES384PrivateKey(pem: pem), kid: identifier)
        case .edDSA:
            let d = try parseObject(jwkJSON(material, kid: kid, algorithm: algorithm))["d"]!.stringValue!
            await keys.add(eddsa: try EdDSA.PrivateKey(d: d, curve: .ed25519), kid: identifier)
        }
        return keys
    }

    static let claims = KitClaims(
        iss: "https://idp.example", sub: "alice", exp: ExpirationClaim(value: Date(timeIntervalSince1970: 4_102_444_800))
    )
}

@Suite("Compact JWS")
struct CompactJWSTests {
    @Test("SigningKey.sign produces a compact JWS that parses and verifies", arguments: JWSAlgorithm.allCases)
    func signAndVerify(algorithm: JWSAlgorithm) throws {
        let signer = TestKeys.signer(algorithm, kid: "key-\(algorithm.rawValue)")
        let token = try signer.sign(type: "at+jwt", payload: standardPayload())
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        #expect(parts.count == 3)
        #expect(!token.contains("=") && !token.contains("+") && !token.contains("/"))
        #expect(Base64URL.decode(String(parts[0])) == Array("{\"alg\":\"\(algorithm.rawValue)\",\"typ\":\"at+jwt\",\"kid\":\"key-\(algorithm.rawValue)\"}".utf8))
        #expect(Base64URL.decode(String(parts[1])) == standardPayload())
        let signatureLength = Base64URL.decode(String(parts[2]))?.count
        #expect(signatureLength == (algorithm.fixedSignatureLength ?? 256))

        let parsed = try CompactJWS.parse(token)
        #expect(parsed.algorithmName == algorithm.rawValue)
        #expect(parsed.kid == "key-\(algorithm.rawValue)")
        #expect(parsed.type == "at+jwt")
        #expect(parsed.header.names == ["alg", "typ", "kid"])
        #expect(parsed.claims["sub"] == .string("alice"))
        #expect(parsed.claims["exp"] == .number(4_102_444_800))

        let other = VerificationKey(kid: "other", algorithm: algorithm, material: TestKeys.otherMaterial(for: algorithm).publicKey)
        let key = try parsed.verify(with: [other, signer.verificationKey], allowedAlgorithms: [algorithm])
        #expect(key.kid == signer.kid)
    }

    @Test("a token parsed where it lies inside a larger buffer verifies over its own bytes only", arguments: JWSAlgorithm.allCases)
    func parseFromSlice(algorithm: JWSAlgorithm) throws {
        let signer = TestKeys.signer(algorithm)
        let token = try signer.sign(type: "JWT", payload: standardPayload())
        let body = Array("assertion=\(token)&scope=read".utf8)
        let start = "assertion=".utf8.count
        let parsed = try CompactJWS.parse(body[start..<(start + token.utf8.count)])
        #expect(parsed.claims["sub"] == .string("alice"))
        _ = try parsed.verify(with: [signer.verificationKey], allowedAlgorithms: [algorithm])
        // One byte more on either side is another token, and not a valid one.
        #expect(throws: JWSError.self) {
            _ = try CompactJWS.parse(body[start..<(start + token.utf8.count + 1)]).verify(with: [signer.verificationKey], allowedAlgorithms: [algorithm])
        }
        #expect(throws: JWSError.self) { _ = try CompactJWS.parse(body[(start - 1)..<(start + token.utf8.count)]) }
    }

    @Test("tokens of every size up to the limit are built and parsed whole, past the stack's scratch sizes", arguments: [.es256, JWSAlgorithm.rs256])
    func largeTokens(algorithm: JWSAlgorithm) throws {
        let signer = TestKeys.signer(algorithm)
        for length in [0, 1, 2, 700, 1_500, 4_000, 11_000] {
            let filler = String(String(repeating: "abcdefghij", count: length / 10 + 1).prefix(length))
            var claims = JSONWriter()
            claims.beginObject()
            claims.member("sub", "alice")
            claims.member("filler", filler)
            claims.endObject()
            let token = try signer.sign(type: "JWT", payload: claims.bytes)
            let parsed = try CompactJWS.parse(token)
            #expect(parsed.claims["filler"] == .string(filler))
            _ = try parsed.verify(with: [signer.verificationKey], allowedAlgorithms: [algorithm])
        }
        // Past the limit the parser refuses before decoding anything.
        let huge = try signer.sign(type: "JWT", payload: Array("{\"filler\":\"\(String(repeating: "x", count: 16_384))\"}".utf8))
        #expect(throws: JWSError.self) { _ = try CompactJWS.parse(huge) }
    }

    @Test("a different key under the same kid, or any changed byte, fails verification", arguments: JWSAlgorithm.allCases)
    func tampering(algorithm: JWSAlgorithm) throws {
        let signer = TestKeys.signer(algorithm)
        let token = try signer.sign(type: "JWT", payload: standardPayload())
        let impostor = VerificationKey(kid: signer.kid, algorithm: algorithm, material: TestKeys.otherMaterial(for: algorithm).publicKey)
        expectRejected(token, keys: [impostor], because: "signature is invalid")

        let parts = token.split(separator: ".").map(String.init)
        // Another payload under the original signature.
        let swapped = parts[0] + "." + b64(standardPayload(subject: "mallory")) + "." + parts[2]
        expectRejected(swapped, keys: [signer.verificationKey], because: "signature is invalid")
        // Another typ in the header under the original signature.
        let header = "{\"alg\":\"\(algorithm.rawValue)\",\"typ\":\"at+jwt\",\"kid\":\"\(signer.kid)\"}"
        expectRejected(b64(header) + "." + parts[1] + "." + parts[2], keys: [signer.verificationKey], because: "signature is invalid")
        // One bit of the signature flipped, in several places.
        let signature = Base64URL.decode(parts[2])!
        for index in [0, signature.count / 2, signature.count - 1] {
            var flipped = signature
            flipped[index] ^= 0x01
            expectRejected(parts[0] + "." + parts[1] + "." + b64(flipped), keys: [signer.verificationKey], because: "signature is invalid")
        }
    }

    @Test("a signing key is bound to an algorithm of its key type")
    func signingKeyBinding() throws {
        for algorithm in JWSAlgorithm.allCases {
            for material in [TestKeys.rsa, TestKeys.p256, TestKeys.p384, TestKeys.ed25519] where material.keyType != algorithm.keyType {
                #expect(throws: KeyError.self) { try SigningKey(kid: "k", algorithm: algorithm, material: material) }
                #expect(throws: KeyError.self) { try material.signature(for: [1, 2, 3], algorithm: algorithm) }
                #expect(!material.publicKey.isValidSignature([UInt8](repeating: 1, count: 64), for: [1, 2, 3], algorithm: algorithm))
            }
        }
        // A public half of another key type is refused; the one given is what the JWKS publishes.
        #expect(throws: KeyError.self) {
            try SigningKey(kid: "k", algorithm: .es256, material: TestKeys.p256, publicMaterial: TestKeys.p384.publicKey)
        }
        let given = try SigningKey(kid: "k", algorithm: .es256, material: TestKeys.p256, publicMaterial: TestKeys.p256.publicKey)
        #expect(given.verificationKey.material.members == TestKeys.p256.publicKey.members)
        let key = TestKeys.signer(.ps256, kid: "pss")
        #expect(key.verificationKey.kid == "pss")
        #expect(key.verificationKey.algorithm == .ps256)
        #expect(key.verificationKey.material.members == TestKeys.rsa.publicKey.members)
    }

    @Test("PS256 signatures are randomised, RS256/EdDSA deterministic; both verify")
    func signatureDeterminism() throws {
        let input = Array("input".utf8)
        let pss1 = try TestKeys.rsa.signature(for: input, algorithm: .ps256)
        let pss2 = try TestKeys.rsa.signature(for: input, algorithm: .ps256)
        #expect(pss1 != pss2)
        #expect(TestKeys.rsa.publicKey.isValidSignature(pss1, for: input, algorithm: .ps256))
        #expect(TestKeys.rsa.publicKey.isValidSignature(pss2, for: input, algorithm: .ps256))
        #expect(try TestKeys.rsa.signature(for: input, algorithm: .rs256) == TestKeys.rsa.signature(for: input, algorithm: .rs256))
        #expect(try TestKeys.ed25519.signature(for: input, algorithm: .edDSA) == TestKeys.ed25519.signature(for: input, algorithm: .edDSA))
    }

    @Test("typ matching ignores case and the application/ prefix (RFC 7515 4.1.9)")
    func typeMatching() {
        #expect(CompactJWS.typeMatches("at+jwt", "at+jwt"))
        #expect(CompactJWS.typeMatches("application/at+jwt", "at+jwt"))
        #expect(CompactJWS.typeMatches("AT+JWT", "at+jwt"))
        #expect(CompactJWS.typeMatches("Application/AT+JWT", "at+jwt"))
        #expect(!CompactJWS.typeMatches(nil, "at+jwt"))
        #expect(!CompactJWS.typeMatches("jwt", "at+jwt"))
        #expect(!CompactJWS.typeMatches("at+jwt ", "at+jwt"))
        #expect(!CompactJWS.typeMatches("text/at+jwt", "at+jwt"))
    }

    @Test("printable strips control and non-ASCII characters and bounds the length")
    func printable() {
        #expect(CompactJWS.printable("a\nb\u{1B}[31mc\u{7F}é") == "ab[31mc")
        let long = CompactJWS.printable(String(repeating: "x", count: 500))
        #expect(long == String(repeating: "x", count: 64) + "…")
    }

    // MARK: JWTKit cross-checks

    @Test("tokens signed by Baton verify with JWTKit", arguments: JWSAlgorithm.allCases)
    func batonToJWTKit(algorithm: JWSAlgorithm) async throws {
        let signer = TestKeys.signer(algorithm, kid: "baton-1")
        let token = try signer.sign(type: "JWT", payload: standardPayload())
        let keys = try await Kit.verifier(algorithm, material: signer.material.publicKey, kid: "baton-1")
        let claims = try await keys.verify(token, as: KitClaims.self)
        #expect(claims == Kit.claims)

        // JWTKit refuses the token under a different key: its verification is real.
        let wrong = try await Kit.verifier(algorithm, material: TestKeys.otherMaterial(for: algorithm).publicKey, kid: "baton-1")
        await #expect(throws: (any Error).self) { try await wrong.verify(token, as: KitClaims.self) }
    }

    @Test("Baton's public JWK is read by JWTKit, which then verifies Baton's tokens", arguments: JWSAlgorithm.allCases)
    func publishedJWKToJWTKit(algorithm: JWSAlgorithm) async throws {
        let signer = TestKeys.signer(algorithm, kid: "published-1")
        let jwks = "{\"keys\":[" + String(decoding: publicJWKJSON(signer.material.publicKey, kid: "published-1", algorithm: algorithm), as: UTF8.self) + "]}"
        let keys = JWTKeyCollection()
        try await keys.add(jwksJSON: jwks)
        let claims = try await keys.verify(try signer.sign(type: "JWT", payload: standardPayload()), as: KitClaims.self)
        #expect(claims.sub.value == "alice")
    }

    @Test("tokens signed by JWTKit verify with Baton", arguments: JWSAlgorithm.allCases)
    func jwtKitToBaton(algorithm: JWSAlgorithm) async throws {
        let material = TestKeys.material(for: algorithm)
        let kit = try await Kit.signer(algorithm, material: material, kid: "kit-1")
        let token = try await kit.sign(Kit.claims, kid: JWKIdentifier(string: "kit-1"))

        let parsed = try CompactJWS.parse(token)
        #expect(parsed.algorithmName == algorithm.rawValue)
        #expect(parsed.kid == "kit-1")
        #expect(parsed.claims["sub"] == .string("alice"))
        #expect(parsed.claims["iss"] == .string("https://idp.example"))
        let trusted = VerificationKey(kid: "kit-1", algorithm: algorithm, material: material.publicKey)
        let key = try parsed.verify(with: [trusted], allowedAlgorithms: [algorithm])
        #expect(key.kid == "kit-1")

        // Baton refuses JWTKit's token under a different key.
        let impostor = VerificationKey(kid: "kit-1", algorithm: algorithm, material: TestKeys.otherMaterial(for: algorithm).publicKey)
        expectRejected(token, keys: [impostor], because: "signature is invalid")
    }

    // MARK: Private JWK output

    @Test("writePrivateJWK re-parses to a key whose tokens the original public key verifies", arguments: JWSAlgorithm.allCases)
    func privateJWKRoundTrip(algorithm: JWSAlgorithm) throws {
        let material = try PrivateKeyMaterial.generate(for: algorithm)
        let object = try parseObject(jwkJSON(material, kid: "gen-1", algorithm: algorithm))
        #expect(object["kid"] == .string("gen-1"))
        #expect(object["alg"] == .string(algorithm.rawValue))
        #expect(object["use"] == .string("sig"))
        let expectedPrivate: [String] = algorithm.keyType == .rsa ? ["d", "p", "q", "dp", "dq", "qi"] : ["d"]
        for name in expectedPrivate { #expect(object[name]?.stringValue?.isEmpty == false, "missing \(name)") }

        let parsed = try JWK.parse(object)
        #expect(parsed.isPrivate)
        guard case .privateKey(let reparsed) = parsed.material else { return }
        let signer = try SigningKey(kid: try #require(parsed.kid), algorithm: try #require(parsed.algorithm), material: reparsed)
        let token = try signer.sign(type: "JWT", payload: standardPayload())
        let original = VerificationKey(kid: "gen-1", algorithm: algorithm, material: material.publicKey)
        #expect(expectAccepted(token, keys: [original], allowed: [algorithm]) != nil)

        // The public JWK holds no private member.
        let publicObject = try parseObject(publicJWKJSON(material.publicKey, kid: "gen-1", algorithm: algorithm))
        for name in ["d", "p", "q", "dp", "dq", "qi", "oth", "k"] { #expect(publicObject[name] == nil) }
        #expect(try JWK.parse(publicObject).isPrivate == false)
    }

    @Test("writePrivateJWK's RSA members match OpenSSL's view of the same key (PKCS#1 DER parsing)")
    func privateRSAMembersMatchOpenSSL() throws {
        let directory = try TemporaryDirectory()
        // An OpenSSL key read by Baton, and a swift-crypto key read by OpenSSL.
        let opensslPEM = try OpenSSL.generate(OpenSSLKeyKind.rsa.genpkeyArguments, in: directory, name: "openssl.pem")
        try directory.write("baton.pem", PEM.encode(TestKeys.rsa))
        for (name, pem) in [("openssl.pem", opensslPEM), ("baton.pem", PEM.encode(TestKeys.rsa))] {
            let material = try privateMaterial(try singleKey(pem))
            let object = try parseObject(jwkJSON(material, kid: "k", algorithm: .rs256))
            let components = try OpenSSL.textComponents(ofPrivateKey: directory.path(name))
            let mapping = [
                ("n", "modulus"), ("e", "publicExponent"), ("d", "privateExponent"), ("p", "prime1"), ("q", "prime2"),
                ("dp", "exponent1"), ("dq", "exponent2"), ("qi", "coefficient"),
            ]
            for (member, component) in mapping {
                #expect(object[member]?.stringValue == b64(try #require(components[component])), "\(name): \(member)")
            }
        }
    }
}

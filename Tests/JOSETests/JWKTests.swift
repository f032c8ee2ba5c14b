import Crypto
import JOSE
import Testing
import _CryptoExtras

@Suite("JWK")
struct JWKTests {
    func parse(_ bytes: [UInt8]) throws -> ParsedKey {
        try JWK.parse(try parseObject(bytes))
    }

    func parse(_ text: String) throws -> ParsedKey {
        try parse(Array(text.utf8))
    }

    /// Parses `object` expecting a KeyError; returns its description.
    func refusal(_ object: JSONObject, sourceLocation: SourceLocation = #_sourceLocation) -> String {
        do {
            let key = try JWK.parse(object)
            Issue.record("accepted a \(key.keyType) key", sourceLocation: sourceLocation)
            return ""
        } catch {
            return error.description
        }
    }

    func refusal(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
        refusal(try parseObject(Array(text.utf8)), sourceLocation: sourceLocation)
    }

    /// The members of `key`'s private JWK, as a mutable list for tampering.
    func members(_ key: PrivateKeyMaterial, algorithm: JWSAlgorithm, kid: String = "k") throws -> [(String, JSONValue)] {
        try parseObject(jwkJSON(key, kid: kid, algorithm: algorithm)).members.map { ($0.name, $0.value) }
    }

    func replacing(_ members: [(String, JSONValue)], _ name: String, with value: JSONValue?) -> JSONObject {
        var result = members.filter { $0.0 != name }
        if let value { result.append((name, value)) }
        return jwkObject(result)
    }

    func string(_ members: [(String, JSONValue)], _ name: String) -> String {
        members.first { $0.0 == name }!.1.stringValue!
    }

    // MARK: Accepted keys

    @Test("RFC 7638 3.1: the example RSA key's thumbprint")
    func rfc7638Thumbprint() throws {
        let key = try parse("""
        {"kty":"RSA",
         "n":"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
         "e":"AQAB","alg":"RS256","kid":"2011-04-29"}
        """)
        #expect(key.kid == "2011-04-29")
        #expect(key.algorithm == .rs256)
        #expect(key.keyType == .rsa)
        #expect(!key.isPrivate)
        #expect(key.publicMaterial.rsaBits == 2048)
        #expect(key.publicMaterial.thumbprint() == "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs")
    }

    @Test("thumbprints are the SHA-256 of the required members in lexicographic order (RFC 7638 3.2)", arguments: JWSAlgorithm.allCases)
    func thumbprintShape(algorithm: JWSAlgorithm) throws {
        let material = TestKeys.material(for: algorithm).publicKey
        let names = material.publicMembers().map(\.0)
        #expect(names == names.sorted())
        let json = "{" + material.publicMembers().map { "\"\($0.0)\":\"\($0.1)\"" }.joined(separator: ",") + "}"
        #expect(material.thumbprint() == b64(Array(SHA256.hash(data: Array(json.utf8)))))
        // Different keys, different thumbprints; the same key, the same thumbprint.
        #expect(material.thumbprint() != TestKeys.otherMaterial(for: algorithm).publicKey.thumbprint())
        #expect(material.thumbprint() == TestKeys.material(for: algorithm).publicKey.thumbprint())
    }

    @Test("public and private keys of every type parse back to the same key", arguments: JWSAlgorithm.allCases)
    func publicAndPrivate(algorithm: JWSAlgorithm) throws {
        let material = TestKeys.material(for: algorithm)

        let publicKey = try parse(publicJWKJSON(material.publicKey, kid: "pub-1", algorithm: algorithm))
        #expect(!publicKey.isPrivate)
        #expect(publicKey.kid == "pub-1")
        #expect(publicKey.algorithm == algorithm)
        #expect(publicKey.keyType == algorithm.keyType)
        #expect(publicKey.publicMaterial.members == material.publicKey.members)

        let privateKey = try parse(jwkJSON(material, kid: "priv-1", algorithm: algorithm))
        #expect(privateKey.isPrivate)
        #expect(privateKey.kid == "priv-1")
        #expect(privateKey.publicMaterial.members == material.publicKey.members)
        guard case .privateKey(let parsedPrivate) = privateKey.material else {
            Issue.record("not private")
            return
        }
        // The parsed private key signs what the original public key verifies.
        let input = Array("signing input".utf8)
        let signature = try parsedPrivate.signature(for: input, algorithm: algorithm)
        #expect(material.publicKey.isValidSignature(signature, for: input, algorithm: algorithm))
        #expect(!TestKeys.otherMaterial(for: algorithm).publicKey.isValidSignature(signature, for: input, algorithm: algorithm))
    }

    @Test("alg, kid, use and key_ops are optional; key_ops is kept")
    func optionalMembers() throws {
        var members = try members(TestKeys.p256, algorithm: .es256).filter { !["alg", "kid", "use"].contains($0.0) }
        var key = try JWK.parse(jwkObject(members))
        #expect(key.kid == nil)
        #expect(key.algorithm == nil)
        #expect(key.keyOperations == nil)
        members.append(("key_ops", .array([.string("verify")])))
        members.append(("use", .string("sig")))
        key = try JWK.parse(jwkObject(members))
        #expect(key.keyOperations == ["verify"])
    }

    @Test("a kid of exactly 256 bytes is accepted")
    func longestKid() throws {
        let kid = String(repeating: "k", count: 256)
        let key = try parse(publicJWKJSON(TestKeys.ed25519.publicKey, kid: kid, algorithm: .edDSA))
        #expect(key.kid == kid)
    }

    // MARK: Refused keys

    @Test("symmetric and unknown key types are refused")
    func keyTypes() throws {
        #expect(try refusal(#"{"kty":"oct","k":"c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldA","alg":"HS256"}"#).contains("\"alg\" \"HS256\""))
        #expect(try refusal(#"{"kty":"oct","k":"c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldA"}"#).contains("oct"))
        #expect(try refusal(#"{"kty":"XYZ","x":"AAAA"}"#).contains("unsupported \"kty\""))
        #expect(try refusal(#"{"kty":"rsa","n":"AAAA","e":"AQAB"}"#).contains("kty"))
        #expect(try refusal(#"{"x":"AAAA"}"#).contains("missing \"kty\""))
        #expect(try refusal(#"{"kty":1}"#).contains("\"kty\" must be a string"))
    }

    @Test("unsupported curves are refused", arguments: [
        ("EC", "P-521", 66), ("EC", "secp256k1", 32), ("EC", "P-192", 24), ("EC", "p-256", 32), ("OKP", "X25519", 32), ("OKP", "Ed448", 57),
    ])
    func curves(kty: String, crv: String, length: Int) {
        let coordinate = JSONValue.string(b64([UInt8](repeating: 7, count: length)))
        let message = refusal(jwkObject([("kty", .string(kty)), ("crv", .string(crv)), ("x", coordinate), ("y", coordinate)]))
        #expect(message.contains("unsupported") && message.contains(crv))
    }

    @Test("P-521 with a real key from swift-crypto is refused by curve, not by length")
    func realP521() {
        let raw = Array(P521.Signing.PrivateKey().publicKey.rawRepresentation)
        let message = refusal(jwkObject([
            ("kty", .string("EC")), ("crv", .string("P-521")), ("x", .string(b64(Array(raw[0..<66])))), ("y", .string(b64(Array(raw[66...])))),
        ]))
        #expect(message.contains("unsupported curve \"P-521\""))
    }

    @Test("EC coordinates of the wrong length are refused", arguments: [JWSAlgorithm.es256, .es384])
    func coordinateLength(algorithm: JWSAlgorithm) throws {
        let members = try members(TestKeys.material(for: algorithm), algorithm: algorithm).filter { $0.0 != "d" }
        let x = Base64URL.decode(string(members, "x"))!
        let y = Base64URL.decode(string(members, "y"))!
        for (name, value) in [("x", Array(x.dropFirst())), ("x", [0] + x), ("y", Array(y.dropLast())), ("y", y + [0]), ("x", [])] {
            let message = refusal(replacing(members, name, with: .string(b64(value))))
            #expect(message.contains("\"x\" and \"y\" must be") || message.contains("not valid base64url"), "\(message)")
        }
        #expect(refusal(replacing(members, "y", with: nil)).contains("missing \"y\""))
        #expect(refusal(replacing(members, "x", with: .string("not+base64"))).contains("\"x\" is not valid base64url"))
        #expect(refusal(replacing(members, "crv", with: nil)).contains("missing \"crv\""))
    }

    @Test("a point that is not on the curve is refused", arguments: [JWSAlgorithm.es256, .es384])
    func pointNotOnCurve(algorithm: JWSAlgorithm) throws {
        let members = try members(TestKeys.material(for: algorithm), algorithm: algorithm).filter { $0.0 != "d" }
        var y = Base64URL.decode(string(members, "y"))!
        y[y.count - 1] ^= 0x01
        #expect(refusal(replacing(members, "y", with: .string(b64(y)))).contains("not a point on"))
        let zeros = b64([UInt8](repeating: 0, count: y.count))
        #expect(refusal(replacing(replacing(members, "x", with: .string(zeros)).members.map { ($0.name, $0.value) }, "y", with: .string(zeros))).contains("not a point on"))
    }

    @Test("a private member that does not belong to the public ones is refused", arguments: [JWSAlgorithm.es256, .es384, .edDSA])
    func mismatchedPrivate(algorithm: JWSAlgorithm) throws {
        let members = try members(TestKeys.material(for: algorithm), algorithm: algorithm)
        let otherD = string(try self.members(TestKeys.otherMaterial(for: algorithm), algorithm: algorithm), "d")
        let message = refusal(replacing(members, "d", with: .string(otherD)))
        #expect(message.contains("\"d\" does not match"))
        #expect(!message.contains(otherD))
        #expect(!message.contains(string(members, "d")))

        let d = Base64URL.decode(string(members, "d"))!
        #expect(!refusal(replacing(members, "d", with: .string(b64(Array(d.dropFirst()))))).isEmpty)
        if algorithm != .edDSA {
            // Zero is not a valid scalar, nor is one at or above the group order.
            #expect(refusal(replacing(members, "d", with: .string(b64([UInt8](repeating: 0, count: d.count))))).contains("not a valid"))
            #expect(refusal(replacing(members, "d", with: .string(b64([UInt8](repeating: 0xFF, count: d.count))))).contains("not a valid"))
        }
    }

    @Test("the public half of an EC private key is the one swift-crypto derives")
    func ecPublicHalf() throws {
        for _ in 0..<8 {
            let p256 = P256.Signing.PrivateKey()
            guard case .p256(let derived) = PrivateKeyMaterial.p256(p256).publicKey else { Issue.record("not P-256"); return }
            #expect(derived.rawRepresentation == p256.publicKey.rawRepresentation)
            let p384 = P384.Signing.PrivateKey()
            guard case .p384(let derived384) = PrivateKeyMaterial.p384(p384).publicKey else { Issue.record("not P-384"); return }
            #expect(derived384.rawRepresentation == p384.publicKey.rawRepresentation)
        }
    }

    @Test("RSA private members must come with p and q and must form the key")
    func rsaPrivate() throws {
        let members = try members(TestKeys.rsa, algorithm: .rs256)
        #expect(refusal(replacing(members, "p", with: nil)).contains("needs \"p\" and \"q\""))
        #expect(refusal(replacing(members, "q", with: nil)).contains("needs \"p\" and \"q\""))
        let otherD = string(try self.members(TestKeys.rsaOther, algorithm: .rs256), "d")
        let message = refusal(replacing(members, "d", with: .string(otherD)))
        #expect(message.contains("do not form a valid key"))
        #expect(!message.contains(otherD))
        let otherP = string(try self.members(TestKeys.rsaOther, algorithm: .rs256), "p")
        #expect(refusal(replacing(members, "p", with: .string(otherP))).contains("do not form a valid key"))
        #expect(refusal(replacing(members, "e", with: nil)).contains("missing \"e\""))
    }

    @Test("an alg that does not fit the key type is refused", arguments: [
        (JWSAlgorithm.rs256, JWSAlgorithm.es256), (.ps256, .edDSA), (.es256, .rs256), (.es256, .es384), (.es384, .es256), (.edDSA, .es256), (.edDSA, .ps256),
    ])
    func algorithmFit(keyAlgorithm: JWSAlgorithm, declared: JWSAlgorithm) throws {
        let members = try members(TestKeys.material(for: keyAlgorithm), algorithm: keyAlgorithm)
        let message = refusal(replacing(members, "alg", with: .string(declared.rawValue)))
        #expect(message.contains("does not fit"))
    }

    @Test("unknown and symmetric alg values are refused", arguments: ["HS256", "none", "RS384", "ES512", "es256", "RSA-OAEP", ""])
    func unknownAlgorithm(alg: String) throws {
        let members = try members(TestKeys.p256, algorithm: .es256)
        #expect(refusal(replacing(members, "alg", with: .string(alg))).contains("unsupported \"alg\""))
        #expect(refusal(replacing(members, "alg", with: .number(1))).contains("\"alg\" must be a string"))
    }

    @Test("use other than sig is refused", arguments: ["enc", "Sig", "", "signature"])
    func use(value: String) throws {
        let members = try members(TestKeys.ed25519, algorithm: .edDSA)
        #expect(refusal(replacing(members, "use", with: .string(value))).contains("\"use\""))
    }

    @Test("kid must be 1 to 256 bytes and a string")
    func kidLimits() throws {
        let members = try members(TestKeys.p384, algorithm: .es384)
        #expect(refusal(replacing(members, "kid", with: .string(String(repeating: "k", count: 257)))).contains("\"kid\" must be 1 to 256"))
        // 129 two-byte characters: 258 bytes.
        #expect(refusal(replacing(members, "kid", with: .string(String(repeating: "é", count: 129)))).contains("\"kid\""))
        #expect(refusal(replacing(members, "kid", with: .string(""))).contains("\"kid\""))
        #expect(refusal(replacing(members, "kid", with: .number(5))).contains("\"kid\" must be a string"))
    }

    @Test("key_ops must be an array of strings")
    func keyOperations() throws {
        let members = try members(TestKeys.p256, algorithm: .es256)
        for bad in [JSONValue.string("verify"), .array([.string("sign"), .number(1)]), .object(JSONObject())] {
            #expect(refusal(replacing(members, "key_ops", with: bad)).contains("\"key_ops\""))
        }
    }

    @Test("Ed25519 x and d must be 32 bytes")
    func ed25519Lengths() throws {
        let members = try members(TestKeys.ed25519, algorithm: .edDSA)
        let x = Base64URL.decode(string(members, "x"))!
        #expect(refusal(replacing(members, "x", with: .string(b64(x + [0])))).contains("32-byte"))
        let d = Base64URL.decode(string(members, "d"))!
        #expect(refusal(replacing(members, "d", with: .string(b64(Array(d.dropLast()))))).contains("32-byte"))
    }

    @Test("messages never contain private key material", arguments: JWSAlgorithm.allCases)
    func messagesWithoutSecrets(algorithm: JWSAlgorithm) throws {
        let members = try members(TestKeys.material(for: algorithm), algorithm: algorithm)
        let d = string(members, "d")
        for tampered in [
            replacing(members, "alg", with: .string(algorithm.keyType == .rsa ? "ES256" : "RS256")),
            replacing(members, "use", with: .string("enc")),
            replacing(members, "kid", with: .string("")),
        ] {
            let message = refusal(tampered)
            #expect(!message.isEmpty)
            #expect(!message.contains(d))
            #expect(!message.contains(String(d.prefix(12))))
        }
    }
}

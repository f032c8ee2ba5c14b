import Foundation
import Handlers
import JOSE
import KeyLoader
import Testing

@Suite("SigningKeyLoader")
struct SigningKeyLoaderTests {
    let source = "BATON_SIGNING_KEYS"

    func verify(_ token: String, with keys: KeySet, sourceLocation: SourceLocation = #_sourceLocation) -> VerificationKey? {
        do {
            return try CompactJWS.parse(token).verify(with: keys.published, allowedAlgorithms: Set(JWSAlgorithm.allCases))
        } catch {
            Issue.record("token refused: \(error.description)", sourceLocation: sourceLocation)
            return nil
        }
    }

    @Test("JWKS: given kids, active signers per algorithm, verify-only and public keys are published only")
    func jwksDocument() throws {
        let document = jwks(
            privateJWK(TestKeys.p256, kid: "es-active", algorithm: .es256),
            privateJWK(TestKeys.p256Second, kid: "es-old", algorithm: .es256, extra: ["key_ops": #"["verify"]"#]),
            publicJWK(TestKeys.ed25519.publicKey, kid: "ed-pub", algorithm: nil),
            privateJWK(TestKeys.rsa, kid: "rsa-ps", algorithm: .ps256),
            privateJWK(TestKeys.p384, kid: "p384", algorithm: nil, extra: ["key_ops": #"["sign","verify"]"#])
        )
        let keys = try SigningKeyLoader.load(document, source: source)
        #expect(keys.published.map(\.kid) == ["es-active", "es-old", "ed-pub", "rsa-ps", "p384"])
        #expect(keys.published.map(\.algorithm) == [.es256, .es256, .edDSA, .ps256, .es384])
        #expect(Set(keys.activeSigners.keys) == [.es256, .ps256, .es384])
        #expect(keys.activeSigners[.es256]?.kid == "es-active")
        #expect(keys.activeSigners[.ps256]?.kid == "rsa-ps")
        #expect(keys.activeSigners[.es384]?.kid == "p384")
        #expect(keys.activeSigners[.edDSA] == nil)
        #expect(keys.activeSigners[.rs256] == nil)

        // Every active signer's token verifies against the published set, under its own kid.
        for (algorithm, signer) in keys.activeSigners {
            #expect(signer.algorithm == algorithm)
            let token = try signer.sign(type: "at+jwt", payload: Array("{\"sub\":\"a\"}".utf8))
            #expect(verify(token, with: keys)?.kid == signer.kid)
        }
        // A token signed before rotation by the verify-only key still verifies.
        let old = try SigningKey(kid: "es-old", algorithm: .es256, material: TestKeys.p256Second)
        #expect(verify(try old.sign(type: "at+jwt", payload: Array("{}".utf8)), with: keys)?.kid == "es-old")

        // The published JWKS holds public members only.
        let published = try #require(try JSONParser.parse(keys.jwksDocument()).objectValue?["keys"]?.arrayValue)
        #expect(published.count == 5)
        for (index, item) in published.enumerated() {
            let object = try #require(item.objectValue)
            #expect(object["d"] == nil && object["p"] == nil && object["q"] == nil)
            let parsed = try JWK.parse(object)
            #expect(!parsed.isPrivate)
            #expect(parsed.kid == keys.published[index].kid)
            #expect(parsed.algorithm == keys.published[index].algorithm)
        }
        expectNoSecrets(in: String(decoding: keys.jwksDocument(), as: UTF8.self), from: document)
    }

    @Test("multi-block PEM: kids are RFC 7638 thumbprints, algorithms the type defaults, public blocks publish only")
    func pemDocument() throws {
        let directory = try TemporaryDirectory()
        let rsaPEM = try OpenSSL.generate(["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"], in: directory, name: "rsa.pem")
        let edPEM = try OpenSSL.generate(["-algorithm", "ed25519"], in: directory, name: "ed.pem")
        let p256PEM = try OpenSSL.generate(["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"], in: directory, name: "p256.pem")
        _ = try OpenSSL.generate(["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384"], in: directory, name: "p384.pem")
        let p384Public = try OpenSSL.publicPEM(of: "p384.pem", in: directory)
        let text = "# domain signing keys\n" + p256PEM + "\n# next: ed25519\n" + edPEM + rsaPEM + "comment\n" + p384Public

        let keys = try SigningKeyLoader.load(text, source: source)
        #expect(keys.published.map(\.algorithm) == [.es256, .edDSA, .rs256, .es384])
        for key in keys.published {
            #expect(key.kid == key.material.thumbprint())
            #expect(key.kid.utf8.count == 43)
        }
        #expect(Set(keys.activeSigners.keys) == [.es256, .edDSA, .rs256])
        #expect(keys.activeSigners[.es384] == nil)
        #expect(keys.published[3].material.keyType == .p384)
        for (_, signer) in keys.activeSigners {
            let token = try signer.sign(type: "JWT", payload: Array("{}".utf8))
            #expect(verify(token, with: keys)?.kid == signer.kid)
        }
    }

    @Test("a JWKS key without kid gets its thumbprint; a kid given is kept verbatim")
    func kidGivenOrDerived() throws {
        let keys = try SigningKeyLoader.load(
            jwks(privateJWK(TestKeys.ed25519, kid: nil, algorithm: nil), privateJWK(TestKeys.p256, kid: "2026-01 main", algorithm: .es256)),
            source: source
        )
        #expect(keys.published[0].kid == TestKeys.ed25519.publicKey.thumbprint())
        #expect(keys.published[0].algorithm == .edDSA)
        #expect(keys.published[1].kid == "2026-01 main")
        #expect(keys.activeSigners[.edDSA]?.kid == TestKeys.ed25519.publicKey.thumbprint())
    }

    @Test("an RSA private key without alg signs RS256; PS256 needs an explicit alg")
    func rsaDefaults() throws {
        let keys = try SigningKeyLoader.load(jwks(privateJWK(TestKeys.rsa, kid: "r", algorithm: nil)), source: source)
        #expect(keys.activeSigners[.rs256]?.kid == "r")
        #expect(keys.activeSigners[.ps256] == nil)
    }

    @Test("documents with CRLF line ends load like LF ones")
    func crlfDocuments() throws {
        let document = jwks(privateJWK(TestKeys.p256, kid: "k", algorithm: .es256))
        #expect(try SigningKeyLoader.load("\n" + document + "\n", source: source).activeSigners[.es256]?.kid == "k")
        #expect(try SigningKeyLoader.load("\r\n" + document + "\r\n", source: source).activeSigners[.es256]?.kid == "k")
        let pem = (PEM.encode(TestKeys.p256) + "\n").replacingOccurrences(of: "\n", with: "\r\n")
        #expect(try SigningKeyLoader.load(pem, source: source).activeSigners[.es256]?.kid == TestKeys.p256.publicKey.thumbprint())
    }

    @Test("two active signers for one algorithm are an error naming both")
    func twoActiveSigners() throws {
        let document = jwks(
            privateJWK(TestKeys.p256, kid: "first", algorithm: .es256),
            publicJWK(TestKeys.p384.publicKey, kid: "between", algorithm: .es384),
            privateJWK(TestKeys.p256Second, kid: "second", algorithm: nil)
        )
        let message = signingKeyRefusal(document)
        #expect(message.contains("key 3 (kid \"second\")"))
        #expect(message.contains("key 1 (kid \"first\")"))
        #expect(message.contains("both active ES256 signers"))
        #expect(message.contains("\"key_ops\": [\"verify\"]"))

        let pem = PEM.encode(TestKeys.p256) + "\n" + PEM.encode(TestKeys.p256Second)
        let pemMessage = signingKeyRefusal(pem)
        #expect(pemMessage.contains("PEM block 2") && pemMessage.contains("PEM block 1"))
        #expect(pemMessage.contains("both active ES256 signers"))

        // RS256 and PS256 from two RSA keys are two algorithms, not a conflict; so are RSA key_ops verify + sign.
        let mixed = try SigningKeyLoader.load(
            jwks(privateJWK(TestKeys.p256, kid: "a", algorithm: .es256),
                 privateJWK(TestKeys.p256Second, kid: "b", algorithm: .es256, extra: ["key_ops": #"["verify"]"#]),
                 privateJWK(TestKeys.p256Third, kid: "c", algorithm: .es256, extra: ["key_ops": #"["verify"]"#])),
            source: source
        )
        #expect(mixed.activeSigners[.es256]?.kid == "a")
        #expect(mixed.published.count == 3)
    }

    @Test("duplicate kids are refused, given or derived")
    func duplicateKids() {
        let message = signingKeyRefusal(jwks(
            privateJWK(TestKeys.p256, kid: "dup", algorithm: .es256),
            publicJWK(TestKeys.ed25519.publicKey, kid: "dup", algorithm: .edDSA)
        ))
        #expect(message.contains("key 2 (kid \"dup\"): duplicate kid \"dup\""))

        let samePEMTwice = PEM.encode(TestKeys.ed25519) + "\n" + PEM.encode(TestKeys.ed25519.publicKey)
        let pemMessage = signingKeyRefusal(samePEMTwice)
        #expect(pemMessage.contains("PEM block 2: duplicate kid \"\(TestKeys.ed25519.publicKey.thumbprint())\""))

        // A kid given explicitly that collides with another key's thumbprint.
        let collision = signingKeyRefusal(jwks(
            privateJWK(TestKeys.p256, kid: nil, algorithm: .es256),
            publicJWK(TestKeys.p384.publicKey, kid: TestKeys.p256.publicKey.thumbprint(), algorithm: .es384)
        ))
        #expect(collision.contains("duplicate kid"))
    }

    @Test("RSA-1024 from OpenSSL is refused with a message about 2048 bits")
    func weakRSAFromPEM() throws {
        let directory = try TemporaryDirectory()
        let pem = try OpenSSL.generate(["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:1024"], in: directory, name: "weak.pem")
        let message = signingKeyRefusal(pem)
        #expect(message == "BATON_SIGNING_KEYS: PEM block 1: RSA key of 1024 bits; at least 2048 are required")
        let publicMessage = signingKeyRefusal(try OpenSSL.publicPEM(of: "weak.pem", in: directory))
        #expect(publicMessage.contains("2048"))
        // Next to a valid key, too.
        #expect(signingKeyRefusal(PEM.encode(TestKeys.p256) + "\n" + pem).contains("PEM block 2: RSA key of 1024 bits"))
    }

    @Test("RSA-1024 given as a JWK is refused with a message about 2048 bits")
    func weakRSAFromJWK() throws {
        let directory = try TemporaryDirectory()
        _ = try OpenSSL.generate(["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:1024"], in: directory, name: "weak.pem")
        let c = try OpenSSL.rsaComponents(of: "weak.pem", in: directory)
        let n = Base64URL.encodeToString(c["modulus"]!)
        let publicOnly = jwks("{\"kty\":\"RSA\",\"kid\":\"weak\",\"n\":\"\(n)\",\"e\":\"AQAB\"}")
        let withPrivate = jwks(
            "{\"kty\":\"RSA\",\"kid\":\"weak\",\"n\":\"\(n)\",\"e\":\"AQAB\",\"d\":\"\(Base64URL.encodeToString(c["privateExponent"]!))\","
                + "\"p\":\"\(Base64URL.encodeToString(c["prime1"]!))\",\"q\":\"\(Base64URL.encodeToString(c["prime2"]!))\"}"
        )
        for document in [publicOnly, withPrivate] {
            let message = signingKeyRefusal(document)
            #expect(message.contains("2048"), "\(message)")
        }
    }

    @Test("garbled PEM, empty documents and non-key text are refused with the source name first", arguments: [
        ("-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg!!!!\n-----END PRIVATE KEY-----\n", "not valid base64"),
        ("-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg\n", "has no END line"),
        ("-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg\n-----END PUBLIC KEY-----\n", "ends with END PUBLIC KEY"),
        ("-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg\n-----END PRIVATE KEY-----\n", "PEM block 1: PRIVATE KEY is not"),
        ("", "neither a JWKS document nor PEM"),
        ("  \n\t\n", "neither a JWKS document nor PEM"),
        ("not a key", "neither a JWKS document nor PEM"),
        ("{\"keys\":[]}", "holds no keys"),
        ("{\"keys\":[]", "not valid JSON"),
        ("{\"keys\":\"x\"}", "needs a \"keys\" array"),
        ("{\"key\":[]}", "needs a \"keys\" array"),
        ("{\"keys\":[1]}", "key 1: a JWK must be a JSON object"),
        ("{\"keys\":[{\"kty\":\"oct\",\"k\":\"c2VjcmV0\"}]}", "key 1: symmetric"),
        ("{\"keys\":[],\"keys\":[]}", "duplicate member"),
    ])
    func malformedDocuments(text: String, fragment: String) {
        let message = signingKeyRefusal(text)
        #expect(message.contains(fragment), "\(message)")
    }

    @Test("messages name the source given and never contain key material", arguments: [0, 1, 2, 3, 4, 5])
    func noKeyMaterialInMessages(variant: Int) throws {
        let good = privateJWK(TestKeys.rsa, kid: "good", algorithm: .rs256)
        let bad: String = switch variant {
        case 0: privateJWK(TestKeys.p256, kid: "bad", algorithm: .es256, extra: ["alg": "\"RS256\""])
        case 1: privateJWK(TestKeys.p256, kid: "bad", algorithm: .es256, extra: ["use": "\"enc\""])
        case 2: privateJWK(TestKeys.p256, kid: "good", algorithm: .es256)
        case 3: privateJWK(TestKeys.p256, kid: "bad", algorithm: .es256, extra: ["key_ops": #"["encrypt"]"#])
        case 4: privateJWK(TestKeys.rsa, kid: "bad", algorithm: .rs256)
        default: privateJWK(TestKeys.p384, kid: String(repeating: "k", count: 300), algorithm: .es384)
        }
        let document = jwks(good, bad)
        let sourceName = "BATON_SIGNING_KEYS_FILE (/run/secrets/keys.json)"
        let message = signingKeyRefusal(document, source: sourceName)
        #expect(message.hasPrefix(sourceName + ": key 2"))
    }

    @Test("key_ops may only hold sign and verify, and not be empty", arguments: [#"["encrypt"]"#, #"[]"#, #"["sign","wrapKey"]"#, #""verify""#])
    func keyOperations(ops: String) {
        let message = signingKeyRefusal(jwks(privateJWK(TestKeys.p256, kid: "k", algorithm: .es256, extra: ["key_ops": ops])))
        #expect(message.contains("\"key_ops\""))
    }

    @Test("a PEM block that is not a supported key is refused without echoing any block")
    func pemBlockErrors() throws {
        let directory = try TemporaryDirectory()
        let p521 = try OpenSSL.generate(["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-521"], in: directory, name: "p521.pem")
        let document = PEM.encode(TestKeys.p256) + "\n" + p521
        let message = signingKeyRefusal(document)
        #expect(message.hasPrefix("BATON_SIGNING_KEYS: PEM block 2: PRIVATE KEY is not"))

        try OpenSSL.run(["pkcs8", "-topk8", "-in", directory.path("p521.pem"), "-v2", "aes-256-cbc", "-passout", "pass:x", "-out", directory.path("enc.pem")])
        let encrypted = try directory.read("enc.pem")
        #expect(signingKeyRefusal(encrypted).contains("encrypted private keys are not supported"))
    }
}

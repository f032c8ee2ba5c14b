import Crypto
import Foundation
import JOSE
import JWTKit
import Testing
import _CryptoExtras

/// Checklist J: attacks on the JOSE layer. Every token here must be refused with a JWSError, and where the
/// refusal has a specific reason the test checks it, so that a token is not "refused" for an unrelated fault.
@Suite("JOSE attacks")
struct AttackTests {
    static let trusted = TestKeys.signer(.es256, kid: "trusted")
    static let rsaTrusted = TestKeys.signer(.rs256, kid: "rsa")
    var keys: [VerificationKey] { [Self.trusted.verificationKey, Self.rsaTrusted.verificationKey] }
    let payload = "{\"iss\":\"https://idp.example\",\"sub\":\"alice\",\"exp\":4102444800}"

    /// A token signed by the trusted ES256 key, whatever its header says.
    func trustedToken(header: String, payload: String? = nil) throws -> String {
        try signedToken(header: header, payload: payload ?? self.payload, key: Self.trusted.material, algorithm: .es256)
    }

    @Test("the trusted token used as the base of the attacks is itself accepted")
    func baseline() throws {
        expectAccepted(try trustedToken(header: #"{"alg":"ES256","kid":"trusted"}"#), keys: keys)
        expectAccepted(try Self.trusted.sign(type: "JWT", payload: Array(payload.utf8)), keys: keys)
    }

    // MARK: Algorithms

    @Test("alg none in any spelling is refused", arguments: ["none", "None", "NONE", "nOnE", "noNe"])
    func algNone(alg: String) throws {
        let header = "{\"alg\":\"\(alg)\",\"kid\":\"trusted\"}"
        expectRejected(compactToken(header: header, payload: payload, signature: []), keys: keys, because: "alg \"none\"")
        // With a real signature attached, too.
        let signature = try Self.trusted.material.signature(for: Array((b64(header) + "." + b64(payload)).utf8), algorithm: .es256)
        expectRejected(compactToken(header: header, payload: payload, signature: signature), keys: keys, because: "alg \"none\"")
        expectRejected(compactToken(header: "{\"alg\":\"\(alg)\"}", payload: payload, signature: []), keys: keys, because: "alg \"none\"")
    }

    @Test("algorithms Baton does not implement are refused, even with every algorithm allowed", arguments: [
        "HS256", "HS384", "HS512", "RS384", "RS512", "PS384", "PS512", "ES512", "ES256K", "Ed25519", "EdDSA ", "rs256", "es256", "", "none ",
    ])
    func unsupportedAlgorithms(alg: String) throws {
        let token = try trustedToken(header: "{\"alg\":\"\(alg)\",\"kid\":\"trusted\"}")
        expectRejected(token, keys: keys, because: "is not supported")
    }

    @Test("alg missing or not a string is refused")
    func algShape() throws {
        expectRejected(try trustedToken(header: #"{"kid":"trusted"}"#), keys: keys, because: "no \"alg\"")
        expectRejected(try trustedToken(header: #"{"alg":["ES256"],"kid":"trusted"}"#), keys: keys, because: "\"alg\" must be a string")
        expectRejected(try trustedToken(header: #"{"alg":null,"kid":"trusted"}"#), keys: keys, because: "\"alg\" must be a string")
    }

    @Test("a supported algorithm that is not allowed for the issuer is refused")
    func algorithmNotAllowed() throws {
        let token = try Self.trusted.sign(type: "JWT", payload: Array(payload.utf8))
        expectRejected(token, keys: keys, allowed: [.rs256, .ps256, .es384, .edDSA], because: "ES256 is not allowed")
        expectRejected(token, keys: keys, allowed: [], because: "not allowed")
        expectAccepted(token, keys: keys, allowed: [.es256])
    }

    @Test("HS256 with the RSA public key PEM as the HMAC secret is refused (HS256 is not supported)")
    func hmacKeyConfusion() async throws {
        let publicPEM = PEM.encode(Self.rsaTrusted.material.publicKey)
        let publicJWK = String(decoding: publicJWKJSON(Self.rsaTrusted.material.publicKey, kid: "rsa", algorithm: .rs256), as: UTF8.self)
        for secret in [publicPEM, publicPEM.trimmingCharacters(in: .newlines), publicJWK] {
            for header in [#"{"alg":"HS256","kid":"rsa","typ":"JWT"}"#, #"{"alg":"HS256","typ":"JWT"}"#] {
                let input = b64(header) + "." + b64(payload)
                let mac = HMAC<SHA256>.authenticationCode(for: Array(input.utf8), using: SymmetricKey(data: Data(secret.utf8)))
                let token = input + "." + b64(Array(mac))
                expectRejected(token, keys: keys, because: "algorithm \"HS256\" is not supported")
                expectRejected(token, keys: keys, allowed: Set(JWSAlgorithm.allCases), because: "is not supported")
            }
        }
        // The same attack built with JWTKit, as an attacker would.
        let attacker = JWTKeyCollection()
        await attacker.add(hmac: HMACKey(from: publicPEM), digestAlgorithm: .sha256, kid: "rsa")
        let claims = KitClaims(iss: "https://idp.example", sub: "mallory", exp: ExpirationClaim(value: Date(timeIntervalSince1970: 4_102_444_800)))
        let token = try await attacker.sign(claims, kid: "rsa")
        expectRejected(token, keys: keys, because: "algorithm \"HS256\" is not supported")
    }

    @Test("one key, one algorithm: an RS256 key never verifies a PS256 token from the same RSA key, and vice versa")
    func rsaAlgorithmBinding() throws {
        let rs256Key = VerificationKey(kid: "rsa", algorithm: .rs256, material: TestKeys.rsa.publicKey)
        let ps256Key = VerificationKey(kid: "rsa", algorithm: .ps256, material: TestKeys.rsa.publicKey)
        let psToken = try TestKeys.signer(.ps256, kid: "rsa").sign(type: "JWT", payload: Array(payload.utf8))
        let rsToken = try TestKeys.signer(.rs256, kid: "rsa").sign(type: "JWT", payload: Array(payload.utf8))
        expectAccepted(psToken, keys: [ps256Key])
        expectAccepted(rsToken, keys: [rs256Key])

        expectRejected(psToken, keys: [rs256Key], because: "is for RS256, not PS256")
        expectRejected(rsToken, keys: [ps256Key], because: "is for PS256, not RS256")
        // Without a kid the key is chosen by algorithm, and there is no PS256 key.
        let psNoKid = try signedToken(header: #"{"alg":"PS256"}"#, payload: payload, key: TestKeys.rsa, algorithm: .ps256)
        expectRejected(psNoKid, keys: [rs256Key], because: "no PS256 key is trusted")
        // A PKCS#1 v1.5 signature relabelled PS256 (and the reverse) does not verify under the other padding.
        let rsParts = rsToken.split(separator: ".").map(String.init)
        let relabelled = b64(#"{"alg":"PS256","kid":"rsa"}"#) + "." + rsParts[1]
        let rsSignatureOverRelabelled = try TestKeys.rsa.signature(for: Array(relabelled.utf8), algorithm: .rs256)
        expectRejected(relabelled + "." + b64(rsSignatureOverRelabelled), keys: [ps256Key], because: "signature is invalid")
        let input = Array("x".utf8)
        #expect(!TestKeys.rsa.publicKey.isValidSignature(try TestKeys.rsa.signature(for: input, algorithm: .ps256), for: input, algorithm: .rs256))
        #expect(!TestKeys.rsa.publicKey.isValidSignature(try TestKeys.rsa.signature(for: input, algorithm: .rs256), for: input, algorithm: .ps256))
    }

    @Test("a token whose alg differs from its kid's key algorithm is refused")
    func kidAlgorithmMismatch() throws {
        // ES384 header naming the ES256 key, signed by the P-256 key.
        let token = try trustedToken(header: #"{"alg":"ES384","kid":"trusted"}"#)
        expectRejected(token, keys: keys, because: "is for ES256, not ES384")
        // EdDSA header naming the RSA key.
        let edToken = try signedToken(header: #"{"alg":"EdDSA","kid":"rsa"}"#, payload: payload, key: TestKeys.ed25519, algorithm: .edDSA)
        expectRejected(edToken, keys: keys, because: "is for RS256, not EdDSA")
    }

    // MARK: Key selection

    @Test("without a kid, exactly one key for the algorithm is used; two are refused (no default key)")
    func kidAbsent() throws {
        let token = try trustedToken(header: #"{"alg":"ES256"}"#)
        let single = expectAccepted(token, keys: keys)
        #expect(single?.1.kid == "trusted")

        let second = VerificationKey(kid: "second", algorithm: .es256, material: TestKeys.p256Other.publicKey)
        expectRejected(token, keys: keys + [second], because: "several ES256 keys")
        expectRejected(token, keys: [second] + keys, because: "several ES256 keys")
        // Even when the first of them would have verified it.
        expectRejected(token, keys: [Self.trusted.verificationKey, second], because: "several ES256 keys")
        // And with no key for the algorithm at all.
        expectRejected(token, keys: [Self.rsaTrusted.verificationKey], because: "no ES256 key is trusted")
    }

    @Test("an unknown kid is refused; there is no fallback to another key", arguments: ["unknown", "TRUSTED", "trusted ", "trusted\u{0}", "rsa2"])
    func unknownKid(kid: String) throws {
        let header = "{\"alg\":\"ES256\",\"kid\":\(JSONValueText.quoted(kid))}"
        expectRejected(try trustedToken(header: header), keys: keys, because: "no key with kid")
    }

    @Test("kid longer than 256 bytes, empty or not a string is refused")
    func kidShape() throws {
        let long = String(repeating: "k", count: 257)
        let longKey = VerificationKey(kid: long, algorithm: .es256, material: Self.trusted.material.publicKey)
        expectRejected(try trustedToken(header: "{\"alg\":\"ES256\",\"kid\":\"\(long)\"}"), keys: keys + [longKey], because: "\"kid\" must be 1 to 256")
        expectRejected(try trustedToken(header: "{\"alg\":\"ES256\",\"kid\":\"\(String(repeating: "k", count: 10_000))\"}"), keys: keys, because: "\"kid\" must be 1 to 256")
        expectRejected(try trustedToken(header: #"{"alg":"ES256","kid":""}"#), keys: keys, because: "\"kid\" must be 1 to 256")
        expectRejected(try trustedToken(header: #"{"alg":"ES256","kid":7}"#), keys: keys, because: "\"kid\" must be a string")
        expectRejected(try trustedToken(header: #"{"alg":"ES256","kid":["trusted"]}"#), keys: keys, because: "\"kid\" must be a string")

        let exact = String(repeating: "k", count: 256)
        let exactKey = VerificationKey(kid: exact, algorithm: .es256, material: Self.trusted.material.publicKey)
        expectAccepted(try trustedToken(header: "{\"alg\":\"ES256\",\"kid\":\"\(exact)\"}"), keys: [exactKey])
    }

    @Test("refusal messages echo attacker strings only in a bounded, printable form")
    func boundedEcho() throws {
        let kid = "evil\\n\\u001b[31m" + String(repeating: "x", count: 200)
        let error = expectRejected(try trustedToken(header: "{\"alg\":\"ES256\",\"kid\":\"\(kid)\"}"), keys: keys, because: "no key with kid")
        let message = try #require(error?.description)
        #expect(!message.contains("\n") && !message.contains("\u{1B}"))
        #expect(message.count < 150)
    }

    // MARK: Header members Baton must not act on

    @Test("crit, enc, zip and b64 in the header are refused", arguments: [
        #"{"alg":"ES256","kid":"trusted","crit":["exp"],"exp":1}"#,
        #"{"alg":"ES256","kid":"trusted","crit":[]}"#,
        #"{"alg":"ES256","kid":"trusted","crit":["b64"],"b64":false}"#,
        #"{"alg":"ES256","kid":"trusted","enc":"A256GCM"}"#,
        #"{"alg":"ES256","kid":"trusted","zip":"DEF"}"#,
        #"{"alg":"ES256","kid":"trusted","b64":true}"#,
    ])
    func refusedHeaderMembers(header: String) throws {
        let error = expectRejected(try trustedToken(header: header), keys: keys)
        let message = error?.description ?? ""
        #expect(message.contains("crit") || message.contains("encrypted or compressed") || message.contains("b64"), "\(message)")
    }

    @Test("jku, x5u, jwk and x5c are ignored: an attacker's embedded key never verifies a token")
    func embeddedKeysIgnored() throws {
        let attacker = TestKeys.p256Other
        let attackerJWK = String(decoding: publicJWKJSON(attacker.publicKey, kid: "trusted", algorithm: .es256), as: UTF8.self)
        let attackerThumbprint = attacker.publicKey.thumbprint()
        let extras = "\"jwk\":\(attackerJWK),\"jku\":\"https://attacker.example/jwks.json\",\"x5u\":\"https://attacker.example/cert.pem\",\"x5c\":[\"MIIBszCCAVmgAwIBAgIUQ\"],\"x5t\":\"AAAA\""
        let headers = [
            "{\"alg\":\"ES256\",\"kid\":\"trusted\",\(extras)}",
            "{\"alg\":\"ES256\",\(extras)}",
        ]
        for header in headers {
            let forged = try signedToken(header: header, payload: payload, key: attacker, algorithm: .es256)
            expectRejected(forged, keys: keys, because: "signature is invalid")
            // The same header signed by the trusted key verifies: the members are ignored, not the reason.
            expectAccepted(try trustedToken(header: header), keys: keys)
        }
        // Naming the attacker's own key by its thumbprint finds nothing.
        let byThumbprint = try signedToken(
            header: "{\"alg\":\"ES256\",\"kid\":\"\(attackerThumbprint)\",\(extras)}", payload: payload, key: attacker, algorithm: .es256
        )
        expectRejected(byThumbprint, keys: keys, because: "no key with kid")
    }

    // MARK: Serialisation

    @Test("JWE (five parts), wrong part counts and JSON serialisation are refused")
    func serialisations() throws {
        let token = try Self.trusted.sign(type: "JWT", payload: Array(payload.utf8))
        let parts = token.split(separator: ".").map(String.init)
        let jwe = b64(#"{"alg":"RSA-OAEP","enc":"A256GCM"}"#) + ".OKOawDo13gRp2ojaHV7LFpZcgV7T6DVZKTyKOMTYUmKoTCVJRgckCL9kiMT03JGeipsEdY3mx_etLbbWSrFr05kLzcSr4qKAq7YN7e9jwQRb23nfa6c9d-StnImGyFDbSv04uVuxIp5Zms1gNxKKK2Da14B8S4rzVRltdYwam_lDp5XnZAYpQdb76FdIKLaVmqgfwX7XWRxv2322i-vDxRfqNzo_tETKzpVLzfiwQyeyPGLBIO56YJ7eObdv0je81860ppamavo35UgoRdbYaBcoh9QcfylQr66oc6vFWXRcZ_ZT2LawVCWTIy3brGPi6UklfCpIMfIjf7iGdXKHzg.48V1_ALb6US04U3b.5eym8TW_c8SuK0ltJ3rpYIzOeDQz7TALvtu6UG9oMo4vpzs9tX_EFShS8iB7j6jiSdiwkIr3ajwQzaBtQD_A.XFBoMYUZodetZdvTiFvSkQ"
        expectRejected(jwe, keys: keys, because: "JWE")
        expectRejected(parts.joined(separator: ".") + ".." , keys: keys, because: "JWE")
        for bad in [
            parts[0] + "." + parts[1],
            parts[0],
            parts.joined(separator: ".") + ".",
            parts.joined(separator: ".") + "." + parts[2],
            parts.joined(separator: ".") + "...",
            "",
            "..",
        ] {
            expectRejected(bad, keys: keys)
        }
        let flattened = "{\"payload\":\"\(parts[1])\",\"protected\":\"\(parts[0])\",\"signature\":\"\(parts[2])\"}"
        expectRejected(flattened, keys: keys, because: "JSON serialization")
        let general = "{\"payload\":\"\(parts[1])\",\"signatures\":[{\"protected\":\"\(parts[0])\",\"signature\":\"\(parts[2])\"}]}"
        expectRejected(general, keys: keys, because: "JSON serialization")
        expectRejected(" " + token, keys: keys)
        expectRejected(token + "\n", keys: keys)
    }

    @Test("the header and the claims must be JSON objects", arguments: ["[]", "\"ES256\"", "1", "null", "true", "[{\"alg\":\"ES256\"}]"])
    func nonObjects(json: String) throws {
        expectRejected(compactToken(header: json, payload: payload, signature: [UInt8](repeating: 1, count: 64)), keys: keys, because: "header is not a JSON object")
        let token = try trustedToken(header: #"{"alg":"ES256","kid":"trusted"}"#, payload: json)
        expectRejected(token, keys: keys, because: "claims are not a JSON object")
    }

    @Test("duplicate members in the header or the claims are refused, even when validly signed", arguments: [
        (#"{"alg":"ES256","alg":"none","kid":"trusted"}"#, nil as String?),
        (#"{"alg":"none","alg":"ES256","kid":"trusted"}"#, nil),
        (#"{"alg":"ES256","kid":"other","kid":"trusted"}"#, nil),
        (#"{"alg":"ES256","kid":"trusted"}"#, #"{"sub":"alice","sub":"admin","exp":4102444800}"#),
        (#"{"alg":"ES256","kid":"trusted"}"#, #"{"sub":"alice","act":{"sub":"a","sub":"b"}}"#),
        (#"{"alg":"ES256","kid":"trusted"}"#, #"{"sub":"alice","\u0073ub":"admin"}"#),
    ])
    func duplicates(header: String, claims: String?) throws {
        let token = try trustedToken(header: header, payload: claims)
        let error = expectRejected(token, keys: keys, because: "duplicate member")
        #expect(error?.description.contains(claims == nil ? "header" : "claims") == true)
    }

    @Test("header and claims that are not JSON at all are refused")
    func invalidJSON() throws {
        expectRejected(compactToken(header: #"{"alg":"ES256",}"#, payload: payload, signature: [1]), keys: keys, because: "header is not valid JSON")
        expectRejected(try trustedToken(header: #"{"alg":"ES256","kid":"trusted"}"#, payload: "{\"sub\":\"a\"} trailing"), keys: keys, because: "claims are not valid JSON")
        let deep = String(repeating: "{\"a\":", count: 5) + "1" + String(repeating: "}", count: 5)
        expectRejected(compactToken(header: #"{"alg":"ES256","x":"# + deep + "}", payload: payload, signature: [1]), keys: keys, because: "header is not valid JSON")
        let invalidUTF8 = Array("{\"alg\":\"ES256\",\"kid\":\"".utf8) + [0xC0, 0xAF] + Array("\"}".utf8)
        expectRejected(b64(invalidUTF8) + "." + b64(payload) + "." + b64([1]), keys: keys, because: "header is not valid JSON")
    }

    // MARK: Signatures

    @Test("ES256: r = s = 0, all-ones and the curve order as r and s are refused")
    func degenerateECDSA() throws {
        let header = #"{"alg":"ES256","kid":"trusted"}"#
        let order: [UInt8] = [
            0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
            0xBC, 0xE6, 0xFA, 0xAD, 0xA7, 0x17, 0x9E, 0x84, 0xF3, 0xB9, 0xCA, 0xC2, 0xFC, 0x63, 0x25, 0x51,
        ]
        for signature in [[UInt8](repeating: 0, count: 64), [UInt8](repeating: 0xFF, count: 64), order + order, [UInt8](repeating: 0, count: 32) + order] {
            expectRejected(compactToken(header: header, payload: payload, signature: signature), keys: keys, because: "signature is invalid")
        }
        let es384Key = VerificationKey(kid: "p384", algorithm: .es384, material: TestKeys.p384.publicKey)
        expectRejected(compactToken(header: #"{"alg":"ES384","kid":"p384"}"#, payload: payload, signature: [UInt8](repeating: 0, count: 96)), keys: [es384Key], because: "signature is invalid")
        let edKey = VerificationKey(kid: "ed", algorithm: .edDSA, material: TestKeys.ed25519.publicKey)
        expectRejected(compactToken(header: #"{"alg":"EdDSA","kid":"ed"}"#, payload: payload, signature: [UInt8](repeating: 0, count: 64)), keys: [edKey], because: "signature is invalid")
        let rsaKey = Self.rsaTrusted.verificationKey
        expectRejected(compactToken(header: #"{"alg":"RS256","kid":"rsa"}"#, payload: payload, signature: [UInt8](repeating: 0, count: 256)), keys: [rsaKey], because: "signature is invalid")
        expectRejected(compactToken(header: #"{"alg":"RS256","kid":"rsa"}"#, payload: payload, signature: []), keys: [rsaKey], because: "signature is invalid")
    }

    @Test("a valid signature with a byte appended, truncated, or DER-encoded is refused", arguments: [JWSAlgorithm.es256, .es384, .edDSA, .rs256, .ps256])
    func signatureEncodings(algorithm: JWSAlgorithm) throws {
        let signer = TestKeys.signer(algorithm, kid: "k")
        let token = try signer.sign(type: "JWT", payload: Array(payload.utf8))
        let parts = token.split(separator: ".").map(String.init)
        let signature = Base64URL.decode(parts[2])!
        let prefix = parts[0] + "." + parts[1] + "."
        expectAccepted(prefix + b64(signature), keys: [signer.verificationKey])
        for variant in [signature + [0], [0] + signature, Array(signature.dropLast()), signature + signature] {
            expectRejected(prefix + b64(variant), keys: [signer.verificationKey], because: "signature is invalid")
        }
        let der: [UInt8]? = switch algorithm {
        case .es256: Array(try P256.Signing.ECDSASignature(rawRepresentation: signature).derRepresentation)
        case .es384: Array(try P384.Signing.ECDSASignature(rawRepresentation: signature).derRepresentation)
        default: nil
        }
        if let der {
            expectRejected(prefix + b64(der), keys: [signer.verificationKey], because: "signature is invalid")
            #expect(!signer.material.publicKey.isValidSignature(der, for: Array((parts[0] + "." + parts[1]).utf8), algorithm: algorithm))
        }
    }

    // MARK: Encoding and size

    @Test("malformed base64url in any part is refused", arguments: [0, 1, 2])
    func malformedBase64(part: Int) throws {
        // Spaces before the closing brace make every part's length leave unused bits, so that a
        // non-canonical last character exists.
        var header = #"{"alg":"ES256","kid":"trusted"}"#
        while Array(header.utf8).count % 3 != 1 { header.insert(" ", at: header.index(before: header.endIndex)) }
        var body = payload
        while Array(body.utf8).count % 3 != 1 { body.insert(" ", at: body.index(before: body.endIndex)) }
        let token = try trustedToken(header: header, payload: body)
        expectAccepted(token, keys: keys)
        var parts = token.split(separator: ".").map(String.init)
        #expect(parts.allSatisfy { $0.utf8.count % 4 == 2 })

        let original = parts[part]
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
        let last = original.last!
        let nonCanonical = String(original.dropLast()) + String(alphabet[alphabet.firstIndex(of: last)! + 1])
        let standardAlphabet = original.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        var variants = [
            original + "==",
            original + "=",
            " " + original,
            original + " ",
            String(original.prefix(4)) + "\n" + String(original.dropFirst(4)),
            String(original.prefix(4)) + "%3D" + String(original.dropFirst(4)),
            original + "A",      // length % 4 == 3: different bytes, or unused bits set
            original + "AAA",    // length % 4 == 1
            nonCanonical,
            "!" + original.dropFirst(),
        ]
        if standardAlphabet != original { variants.append(standardAlphabet) }
        variants.append(String(original.prefix(2)) + "+" + String(original.dropFirst(3)))
        variants.append(String(original.prefix(2)) + "/" + String(original.dropFirst(3)))
        let names = ["header", "payload", "signature"]
        for variant in variants {
            parts[part] = variant
            let error = expectRejected(parts.joined(separator: "."), keys: keys)
            if variant != original + "A" {
                #expect(error?.description.contains("\(names[part]) is not valid base64url") == true, "\(variant): \(error?.description ?? "")")
            }
        }
    }

    @Test("tokens longer than maxLength are refused before any decoding")
    func maxLength() throws {
        let token = try Self.trusted.sign(type: "JWT", payload: Array(payload.utf8))
        let length = token.utf8.count
        expectRejected(token, keys: keys, maxLength: length - 1, because: "longer than \(length - 1) bytes")
        _ = try CompactJWS.parse(token, maxLength: length)

        // The default bound is 16 KiB; a validly signed token above it is refused.
        let bigClaims = "{\"sub\":\"alice\",\"pad\":\"\(String(repeating: "x", count: CompactJWS.defaultMaxLength))\"}"
        let big = try trustedToken(header: #"{"alg":"ES256","kid":"trusted"}"#, payload: bigClaims)
        expectRejected(big, keys: keys, because: "longer than \(CompactJWS.defaultMaxLength) bytes")
        // Garbage above the bound is refused by length, not by content.
        expectRejected(String(repeating: "{", count: CompactJWS.defaultMaxLength + 1), keys: keys, because: "longer than")
    }
}

/// JSON string literal for test headers.
enum JSONValueText {
    static func quoted(_ text: String) -> String {
        var bytes: [UInt8] = []
        JSONWriter.appendQuoted(text, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }
}

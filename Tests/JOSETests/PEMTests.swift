import Crypto
import Foundation
import JOSE
import Testing
import _CryptoExtras

/// The OpenSSL spelling of each key type Baton supports.
enum OpenSSLKeyKind: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case rsa, p256, p384, ed25519

    var genpkeyArguments: [String] {
        switch self {
        case .rsa: ["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"]
        case .p256: ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"]
        case .p384: ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384"]
        case .ed25519: ["-algorithm", "ed25519"]
        }
    }

    var keyType: KeyType {
        switch self {
        case .rsa: .rsa
        case .p256: .p256
        case .p384: .p384
        case .ed25519: .ed25519
        }
    }

    /// Label of `openssl pkey -traditional` output.
    var traditionalLabel: String {
        switch self {
        case .rsa: "RSA PRIVATE KEY"
        case .p256, .p384: "EC PRIVATE KEY"
        case .ed25519: "PRIVATE KEY" // Ed25519 has no traditional form.
        }
    }

    var testDescription: String { rawValue }
}

func singleKey(_ pem: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> ParsedKey.Material {
    let blocks = try PEM.blocks(in: pem)
    try #require(blocks.count == 1, sourceLocation: sourceLocation)
    return try PEM.key(from: blocks[0])
}

func privateMaterial(_ material: ParsedKey.Material, sourceLocation: SourceLocation = #_sourceLocation) throws -> PrivateKeyMaterial {
    guard case .privateKey(let key) = material else {
        Issue.record("expected a private key", sourceLocation: sourceLocation)
        throw CommandFailure(description: "not a private key")
    }
    return key
}

func publicMaterial(_ material: ParsedKey.Material, sourceLocation: SourceLocation = #_sourceLocation) throws -> PublicKeyMaterial {
    guard case .publicKey(let key) = material else {
        Issue.record("expected a public key", sourceLocation: sourceLocation)
        throw CommandFailure(description: "not a public key")
    }
    return key
}

/// Expects PEM parsing (blocks and key) to fail; returns the message.
func pemRefusal(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) -> String {
    do {
        for block in try PEM.blocks(in: text) { _ = try PEM.key(from: block) }
        Issue.record("PEM accepted", sourceLocation: sourceLocation)
        return ""
    } catch {
        return error.description
    }
}

/// Body lines of every PEM block in `text`, to check that messages do not repeat them.
func pemBodyLines(_ text: String) -> [String] {
    text.split(separator: "\n").map(String.init).filter { !$0.hasPrefix("-----") && $0.count > 8 }
}

@Suite("PEM")
struct PEMTests {
    @Test("OpenSSL PKCS#8 private keys and SPKI public keys are read as the same key", arguments: OpenSSLKeyKind.allCases)
    func openSSLKeys(kind: OpenSSLKeyKind) throws {
        let directory = try TemporaryDirectory()
        let pkcs8 = try OpenSSL.generate(kind.genpkeyArguments, in: directory, name: "key.pem")
        #expect(pkcs8.hasPrefix("-----BEGIN PRIVATE KEY-----"))
        try OpenSSL.run(["pkey", "-in", directory.path("key.pem"), "-pubout", "-out", directory.path("pub.pem")])
        let spki = try directory.read("pub.pem")
        #expect(spki.hasPrefix("-----BEGIN PUBLIC KEY-----"))

        let privateKey = try privateMaterial(try singleKey(pkcs8))
        let publicKey = try publicMaterial(try singleKey(spki))
        #expect(privateKey.keyType == kind.keyType)
        #expect(publicKey.keyType == kind.keyType)
        #expect(privateKey.publicKey.members == publicKey.members)

        // The components agree with what OpenSSL prints.
        let components = try OpenSSL.textComponents(ofPrivateKey: directory.path("key.pem"))
        let members = publicKey.members
        switch kind {
        case .rsa:
            #expect(members["n"] == b64(components["modulus"]!))
            #expect(members["e"] == b64(components["publicExponent"]!))
            #expect(publicKey.rsaBits == 2048)
        case .p256, .p384:
            let size = kind == .p256 ? 32 : 48
            let point = fixedLength(components["pub"]!, 2 * size + 1)
            #expect(point.first == 0x04)
            #expect(members["x"] == b64(Array(point[1...size])))
            #expect(members["y"] == b64(Array(point[(size + 1)...])))
            var writer = JSONWriter()
            privateKey.writePrivateJWK(kid: "k", algorithm: kind.keyType.defaultAlgorithm, into: &writer)
            #expect(try parseObject(writer.bytes)["d"]?.stringValue == b64(fixedLength(components["priv"]!, size)))
        case .ed25519:
            #expect(members["x"] == b64(fixedLength(components["pub"]!, 32)))
        }

        // Sign with the private key, verify with the public one.
        let algorithm = kind.keyType.defaultAlgorithm
        let input = Array("openssl interop".utf8)
        let signature = try privateKey.signature(for: input, algorithm: algorithm)
        #expect(publicKey.isValidSignature(signature, for: input, algorithm: algorithm))
    }

    @Test("traditional SEC1 / PKCS#1 private keys and PKCS#1 public keys", arguments: OpenSSLKeyKind.allCases)
    func traditionalForms(kind: OpenSSLKeyKind) throws {
        let directory = try TemporaryDirectory()
        let pkcs8 = try OpenSSL.generate(kind.genpkeyArguments, in: directory, name: "key.pem")
        // OpenSSL has no traditional form for Ed25519 ("unsupported public key type"); PKCS#8 is its only form.
        guard kind != .ed25519 else { return }
        try OpenSSL.run(["pkey", "-in", directory.path("key.pem"), "-traditional", "-out", directory.path("traditional.pem")])
        let traditional = try directory.read("traditional.pem")
        #expect(try PEM.blocks(in: traditional).first?.label == kind.traditionalLabel)
        let fromTraditional = try privateMaterial(try singleKey(traditional))
        let fromPKCS8 = try privateMaterial(try singleKey(pkcs8))
        #expect(fromTraditional.keyType == kind.keyType)
        #expect(fromTraditional.publicKey.members == fromPKCS8.publicKey.members)

        if kind == .rsa {
            try OpenSSL.run(["rsa", "-in", directory.path("key.pem"), "-RSAPublicKey_out", "-out", directory.path("rsapub.pem")])
            let pkcs1Public = try directory.read("rsapub.pem")
            #expect(pkcs1Public.hasPrefix("-----BEGIN RSA PUBLIC KEY-----"))
            #expect(try publicMaterial(try singleKey(pkcs1Public)).members == fromPKCS8.publicKey.members)
        }
    }

    @Test("PEM.encode output is read back by Baton and by OpenSSL", arguments: JWSAlgorithm.allCases.filter { $0 != .ps256 })
    func encodeRoundTrip(algorithm: JWSAlgorithm) throws {
        let directory = try TemporaryDirectory()
        let key = try PrivateKeyMaterial.generate(for: algorithm)
        let privatePEM = PEM.encode(key)
        let publicPEM = PEM.encode(key.publicKey)
        #expect(privatePEM.hasPrefix("-----BEGIN PRIVATE KEY-----\n"))
        #expect(publicPEM.hasPrefix("-----BEGIN PUBLIC KEY-----\n"))
        #expect(privatePEM.split(separator: "\n").allSatisfy { $0.count <= 64 })

        let reread = try privateMaterial(try singleKey(privatePEM))
        #expect(reread.publicKey.members == key.publicKey.members)
        #expect(try publicMaterial(try singleKey(publicPEM)).members == key.publicKey.members)

        // OpenSSL reads both and derives the same public key, byte for byte.
        try directory.write("baton.pem", privatePEM)
        try directory.write("baton-pub.pem", publicPEM)
        try OpenSSL.run(["pkey", "-in", directory.path("baton.pem"), "-pubout", "-out", directory.path("derived.pem")])
        try OpenSSL.run(["pkey", "-pubin", "-in", directory.path("baton-pub.pem"), "-pubout", "-out", directory.path("normalised.pem")])
        let expected = publicPEM.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(try directory.read("derived.pem").trimmingCharacters(in: .whitespacesAndNewlines) == expected)
        #expect(try directory.read("normalised.pem").trimmingCharacters(in: .whitespacesAndNewlines) == expected)
    }

    @Test("OpenSSL verifies Baton's signatures and Baton verifies OpenSSL's, as compact JWS", arguments: JWSAlgorithm.allCases)
    func signatureInterop(algorithm: JWSAlgorithm) throws {
        let kind: OpenSSLKeyKind = switch algorithm.keyType {
        case .rsa: .rsa
        case .p256: .p256
        case .p384: .p384
        case .ed25519: .ed25519
        }
        let directory = try TemporaryDirectory()
        let keyPath = directory.path("key.pem")
        let pem = try OpenSSL.generate(kind.genpkeyArguments, in: directory, name: "key.pem")
        try OpenSSL.run(["pkey", "-in", keyPath, "-pubout", "-out", directory.path("pub.pem")])
        let privateKey = try privateMaterial(try singleKey(pem))
        let verificationKey = VerificationKey(kid: "ossl", algorithm: algorithm, material: privateKey.publicKey)

        // Baton signs a token; OpenSSL checks the signature over its signing input.
        let signer = try SigningKey(kid: "ossl", algorithm: algorithm, material: privateKey)
        let token = try signer.sign(type: "JWT", payload: standardPayload())
        let parts = token.split(separator: ".")
        let input = Data((parts[0] + "." + parts[1]).utf8)
        var signature = Base64URL.decode(String(parts[2]))!
        if algorithm == .es256 { signature = Array(try P256.Signing.ECDSASignature(rawRepresentation: signature).derRepresentation) }
        if algorithm == .es384 { signature = Array(try P384.Signing.ECDSASignature(rawRepresentation: signature).derRepresentation) }
        let inputPath = try directory.write("input", input)
        let signaturePath = try directory.write("signature", Data(signature))
        let verifyOutput = try OpenSSL.run(verifyArguments(algorithm, publicKey: directory.path("pub.pem"), input: inputPath, signature: signaturePath))
        #expect(verifyOutput.contains("Verified") || verifyOutput.contains("Success"))

        // OpenSSL signs a token's signing input; Baton verifies the token.
        let header = "{\"alg\":\"\(algorithm.rawValue)\",\"kid\":\"ossl\",\"typ\":\"JWT\"}"
        let opensslInput = b64(header) + "." + b64(standardPayload(subject: "from-openssl"))
        let opensslInputPath = try directory.write("openssl-input", opensslInput)
        let outPath = directory.path("openssl-signature")
        try OpenSSL.run(signArguments(algorithm, key: keyPath, input: opensslInputPath, output: outPath))
        var opensslSignature = Array(try Data(contentsOf: URL(fileURLWithPath: outPath)))
        if algorithm == .es256 { opensslSignature = Array(try P256.Signing.ECDSASignature(derRepresentation: opensslSignature).rawRepresentation) }
        if algorithm == .es384 { opensslSignature = Array(try P384.Signing.ECDSASignature(derRepresentation: opensslSignature).rawRepresentation) }
        let opensslToken = opensslInput + "." + b64(opensslSignature)
        let accepted = expectAccepted(opensslToken, keys: [verificationKey], allowed: [algorithm])
        #expect(accepted?.0.claims["sub"] == .string("from-openssl"))
        // The same signature over a changed payload does not verify.
        let forged = b64(header) + "." + b64(standardPayload(subject: "mallory")) + "." + b64(opensslSignature)
        expectRejected(forged, keys: [verificationKey], allowed: [algorithm], because: "signature is invalid")
    }

    func verifyArguments(_ algorithm: JWSAlgorithm, publicKey: String, input: String, signature: String) -> [String] {
        switch algorithm {
        case .rs256, .es256: ["dgst", "-sha256", "-verify", publicKey, "-signature", signature, input]
        case .es384: ["dgst", "-sha384", "-verify", publicKey, "-signature", signature, input]
        case .ps256: ["dgst", "-sha256", "-verify", publicKey, "-sigopt", "rsa_padding_mode:pss", "-sigopt", "rsa_pss_saltlen:32", "-signature", signature, input]
        case .edDSA: ["pkeyutl", "-verify", "-pubin", "-inkey", publicKey, "-rawin", "-in", input, "-sigfile", signature]
        }
    }

    func signArguments(_ algorithm: JWSAlgorithm, key: String, input: String, output: String) -> [String] {
        switch algorithm {
        case .rs256, .es256: ["dgst", "-sha256", "-sign", key, "-out", output, input]
        case .es384: ["dgst", "-sha384", "-sign", key, "-out", output, input]
        case .ps256: ["dgst", "-sha256", "-sign", key, "-sigopt", "rsa_padding_mode:pss", "-sigopt", "rsa_pss_saltlen:32", "-out", output, input]
        case .edDSA: ["pkeyutl", "-sign", "-inkey", key, "-rawin", "-in", input, "-out", output]
        }
    }

    @Test("several blocks with comments, blank lines and indentation are read in order")
    func multipleBlocks() throws {
        let rsa = PEM.encode(TestKeys.rsa)
        let p256 = PEM.encode(TestKeys.p256.publicKey)
        let ed = PEM.encode(TestKeys.ed25519)
        let indented = PEM.encode(TestKeys.p384).split(separator: "\n").map { "  \($0)\t" }.joined(separator: "\n")
        let text = "# signing keys\n\n" + rsa + "\ncomment between blocks\n" + p256 + "\n\n" + ed + "\n" + indented + "\ntrailing text\n"
        let blocks = try PEM.blocks(in: text)
        #expect(blocks.map(\.label) == ["PRIVATE KEY", "PUBLIC KEY", "PRIVATE KEY", "PRIVATE KEY"])
        let keys = try blocks.map { block throws(KeyError) in try PEM.key(from: block) }
        #expect(try privateMaterial(keys[0]).publicKey.members == TestKeys.rsa.publicKey.members)
        #expect(try publicMaterial(keys[1]).members == TestKeys.p256.publicKey.members)
        #expect(try privateMaterial(keys[2]).publicKey.members == TestKeys.ed25519.publicKey.members)
        #expect(try privateMaterial(keys[3]).publicKey.members == TestKeys.p384.publicKey.members)
        #expect(PEM.looksLikePEM(text))
        #expect(!PEM.looksLikePEM("{\"keys\":[]}"))
        #expect(try PEM.blocks(in: "no pem here").isEmpty)
    }

    @Test("PEM with CRLF line ends (Windows editors, some secret stores) is read", arguments: JWSAlgorithm.allCases.filter { $0 != .ps256 })
    func crlfLineEnds(algorithm: JWSAlgorithm) throws {
        let material = TestKeys.material(for: algorithm)
        let lf = PEM.encode(material) + "\n" + PEM.encode(material.publicKey) + "\n"
        let crlf = lf.replacingOccurrences(of: "\n", with: "\r\n")
        #expect(crlf.utf8.contains(0x0D))
        let blocks = try PEM.blocks(in: crlf)
        #expect(blocks.map(\.label) == ["PRIVATE KEY", "PUBLIC KEY"])
        if blocks.count == 2 {
            #expect(try privateMaterial(try PEM.key(from: blocks[0])).publicKey.members == material.publicKey.members)
            #expect(try publicMaterial(try PEM.key(from: blocks[1])).members == material.publicKey.members)
        }
    }

    @Test("PEM.encode ends with a newline like OpenSSL's output, so that PEM files can be concatenated", arguments: JWSAlgorithm.allCases.filter { $0 != .ps256 })
    func encodeConcatenates(algorithm: JWSAlgorithm) throws {
        let material = TestKeys.material(for: algorithm)
        let privatePEM = PEM.encode(material)
        let publicPEM = PEM.encode(material.publicKey)
        #expect(privatePEM.hasSuffix("-----END PRIVATE KEY-----\n"))
        #expect(publicPEM.hasSuffix("-----END PUBLIC KEY-----\n"))
        // `baton keys generate --format pem >> keys.pem`, twice.
        let appended = privatePEM + PEM.encode(TestKeys.otherMaterial(for: algorithm))
        #expect(try PEM.blocks(in: appended).count == 2)
    }

    @Test("structural errors: garbled base64, missing END or BEGIN, mismatched labels, nested blocks, empty body")
    func structuralErrors() {
        let body = PEM.encode(TestKeys.p256).split(separator: "\n").dropFirst().dropLast().joined(separator: "\n")
        let cases: [(String, String)] = [
            ("-----BEGIN PRIVATE KEY-----\n\(body.dropLast(3))!!!\n-----END PRIVATE KEY-----\n", "not valid base64"),
            ("-----BEGIN PRIVATE KEY-----\nnot*base64*at*all\n-----END PRIVATE KEY-----\n", "not valid base64"),
            ("-----BEGIN PRIVATE KEY-----\n\(body.replacingOccurrences(of: "A", with: "-"))\n-----END PRIVATE KEY-----\n", "not valid base64"),
            ("-----BEGIN PRIVATE KEY-----\n\(body.dropLast())\n-----END PRIVATE KEY-----\n", ""),
            ("-----BEGIN PRIVATE KEY-----\n\(body)\n", "has no END line"),
            ("\(body)\n-----END PRIVATE KEY-----\n", "END line without a BEGIN"),
            ("-----BEGIN PRIVATE KEY-----\n\(body)\n-----END PUBLIC KEY-----\n", "ends with END PUBLIC KEY"),
            ("-----BEGIN PRIVATE KEY-----\n\(body)\n-----BEGIN PRIVATE KEY-----\n\(body)\n-----END PRIVATE KEY-----\n", "has no END line"),
            ("-----BEGIN PRIVATE KEY-----\n-----END PRIVATE KEY-----\n", "not valid base64"),
            ("-----BEGIN PUBLIC KEY-----\n\(body)\n-----END PUBLIC KEY-----\n", "PUBLIC KEY is not"),
            ("-----BEGIN EC PRIVATE KEY-----\n\(body)\n-----END EC PRIVATE KEY-----\n", "EC PRIVATE KEY"),
            ("-----BEGIN RSA PRIVATE KEY-----\n\(body)\n-----END RSA PRIVATE KEY-----\n", "RSA PRIVATE KEY could not be parsed"),
            ("-----BEGIN OPENSSH PRIVATE KEY-----\n\(body)\n-----END OPENSSH PRIVATE KEY-----\n", "is not a key"),
        ]
        for (text, fragment) in cases {
            let message = pemRefusal(text)
            #expect(!message.isEmpty)
            if !fragment.isEmpty { #expect(message.contains(fragment), "\(message.debugDescription) should mention \(fragment)") }
            for line in pemBodyLines(text) { #expect(!message.contains(line)) }
        }
    }

    @Test("encrypted keys, certificates and keys on unsupported curves are refused")
    func unsupportedDocuments() throws {
        let directory = try TemporaryDirectory()
        let keyPath = directory.path("key.pem")
        _ = try OpenSSL.generate(OpenSSLKeyKind.p256.genpkeyArguments, in: directory, name: "key.pem")

        try OpenSSL.run(["pkcs8", "-topk8", "-in", keyPath, "-v2", "aes-256-cbc", "-passout", "pass:correct-horse", "-out", directory.path("enc.pem")])
        let encrypted = try directory.read("enc.pem")
        #expect(encrypted.hasPrefix("-----BEGIN ENCRYPTED PRIVATE KEY-----"))
        #expect(pemRefusal(encrypted).contains("encrypted private keys are not supported"))

        try OpenSSL.run(["pkey", "-in", keyPath, "-traditional", "-aes256", "-passout", "pass:correct-horse", "-out", directory.path("legacy-enc.pem")])
        let legacyEncrypted = try directory.read("legacy-enc.pem")
        #expect(legacyEncrypted.contains("Proc-Type: 4,ENCRYPTED"))
        #expect(pemRefusal(legacyEncrypted).contains("encrypted or annotated PEM is not supported"))

        try OpenSSL.run(["req", "-x509", "-new", "-key", keyPath, "-subj", "/CN=baton-test", "-days", "1", "-out", directory.path("cert.pem")])
        let certificate = try directory.read("cert.pem")
        #expect(certificate.hasPrefix("-----BEGIN CERTIFICATE-----"))
        let certificateMessage = pemRefusal(certificate)
        #expect(certificateMessage.contains("\"CERTIFICATE\" is not a key"))

        let unsupported: [([String], String)] = [
            (["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-521"], "P-521"),
            (["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:secp256k1"], "secp256k1"),
            (["-algorithm", "X25519"], "X25519"),
            (["-algorithm", "ed448"], "Ed448"),
        ]
        for (arguments, name) in unsupported {
            let pkcs8 = try OpenSSL.generate(arguments, in: directory, name: "\(name).pem")
            let message = pemRefusal(pkcs8)
            #expect(message.contains("PRIVATE KEY is not an RSA, P-256, P-384 or Ed25519 key"), "\(name): \(message)")
            for line in pemBodyLines(pkcs8) { #expect(!message.contains(line)) }

            try OpenSSL.run(["pkey", "-in", directory.path("\(name).pem"), "-pubout", "-out", directory.path("\(name)-pub.pem")])
            #expect(pemRefusal(try directory.read("\(name)-pub.pem")).contains("PUBLIC KEY is not"), "\(name)")

            if arguments.contains("EC") {
                try OpenSSL.run(["pkey", "-in", directory.path("\(name).pem"), "-traditional", "-out", directory.path("\(name)-sec1.pem")])
                let sec1 = try directory.read("\(name)-sec1.pem")
                #expect(sec1.hasPrefix("-----BEGIN EC PRIVATE KEY-----"))
                #expect(pemRefusal(sec1).contains("not on a supported curve"), "\(name)")
            }
        }
    }

    @Test("RSA keys of 1024 bits are read (the loader enforces the minimum) and report their size")
    func smallRSA() throws {
        let directory = try TemporaryDirectory()
        let pem = try OpenSSL.generate(["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:1024"], in: directory, name: "small.pem")
        let key = try privateMaterial(try singleKey(pem))
        #expect(key.publicKey.rsaBits == 1024)
    }
}

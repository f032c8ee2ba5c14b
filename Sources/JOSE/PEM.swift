import Crypto
import _CryptoExtras

/// One `-----BEGIN X-----` block of a PEM text.
public struct PEMBlock: Sendable {
    public var label: String
    /// The whole block, as swift-crypto's PEM initialisers want it.
    public var text: String
    public var der: [UInt8]
}

public enum PEM {
    public static func looksLikePEM(_ text: String) -> Bool {
        text.contains("-----BEGIN ")
    }

    /// Splits a text into PEM blocks. Text between blocks is ignored, as OpenSSL does, so that operators
    /// can keep a comment line above each key.
    public static func blocks(in text: String) throws(KeyError) -> [PEMBlock] {
        var blocks: [PEMBlock] = []
        var current: (label: String, lines: [Substring])?
        // Split on any line break: Swift reads "\r\n" as one Character, so Windows files need this.
        for line in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline) {
            let trimmed = line.trimmingSpaces()
            if trimmed.hasPrefix("-----BEGIN "), trimmed.hasSuffix("-----") {
                if let current { throw KeyError("PEM block \(blocks.count + 1) (\(current.label)) has no END line") }
                current = (String(trimmed.dropFirst(11).dropLast(5)), [])
            } else if trimmed.hasPrefix("-----END "), trimmed.hasSuffix("-----") {
                guard let open = current else { throw KeyError("PEM END line without a BEGIN line") }
                let label = String(trimmed.dropFirst(9).dropLast(5))
                guard label == open.label else { throw KeyError("PEM block \(blocks.count + 1): BEGIN \(open.label) ends with END \(label)") }
                let body = open.lines.joined()
                guard let der = Base64Standard.decode(Array(body.utf8)), !der.isEmpty else {
                    throw KeyError("PEM block \(blocks.count + 1) (\(label)): the body is not valid base64")
                }
                let canonical = "-----BEGIN \(label)-----\n" + chunked(body) + "-----END \(label)-----\n"
                blocks.append(PEMBlock(label: label, text: canonical, der: der))
                current = nil
            } else if current != nil, !trimmed.isEmpty {
                if trimmed.contains(":") { throw KeyError("PEM block \(blocks.count + 1): encrypted or annotated PEM is not supported") }
                current!.lines.append(trimmed)
            }
        }
        if let current { throw KeyError("PEM block \(blocks.count + 1) (\(current.label)) has no END line") }
        return blocks
    }

    /// Reads one PEM block as a key of any supported type.
    public static func key(from block: PEMBlock) throws(KeyError) -> ParsedKey.Material {
        switch block.label {
        case "PRIVATE KEY":
            if let key = try? _RSA.Signing.PrivateKey(unsafePEMRepresentation: block.text) { return .privateKey(.rsa(key)) }
            // swift-crypto reads the scalar of a PKCS#8 EC key without checking its curve, so the named
            // curve must be checked here, or a secp256k1 key would load as a different P-256 key.
            if block.der.containsSubsequence(p256OID), let key = try? P256.Signing.PrivateKey(pemRepresentation: block.text) {
                return .privateKey(.p256(key))
            }
            if block.der.containsSubsequence(p384OID), let key = try? P384.Signing.PrivateKey(pemRepresentation: block.text) {
                return .privateKey(.p384(key))
            }
            if let raw = strip(prefix: ed25519PKCS8Prefix, from: block.der, length: 32),
               let key = try? Curve25519.Signing.PrivateKey(rawRepresentation: raw) {
                return .privateKey(.ed25519(key))
            }
            throw KeyError("PRIVATE KEY is not an RSA, P-256, P-384 or Ed25519 key")
        case "RSA PRIVATE KEY":
            guard let key = try? _RSA.Signing.PrivateKey(unsafePEMRepresentation: block.text) else {
                throw KeyError("RSA PRIVATE KEY could not be parsed")
            }
            return .privateKey(.rsa(key))
        case "EC PRIVATE KEY":
            if block.der.containsSubsequence(p256OID), let key = try? P256.Signing.PrivateKey(pemRepresentation: block.text) {
                return .privateKey(.p256(key))
            }
            if block.der.containsSubsequence(p384OID), let key = try? P384.Signing.PrivateKey(pemRepresentation: block.text) {
                return .privateKey(.p384(key))
            }
            throw KeyError("EC PRIVATE KEY is not on a supported curve (P-256, P-384)")
        case "PUBLIC KEY":
            if let key = try? _RSA.Signing.PublicKey(unsafePEMRepresentation: block.text) { return .publicKey(.rsa(key)) }
            if block.der.containsSubsequence(p256OID), let key = try? P256.Signing.PublicKey(pemRepresentation: block.text) {
                return .publicKey(.p256(key))
            }
            if block.der.containsSubsequence(p384OID), let key = try? P384.Signing.PublicKey(pemRepresentation: block.text) {
                return .publicKey(.p384(key))
            }
            if let raw = strip(prefix: ed25519SPKIPrefix, from: block.der, length: 32),
               let key = try? Curve25519.Signing.PublicKey(rawRepresentation: raw) {
                return .publicKey(.ed25519(key))
            }
            throw KeyError("PUBLIC KEY is not an RSA, P-256, P-384 or Ed25519 key")
        case "RSA PUBLIC KEY":
            guard let key = try? _RSA.Signing.PublicKey(unsafePEMRepresentation: block.text) else {
                throw KeyError("RSA PUBLIC KEY could not be parsed")
            }
            return .publicKey(.rsa(key))
        case "ENCRYPTED PRIVATE KEY":
            throw KeyError("encrypted private keys are not supported; mount the key decrypted as a secret")
        default:
            throw KeyError("PEM block \"\(block.label)\" is not a key")
        }
    }

    /// DER of the named-curve OIDs (RFC 5480): 1.2.840.10045.3.1.7 and 1.3.132.0.34.
    static let p256OID: [UInt8] = [0x06, 0x08, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07]
    static let p384OID: [UInt8] = [0x06, 0x05, 0x2B, 0x81, 0x04, 0x00, 0x22]

    // Ed25519 keys have one fixed DER shape (RFC 8410), so a prefix check is the whole parser.
    static let ed25519PKCS8Prefix: [UInt8] = [0x30, 0x2E, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2B, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20]
    static let ed25519SPKIPrefix: [UInt8] = [0x30, 0x2A, 0x30, 0x05, 0x06, 0x03, 0x2B, 0x65, 0x70, 0x03, 0x21, 0x00]

    private static func strip(prefix: [UInt8], from der: [UInt8], length: Int) -> [UInt8]? {
        guard der.count == prefix.count + length, der.starts(with: prefix) else { return nil }
        return Array(der[prefix.count...])
    }

    /// PEM of a private key, PKCS#8 for every type, as `openssl genpkey` writes it, ending in a newline
    /// so that blocks can be concatenated.
    public static func encode(_ key: PrivateKeyMaterial) -> String {
        let pem: String = switch key {
        case .rsa(let key): key.pkcs8PEMRepresentation
        case .p256(let key): key.pemRepresentation
        case .p384(let key): key.pemRepresentation
        case .ed25519(let key): wrap(label: "PRIVATE KEY", der: ed25519PKCS8Prefix + Array(key.rawRepresentation))
        }
        return terminated(pem)
    }

    public static func encode(_ key: PublicKeyMaterial) -> String {
        let pem: String = switch key {
        case .rsa(let key): key.pemRepresentation
        case .p256(let key): key.pemRepresentation
        case .p384(let key): key.pemRepresentation
        case .ed25519(let key): wrap(label: "PUBLIC KEY", der: ed25519SPKIPrefix + Array(key.rawRepresentation))
        }
        return terminated(pem)
    }

    private static func terminated(_ pem: String) -> String { pem.hasSuffix("\n") ? pem : pem + "\n" }

    static func wrap(label: String, der: [UInt8]) -> String {
        "-----BEGIN \(label)-----\n" + chunked(Base64Standard.encode(der)) + "-----END \(label)-----\n"
    }

    private static func chunked(_ body: String) -> String {
        var result = ""
        var line = ""
        for character in body {
            line.append(character)
            if line.count == 64 { result += line + "\n"; line = "" }
        }
        if !line.isEmpty { result += line + "\n" }
        return result
    }
}

extension Substring {
    /// Without leading and trailing spaces and tabs.
    public func trimmingSpaces() -> Substring {
        var result = self
        while let first = result.first, first == " " || first == "\t" { result = result.dropFirst() }
        while let last = result.last, last == " " || last == "\t" { result = result.dropLast() }
        return result
    }
}

extension Array where Element == UInt8 {
    func containsSubsequence(_ needle: [UInt8]) -> Bool {
        guard needle.count <= count else { return false }
        for start in 0...(count - needle.count) where self[start] == needle[0] {
            if self[start..<(start + needle.count)].elementsEqual(needle) { return true }
        }
        return false
    }
}

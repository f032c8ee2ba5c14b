import Crypto
import _CryptoExtras
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A key read from a JWK, before Baton decides what it is for.
public struct ParsedKey: Sendable {
    public enum Material: Sendable {
        case privateKey(PrivateKeyMaterial)
        case publicKey(PublicKeyMaterial)
    }

    public var kid: String?
    public var algorithm: JWSAlgorithm?
    /// RFC 7517 4.3 `key_ops`; Baton reads `["verify"]` as "publish, never sign".
    public var keyOperations: [String]?
    public let material: Material
    /// The public half, as the JWK gave it (checked against the private members), or derived once from
    /// a private key that came without it.
    public let publicMaterial: PublicKeyMaterial

    /// A private key's public half is derived.
    public init(kid: String?, algorithm: JWSAlgorithm?, keyOperations: [String]?, material: Material) {
        self.init(kid: kid, algorithm: algorithm, keyOperations: keyOperations, material: material, checkedPublicMaterial: nil)
    }

    /// `checkedPublicMaterial`: the public key that goes with a private `material`, already checked to
    /// be its pair (as `JWK.parse` does); derived when nil.
    init(kid: String?, algorithm: JWSAlgorithm?, keyOperations: [String]?, material: Material, checkedPublicMaterial: PublicKeyMaterial?) {
        self.kid = kid
        self.algorithm = algorithm
        self.keyOperations = keyOperations
        self.material = material
        switch material {
        case .privateKey(let key): self.publicMaterial = checkedPublicMaterial ?? key.publicKey
        case .publicKey(let key): self.publicMaterial = key
        }
    }

    public var keyType: KeyType {
        switch material {
        case .privateKey(let key): key.keyType
        case .publicKey(let key): key.keyType
        }
    }
    public var isPrivate: Bool {
        if case .privateKey = material { return true }
        return false
    }
}

public enum JWK {
    public static let maxKidLength = 256

    /// Reads one JWK object. Symmetric keys, unknown key types and curves, and private members that do not
    /// match the public ones are refused; the message names the member, never its value.
    public static func parse(_ object: JSONObject) throws(KeyError) -> ParsedKey {
        let kty = try string(object, "kty", required: true)!
        let kid = try string(object, "kid", required: false)
        if let kid, kid.isEmpty || kid.utf8.count > maxKidLength {
            throw KeyError("\"kid\" must be 1 to \(maxKidLength) characters")
        }
        var algorithm: JWSAlgorithm?
        if let alg = try string(object, "alg", required: false) {
            guard let known = JWSAlgorithm(rawValue: alg) else {
                throw KeyError("unsupported \"alg\" \"\(alg)\" (supported: \(JWSAlgorithm.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            algorithm = known
        }
        if let use = try string(object, "use", required: false), use != "sig" {
            throw KeyError("\"use\" is \"\(use)\"; only signature keys (\"sig\") are accepted")
        }
        var keyOperations: [String]?
        if let ops = object["key_ops"] {
            guard let items = ops.arrayValue, let names = Optional(items.compactMap(\.stringValue)), names.count == items.count else {
                throw KeyError("\"key_ops\" must be an array of strings")
            }
            keyOperations = names
        }

        let material: (key: ParsedKey.Material, publicKey: PublicKeyMaterial)
        switch kty {
        case "RSA": material = try parseRSA(object)
        case "EC": material = try parseEC(object)
        case "OKP": material = try parseOKP(object)
        case "oct": throw KeyError("symmetric (\"oct\") keys are not accepted: Baton only uses asymmetric signatures")
        default: throw KeyError("unsupported \"kty\" \"\(kty)\"")
        }
        let parsed = ParsedKey(kid: kid, algorithm: algorithm, keyOperations: keyOperations, material: material.key, checkedPublicMaterial: material.publicKey)
        if let algorithm, algorithm.keyType != parsed.keyType {
            throw KeyError("\"alg\" \(algorithm.rawValue) does not fit \(parsed.keyType.description)")
        }
        return parsed
    }

    private static func string(_ object: JSONObject, _ name: String, required: Bool) throws(KeyError) -> String? {
        guard let value = object[name] else {
            if required { throw KeyError("missing \"\(name)\"") }
            return nil
        }
        guard let text = value.stringValue else { throw KeyError("\"\(name)\" must be a string") }
        return text
    }

    private static func bytes(_ object: JSONObject, _ name: String) throws(KeyError) -> [UInt8]? {
        guard let text = try string(object, name, required: false) else { return nil }
        guard let decoded = Base64URL.decode(text), !decoded.isEmpty else {
            throw KeyError("\"\(name)\" is not valid base64url")
        }
        return decoded
    }

    private static func requiredBytes(_ object: JSONObject, _ name: String) throws(KeyError) -> [UInt8] {
        guard let value = try bytes(object, name) else { throw KeyError("missing \"\(name)\"") }
        return value
    }

    private static func parseRSA(_ object: JSONObject) throws(KeyError) -> (key: ParsedKey.Material, publicKey: PublicKeyMaterial) {
        let n = try requiredBytes(object, "n")
        let e = try requiredBytes(object, "e")
        // swift-crypto refuses small moduli with a generic error; say what is wrong.
        let bits = n.drop { $0 == 0 }.count * 8
        if bits < 2048 { throw KeyError("RSA key of \(bits) bits; at least 2048 are required") }
        if let d = try bytes(object, "d") {
            guard let p = try bytes(object, "p"), let q = try bytes(object, "q") else {
                throw KeyError("an RSA private key needs \"p\" and \"q\" as well as \"d\"")
            }
            do {
                let key = try _RSA.Signing.PrivateKey(n: n, e: e, d: d, p: p, q: q)
                return (.privateKey(.rsa(key)), .rsa(key.publicKey))
            } catch {
                throw KeyError("the RSA private members do not form a valid key")
            }
        }
        do {
            let key = PublicKeyMaterial.rsa(try _RSA.Signing.PublicKey(n: n, e: e))
            return (.publicKey(key), key)
        } catch {
            throw KeyError("\"n\" and \"e\" do not form a valid RSA public key")
        }
    }

    private static func parseEC(_ object: JSONObject) throws(KeyError) -> (key: ParsedKey.Material, publicKey: PublicKeyMaterial) {
        let crv = try string(object, "crv", required: true)!
        let x = try requiredBytes(object, "x")
        let y = try requiredBytes(object, "y")
        let d = try bytes(object, "d")
        switch crv {
        // A private key is built from its X9.63 form, 04 || x || y || d: BoringSSL then checks that d
        // times the generator is (x, y), the pair-wise check Baton needs, without deriving a second
        // public key to compare, which through swift-crypto's `publicKey` costs a scan of every conformance
        // record the first time (see `PrivateKeyMaterial.publicKey`). Only when that fails are the
        // members tried apart, to say which one is wrong.
        case "P-256":
            guard x.count == 32, y.count == 32 else { throw KeyError("\"x\" and \"y\" must be 32 bytes for P-256") }
            guard let publicKey = try? P256.Signing.PublicKey(rawRepresentation: x + y) else {
                throw KeyError("\"x\" and \"y\" are not a point on P-256")
            }
            guard let d else { return (.publicKey(.p256(publicKey)), .p256(publicKey)) }
            guard d.count == 32 else { throw KeyError("\"d\" is not a valid P-256 private scalar") }
            if let privateKey = try? P256.Signing.PrivateKey(x963Representation: [0x04] + x + y + d), holdsPair(privateKey.publicKey.rawRepresentation, publicKey.rawRepresentation) {
                return (.privateKey(.p256(privateKey)), .p256(publicKey))
            }
            guard (try? P256.Signing.PrivateKey(rawRepresentation: d)) != nil else {
                throw KeyError("\"d\" is not a valid P-256 private scalar")
            }
            throw KeyError("\"d\" does not match \"x\" and \"y\"")
        case "P-384":
            guard x.count == 48, y.count == 48 else { throw KeyError("\"x\" and \"y\" must be 48 bytes for P-384") }
            guard let publicKey = try? P384.Signing.PublicKey(rawRepresentation: x + y) else {
                throw KeyError("\"x\" and \"y\" are not a point on P-384")
            }
            guard let d else { return (.publicKey(.p384(publicKey)), .p384(publicKey)) }
            guard d.count == 48 else { throw KeyError("\"d\" is not a valid P-384 private scalar") }
            if let privateKey = try? P384.Signing.PrivateKey(x963Representation: [0x04] + x + y + d), holdsPair(privateKey.publicKey.rawRepresentation, publicKey.rawRepresentation) {
                return (.privateKey(.p384(privateKey)), .p384(publicKey))
            }
            guard (try? P384.Signing.PrivateKey(rawRepresentation: d)) != nil else {
                throw KeyError("\"d\" is not a valid P-384 private scalar")
            }
            throw KeyError("\"d\" does not match \"x\" and \"y\"")
        default:
            throw KeyError("unsupported curve \"\(crv)\" (supported: P-256, P-384)")
        }
    }

    /// Where swift-crypto is BoringSSL (Linux), setting a key from its X9.63 form already checked the
    /// pair, and deriving the public key again would cost a conformance scan at start-up; where it is
    /// Apple's CryptoKit, which does not say that it checks, the derived key is compared.
    private static func holdsPair(_ derived: @autoclosure () -> Data, _ given: @autoclosure () -> Data) -> Bool {
        #if os(Linux)
        true
        #else
        derived() == given()
        #endif
    }

    private static func parseOKP(_ object: JSONObject) throws(KeyError) -> (key: ParsedKey.Material, publicKey: PublicKeyMaterial) {
        let crv = try string(object, "crv", required: true)!
        guard crv == "Ed25519" else { throw KeyError("unsupported OKP curve \"\(crv)\" (supported: Ed25519)") }
        let x = try requiredBytes(object, "x")
        guard x.count == 32, let publicKey = try? Curve25519.Signing.PublicKey(rawRepresentation: x) else {
            throw KeyError("\"x\" must be a 32-byte Ed25519 public key")
        }
        guard let d = try bytes(object, "d") else { return (.publicKey(.ed25519(publicKey)), .ed25519(publicKey)) }
        guard d.count == 32, let privateKey = try? Curve25519.Signing.PrivateKey(rawRepresentation: d) else {
            throw KeyError("\"d\" must be a 32-byte Ed25519 private key")
        }
        guard privateKey.publicKey.rawRepresentation == publicKey.rawRepresentation else {
            throw KeyError("\"d\" does not match \"x\"")
        }
        return (.privateKey(.ed25519(privateKey)), .ed25519(publicKey))
    }
}

extension PublicKeyMaterial {
    /// The public members in RFC 7638 lexicographic order, base64url-encoded.
    public func publicMembers() -> [(String, String)] {
        switch self {
        case .rsa(let key):
            // getKeyPrimitives cannot fail for a key swift-crypto already holds.
            let primitives = try! key.getKeyPrimitives()
            return [("e", Base64URL.encodeToString(Array(primitives.publicExponent))),
                    ("kty", "RSA"),
                    ("n", Base64URL.encodeToString(Array(primitives.modulus)))]
        case .p256(let key):
            let raw = Array(key.rawRepresentation)
            return [("crv", "P-256"), ("kty", "EC"),
                    ("x", Base64URL.encodeToString(raw[0..<32])), ("y", Base64URL.encodeToString(raw[32..<64]))]
        case .p384(let key):
            let raw = Array(key.rawRepresentation)
            return [("crv", "P-384"), ("kty", "EC"),
                    ("x", Base64URL.encodeToString(raw[0..<48])), ("y", Base64URL.encodeToString(raw[48..<96]))]
        case .ed25519(let key):
            return [("crv", "Ed25519"), ("kty", "OKP"), ("x", Base64URL.encodeToString(Array(key.rawRepresentation)))]
        }
    }

    /// RFC 7638 JWK thumbprint (SHA-256), used as the kid when none is given.
    public func thumbprint() -> String {
        var writer = JSONWriter(capacity: 512)
        writer.beginObject()
        for (name, value) in publicMembers() { writer.member(named: name, value) }
        writer.endObject()
        return Base64URL.encodeToString(Array(SHA256.hash(data: writer.bytes)))
    }

    /// Writes the public JWK with its `kid`, `alg` and `use`; there is no path from here to a private member.
    public func writeJWK(kid: String, algorithm: JWSAlgorithm, into writer: inout JSONWriter) {
        writer.beginObject()
        for (name, value) in publicMembers() { writer.member(named: name, value) }
        writer.member("kid", kid)
        writer.member("alg", algorithm.rawValue)
        writer.member("use", "sig")
        writer.endObject()
    }
}

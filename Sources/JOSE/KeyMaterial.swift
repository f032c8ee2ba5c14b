import Crypto
import _CryptoExtras
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Public key material of one supported type.
public enum PublicKeyMaterial: @unchecked Sendable {
    case rsa(_RSA.Signing.PublicKey)
    case p256(P256.Signing.PublicKey)
    case p384(P384.Signing.PublicKey)
    case ed25519(Curve25519.Signing.PublicKey)

    public var keyType: KeyType {
        switch self {
        case .rsa: .rsa
        case .p256: .p256
        case .p384: .p384
        case .ed25519: .ed25519
        }
    }

    /// Verifies `signature` over `input` with the one algorithm this key was configured for.
    /// Fixed-length algorithms reject any other length before touching the curve, which also rules out
    /// DER-encoded and padded ECDSA signatures.
    public func isValidSignature(_ signature: [UInt8], for input: [UInt8], algorithm: JWSAlgorithm) -> Bool {
        isValidSignature(signature, for: input[...], algorithm: algorithm)
    }

    /// The same over a slice: a JWS's signing input is checked where it lies in the token.
    public func isValidSignature(_ signature: [UInt8], for input: ArraySlice<UInt8>, algorithm: JWSAlgorithm) -> Bool {
        if let length = algorithm.fixedSignatureLength, signature.count != length { return false }
        switch (self, algorithm) {
        // Signatures are handed over as `Data`: swift-crypto copies them with `Data`'s generic
        // initialiser, whose `as? ContiguousBytes` costs a scan of every conformance record the first
        // time it meets a type; for `[UInt8]` that took two scans, for `Data` one (0.06 ms of a cold start).
        case (.rsa(let key), .rs256):
            return key.isValidSignature(_RSA.Signing.RSASignature(rawRepresentation: Data(signature: signature)), for: Digests.sha256(input), padding: .insecurePKCS1v1_5)
        case (.rsa(let key), .ps256):
            return key.isValidSignature(_RSA.Signing.RSASignature(rawRepresentation: Data(signature: signature)), for: Digests.sha256(input), padding: .PSS)
        case (.p256(let key), .es256):
            guard let parsed = try? P256.Signing.ECDSASignature(rawRepresentation: Data(signature: signature)) else { return false }
            return key.isValidSignature(parsed, for: Digests.sha256(input))
        case (.p384(let key), .es384):
            guard let parsed = try? P384.Signing.ECDSASignature(rawRepresentation: Data(signature: signature)) else { return false }
            return key.isValidSignature(parsed, for: Digests.sha384(input))
        case (.ed25519(let key), .edDSA):
            return key.isValidSignature(signature, for: input)
        default:
            return false
        }
    }

    /// RSA modulus size; nil for curves.
    public var rsaBits: Int? {
        if case .rsa(let key) = self { return key.keySizeInBits }
        return nil
    }
}

/// Private key material of one supported type.
public enum PrivateKeyMaterial: @unchecked Sendable {
    case rsa(_RSA.Signing.PrivateKey)
    case p256(P256.Signing.PrivateKey)
    case p384(P384.Signing.PrivateKey)
    case ed25519(Curve25519.Signing.PrivateKey)

    public var keyType: KeyType {
        switch self {
        case .rsa: .rsa
        case .p256: .p256
        case .p384: .p384
        case .ed25519: .ed25519
        }
    }

    /// The public half. For the NIST curves it is read back from the key's X9.63 form (04 || X || Y ||
    /// d) rather than through swift-crypto's `publicKey`, which names its generic public-key wrapper by
    /// a mangled name and so makes the Swift runtime scan every conformance record of the program the
    /// first time: about 0.2 ms of a cold `baton invoke` that loads an ES256 key.
    public var publicKey: PublicKeyMaterial {
        switch self {
        case .rsa(let key): .rsa(key.publicKey)
        // The X9.63 form of a valid private key always holds a valid public point.
        case .p256(let key): .p256(try! P256.Signing.PublicKey(x963Representation: key.x963Representation.prefix(65)))
        case .p384(let key): .p384(try! P384.Signing.PublicKey(x963Representation: key.x963Representation.prefix(97)))
        case .ed25519(let key): .ed25519(key.publicKey)
        }
    }

    /// Signs with the configured algorithm; ECDSA signatures come out as the fixed-size R || S JWS wants.
    public func signature(for input: [UInt8], algorithm: JWSAlgorithm) throws -> [UInt8] {
        Array(try signatureBytes(for: input, algorithm: algorithm))
    }

    /// The signature in the buffer swift-crypto returns it in.
    func signatureBytes<Input: DataProtocol>(for input: Input, algorithm: JWSAlgorithm) throws -> Data {
        switch (self, algorithm) {
        case (.rsa(let key), .rs256):
            return try key.signature(for: Digests.sha256(input), padding: .insecurePKCS1v1_5).rawRepresentation
        case (.rsa(let key), .ps256):
            return try key.signature(for: Digests.sha256(input), padding: .PSS).rawRepresentation
        case (.p256(let key), .es256):
            return try key.signature(for: Digests.sha256(input)).rawRepresentation
        case (.p384(let key), .es384):
            return try key.signature(for: Digests.sha384(input)).rawRepresentation
        case (.ed25519(let key), .edDSA):
            return try key.signature(for: input)
        default:
            throw KeyError("\(keyType.description) cannot sign \(algorithm.rawValue)")
        }
    }

    public static func generate(for algorithm: JWSAlgorithm) throws -> PrivateKeyMaterial {
        switch algorithm.keyType {
        case .rsa: .rsa(try _RSA.Signing.PrivateKey(keySize: .bits2048))
        case .p256: .p256(P256.Signing.PrivateKey())
        case .p384: .p384(P384.Signing.PrivateKey())
        case .ed25519: .ed25519(Curve25519.Signing.PrivateKey())
        }
    }
}

/// A key-handling failure. Messages never contain key material.
public struct KeyError: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

private extension Data {
    /// A copy through the non-generic initialiser (see `isValidSignature`).
    init(signature: [UInt8]) {
        // The array's implicit pointer is valid even when it is empty.
        self.init(bytes: signature, count: signature.count)
    }
}

/// The message digests RS256, PS256, ES256 (SHA-256) and ES384 (SHA-384) sign, computed here and handed to
/// swift-crypto's digest entry points. Its `DataProtocol` entry points hash the same bytes the same way,
/// but through unspecialised generic code that walks the input's `regions` and looks their types up at
/// run time: about 2,500 instructions per hash in a grant, beside ~1,000 of SHA-256 itself.
enum Digests {
    // Written out per hash: one body generic over `HashFunction` (even forced inline) measured ~700
    // instructions more per hash under callgrind.
    static func sha256<Input: DataProtocol>(_ input: Input) -> SHA256Digest {
        var hasher = SHA256()
        for region in input.regions { region.withUnsafeBytes { hasher.update(bufferPointer: $0) } }
        return hasher.finalize()
    }

    static func sha384<Input: DataProtocol>(_ input: Input) -> SHA384Digest {
        var hasher = SHA384()
        for region in input.regions { region.withUnsafeBytes { hasher.update(bufferPointer: $0) } }
        return hasher.finalize()
    }
}

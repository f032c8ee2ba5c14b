/// The signature algorithms Baton signs and verifies with. Asymmetric only: a shared-secret MAC would
/// let anyone who can verify a token also mint one, and `none` is not an algorithm.
public enum JWSAlgorithm: String, Sendable, CaseIterable, Hashable, Comparable {
    case rs256 = "RS256"
    case ps256 = "PS256"
    case es256 = "ES256"
    case es384 = "ES384"
    case edDSA = "EdDSA"

    /// By case, not by raw string: every verification looks its algorithm up in the issuer's set.
    public func hash(into hasher: inout Hasher) {
        switch self {
        case .rs256: hasher.combine(0)
        case .ps256: hasher.combine(1)
        case .es256: hasher.combine(2)
        case .es384: hasher.combine(3)
        case .edDSA: hasher.combine(4)
        }
    }

    public var keyType: KeyType {
        switch self {
        case .rs256, .ps256: .rsa
        case .es256: .p256
        case .es384: .p384
        case .edDSA: .ed25519
        }
    }

    /// The exact length of a valid signature, where the algorithm fixes it (RFC 7518 3.4: R || S).
    public var fixedSignatureLength: Int? {
        switch self {
        case .es256: 64
        case .es384: 96
        case .edDSA: 64
        case .rs256, .ps256: nil
        }
    }

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// The kind of key material, which fixes the algorithms a key may serve.
public enum KeyType: String, Sendable, Hashable {
    case rsa = "RSA"
    case p256 = "P-256"
    case p384 = "P-384"
    case ed25519 = "Ed25519"

    /// The algorithm a key of this type signs with when nothing says otherwise (PEM carries no `alg`).
    public var defaultAlgorithm: JWSAlgorithm {
        switch self {
        case .rsa: .rs256
        case .p256: .es256
        case .p384: .es384
        case .ed25519: .edDSA
        }
    }

    public var description: String {
        switch self {
        case .rsa: "an RSA key"
        case .p256: "a P-256 key"
        case .p384: "a P-384 key"
        case .ed25519: "an Ed25519 key"
        }
    }
}

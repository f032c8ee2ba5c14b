import Crypto
import JOSE

/// How a foreign subject becomes a subject of this domain, without a user database.
public enum SubjectMapping: Sendable {
    /// The foreign `sub` as it is.
    case passthrough
    /// `<issuer><separator><sub>`: unique across issuers, still readable.
    case qualified(separator: String)
    /// A keyed hash of issuer and subject: stable per domain, unlinkable across domains.
    case pairwise(key: SymmetricKeyBytes)
    /// A static link table; a subject not in it is denied (identity chaining 2.4.2).
    case linked([String: String])

    /// The local subject, or nil when the subject cannot be identified.
    public func localSubject(for subject: String, issuer: String) -> String? {
        switch self {
        case .passthrough:
            return subject
        case .qualified(let separator):
            return issuer + separator + subject
        case .pairwise(let key):
            var input = Array(issuer.utf8)
            input.append(0)
            input.append(contentsOf: subject.utf8)
            let mac = HMAC<SHA256>.authenticationCode(for: input, using: SymmetricKey(data: key.bytes))
            return Base64URL.encodeToString(Array(mac))
        case .linked(let table):
            return table[subject]
        }
    }
}

/// Secret bytes that never print.
public struct SymmetricKeyBytes: Sendable, CustomStringConvertible {
    let bytes: [UInt8]
    public init(_ bytes: [UInt8]) { self.bytes = bytes }
    public var description: String { "<secret \(bytes.count) bytes>" }
}

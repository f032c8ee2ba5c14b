import Crypto
import JOSE

/// A client secret kept as salted SHA-256. Client secrets are long random machine secrets, so a fast
/// hash is enough; a password KDF would cap issuance at a few hundred grants per second.
public struct SecretHash: Sendable {
    public static let minimumSecretLength = 32
    public static let prefix = "sha256$"

    let salt: [UInt8]
    let digest: [UInt8]

    public init(salt: [UInt8], digest: [UInt8]) {
        self.salt = salt
        self.digest = digest
    }

    /// Hashes a secret with a fresh or given salt.
    public init(secret: String, salt: [UInt8]) {
        self.salt = salt
        self.digest = Self.hash(secret, salt: salt)
    }

    /// Parses `sha256$<salt base64url>$<digest base64url>`.
    public init?(encoded: String) {
        guard encoded.hasPrefix(Self.prefix) else { return nil }
        let parts = encoded.dropFirst(Self.prefix.count).split(separator: "$", omittingEmptySubsequences: false)
        guard parts.count == 2, let salt = Base64URL.decode(String(parts[0])), salt.count >= 16,
              let digest = Base64URL.decode(String(parts[1])), digest.count == 32 else { return nil }
        self.salt = salt
        self.digest = digest
    }

    public var encoded: String {
        Self.prefix + Base64URL.encodeToString(salt) + "$" + Base64URL.encodeToString(digest)
    }

    static func hash(_ secret: String, salt: [UInt8]) -> [UInt8] {
        var secret = secret
        return secret.withUTF8 { Array(digest(of: UnsafeRawBufferPointer($0), salt: salt)) }
    }

    /// salt || secret gathered on the stack and hashed in one call: swift-crypto's incremental hasher
    /// allocates a context and costs more per update than copying a secret's few dozen bytes.
    private static func digest(of secret: UnsafeRawBufferPointer, salt: [UInt8]) -> SHA256.Digest {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: salt.count + secret.count) { buffer in
            _ = buffer.initialize(fromContentsOf: salt)
            _ = UnsafeMutableBufferPointer(rebasing: buffer[salt.count...]).initialize(fromContentsOf: secret)
            defer { buffer.update(repeating: 0) }
            return SHA256.hash(data: UnsafeRawBufferPointer(buffer))
        }
    }

    public func matches(_ presented: String) -> Bool {
        var presented = presented
        return presented.withUTF8 { matches(utf8: UnsafeRawBufferPointer($0)) }
    }

    /// Constant-time in the secret's content: both digests are compared in full.
    public func matches(utf8 presented: UnsafeRawBufferPointer) -> Bool {
        let candidate = Self.digest(of: presented, salt: salt)
        guard digest.count == SHA256.byteCount else { return false }
        var difference: UInt8 = 0
        candidate.withUnsafeBytes { candidate in
            for index in 0..<digest.count { difference |= digest[index] ^ candidate[index] }
        }
        return difference == 0
    }
}

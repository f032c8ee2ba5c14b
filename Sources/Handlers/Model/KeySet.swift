import JOSE

/// The domain's own keys: one active signer per algorithm, and every key it publishes for verification
/// (active ones and those kept only so that tokens signed before a rotation still verify).
public struct KeySet: Sendable {
    public let activeSigners: [JWSAlgorithm: SigningKey]
    public let published: [VerificationKey]

    public init(activeSigners: [JWSAlgorithm: SigningKey], published: [VerificationKey]) {
        self.activeSigners = activeSigners
        self.published = published
    }

    /// `{"keys":[…]}` with public members only, in the order configured.
    public func jwksDocument() -> [UInt8] {
        var writer = JSONWriter(capacity: 1024)
        writer.beginObject()
        writer.key("keys")
        writer.beginArray()
        for key in published { key.material.writeJWK(kid: key.kid, algorithm: key.algorithm, into: &writer) }
        writer.endArray()
        writer.endObject()
        return writer.bytes
    }
}

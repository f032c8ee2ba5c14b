/// A private key bound to one algorithm and kid: Baton's token signer.
public struct SigningKey: Sendable {
    public let kid: String
    public let algorithm: JWSAlgorithm
    public let material: PrivateKeyMaterial

    public init(kid: String, algorithm: JWSAlgorithm, material: PrivateKeyMaterial) throws(KeyError) {
        guard algorithm.keyType == material.keyType else {
            throw KeyError("\(material.keyType.description) cannot sign \(algorithm.rawValue)")
        }
        self.kid = kid
        self.algorithm = algorithm
        self.material = material
    }

    public var verificationKey: VerificationKey {
        VerificationKey(kid: kid, algorithm: algorithm, material: material.publicKey)
    }

    /// Builds `base64url(header).base64url(payload).base64url(signature)` in one buffer.
    /// The header is `{"alg":…,"typ":…,"kid":…}`: exactly what a verifier needs and nothing it could misuse.
    public func sign(type: String, payload: [UInt8]) throws -> String {
        var header = JSONWriter(capacity: 96)
        header.beginObject()
        header.member("alg", algorithm.rawValue)
        header.member("typ", type)
        header.member("kid", kid)
        header.endObject()

        var token: [UInt8] = []
        token.reserveCapacity(Base64URL.encodedLength(header.bytes.count) + Base64URL.encodedLength(payload.count) + 360)
        Base64URL.encode(header.bytes, into: &token)
        token.append(UInt8(ascii: "."))
        Base64URL.encode(payload, into: &token)
        let signature = try material.signature(for: token, algorithm: algorithm)
        token.append(UInt8(ascii: "."))
        Base64URL.encode(signature, into: &token)
        return String(decoding: token, as: UTF8.self)
    }
}

/// A public key bound to one algorithm and kid. A key configured for RS256 never verifies PS256.
public struct VerificationKey: Sendable {
    public let kid: String
    public let algorithm: JWSAlgorithm
    public let material: PublicKeyMaterial

    public init(kid: String, algorithm: JWSAlgorithm, material: PublicKeyMaterial) {
        self.kid = kid
        self.algorithm = algorithm
        self.material = material
    }
}

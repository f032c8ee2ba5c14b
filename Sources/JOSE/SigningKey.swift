/// A private key bound to one algorithm and kid: Baton's token signer.
public struct SigningKey: Sendable {
    public let kid: String
    public let algorithm: JWSAlgorithm
    public let material: PrivateKeyMaterial
    /// The public half, published in the JWKS.
    public let publicMaterial: PublicKeyMaterial
    /// RS256/PS256 with OpenSSL 3 when the process can load it (see `OpenSSLRSASigner`); chosen here,
    /// once, so that every token this key signs takes the same path.
    private let openSSL: OpenSSLRSASigner?
    /// `base64url(header)` for the token types signed most, built once.
    private let encodedHeaders: [(type: String, bytes: [UInt8])]
    private let signatureLength: Int

    /// Token types whose header is encoded at load: access tokens and chaining grants.
    static let preparedTypes = ["at+jwt", "JWT"]

    /// `publicMaterial`: the public half when the caller already holds it, checked to be the pair of
    /// `material` (a `ParsedKey`'s); derived otherwise.
    public init(kid: String, algorithm: JWSAlgorithm, material: PrivateKeyMaterial, publicMaterial: PublicKeyMaterial? = nil) throws(KeyError) {
        guard algorithm.keyType == material.keyType else {
            throw KeyError("\(material.keyType.description) cannot sign \(algorithm.rawValue)")
        }
        if let publicMaterial, publicMaterial.keyType != material.keyType {
            throw KeyError("the public key (\(publicMaterial.keyType.description)) is not the pair of the \(material.keyType.description) private key")
        }
        self.kid = kid
        self.algorithm = algorithm
        self.material = material
        self.publicMaterial = publicMaterial ?? material.publicKey
        self.openSSL = OpenSSLRSASigner.make(material, algorithm: algorithm)
        self.encodedHeaders = Self.preparedTypes.map { ($0, Self.encodedHeader(algorithm: algorithm, type: $0, kid: kid)) }
        self.signatureLength = algorithm.fixedSignatureLength ?? (self.publicMaterial.rsaBits ?? 2048) / 8
    }

    public var verificationKey: VerificationKey {
        VerificationKey(kid: kid, algorithm: algorithm, material: publicMaterial)
    }

    /// Which library computes this key's signatures: "OpenSSL" or "swift-crypto".
    public var backend: String { openSSL != nil ? "OpenSSL" : "swift-crypto" }

    /// The raw JWS signature over `input` (ECDSA as R || S), by the backend chosen at load.
    public func signature(for input: [UInt8]) throws -> [UInt8] {
        if let openSSL { return try openSSL.signature(for: input) }
        return try material.signature(for: input, algorithm: algorithm)
    }

    /// Builds `base64url(header).base64url(payload).base64url(signature)` in one buffer.
    /// The header is `{"alg":…,"typ":…,"kid":…}`: exactly what a verifier needs and nothing it could misuse.
    public func sign(type: String, payload: [UInt8]) throws -> String {
        String(decoding: try signCompact(type: type, payload: payload), as: UTF8.self)
    }

    /// `sign(type:payload:)` as bytes, for callers that write the token straight into a response: the
    /// result is ASCII (base64url and two dots) and needs neither a String nor JSON escaping.
    /// Every part has a known length, so the token is built in scratch space of its final size: header
    /// and payload are encoded into it, signed where they lie, and the signature encoded from the
    /// library's own buffer behind them; then it is copied into one array (`ByteArray`).
    public func signCompact(type: String, payload: [UInt8]) throws -> [UInt8] {
        let header = encodedHeaders.first(where: { $0.type == type })?.bytes ?? Self.encodedHeader(algorithm: algorithm, type: type, kid: kid)
        let signingInputLength = header.count + 1 + Base64URL.encodedLength(payload.count)
        let length = signingInputLength + 1 + Base64URL.encodedLength(signatureLength)
        return try ByteArray.build(capacity: length) { token throws -> Int in
            _ = token.initialize(fromContentsOf: header)
            token[header.count] = UInt8(ascii: ".")
            payload.withUnsafeBufferPointer { payload in
                _ = Base64URL.encode(contiguous: payload, into: UnsafeMutableBufferPointer(rebasing: token[(header.count + 1)...]))
            }
            let signingInput = UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: token[..<signingInputLength]))
            if let openSSL {
                return try Self.appendSignature(try openSSL.signature(for: signingInput), to: token, at: signingInputLength, expected: signatureLength)
            }
            return try Self.appendSignature(
                try material.signatureBytes(for: signingInput, algorithm: algorithm), to: token, at: signingInputLength, expected: signatureLength
            )
        }
    }

    /// `.` and the encoded signature behind the signing input; returns the token's length.
    private static func appendSignature(
        _ signature: some Collection<UInt8>, to token: UnsafeMutableBufferPointer<UInt8>, at offset: Int, expected: Int
    ) throws(KeyError) -> Int {
        // A library answering with another length than the key's would overrun the token's buffer.
        guard signature.count == expected else { throw KeyError("the signature has \(signature.count) bytes, not \(expected)") }
        token[offset] = UInt8(ascii: ".")
        let written = Base64URL.withContiguous(signature) { signature in
            Base64URL.encode(contiguous: signature, into: UnsafeMutableBufferPointer(rebasing: token[(offset + 1)...]))
        }
        return offset + 1 + written
    }

    static func encodedHeader(algorithm: JWSAlgorithm, type: String, kid: String) -> [UInt8] {
        var header = JSONWriter(capacity: 96)
        header.beginObject()
        header.member("alg", algorithm.rawValue)
        header.member("typ", type)
        header.member("kid", kid)
        header.endObject()
        return Base64URL.encode(header.bytes)
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

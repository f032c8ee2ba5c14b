/// Why a token was refused at the JOSE layer. The message is safe to show a client: it names what is
/// wrong, never key material or the token itself.
public struct JWSError: Error, Sendable, Equatable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// A compact JWS split and decoded, but not yet trusted.
public struct UnverifiedJWS: Sendable {
    public let header: JSONObject
    public let claims: JSONObject
    public let algorithmName: String
    public let kid: String?
    public let type: String?
    /// The token's bytes where they were received; the signing input is its prefix up to the second
    /// dot (kept, not copied).
    let tokenBytes: ArraySlice<UInt8>
    let signingInputEnd: Int
    let signature: [UInt8]

    var signingInput: ArraySlice<UInt8> { tokenBytes[..<signingInputEnd] }

    /// Verifies with exactly one of `keys`, chosen by kid. Without a kid, only a single candidate key
    /// for the token's algorithm is acceptable: no default-key fallback.
    public func verify(with keys: [VerificationKey], allowedAlgorithms: Set<JWSAlgorithm>) throws(JWSError) -> VerificationKey {
        guard let algorithm = JWSAlgorithm(rawValue: algorithmName) else {
            throw JWSError("algorithm \"\(CompactJWS.printable(algorithmName))\" is not supported")
        }
        guard allowedAlgorithms.contains(algorithm) else {
            throw JWSError("algorithm \(algorithm.rawValue) is not allowed for this issuer")
        }
        let key: VerificationKey
        if let kid {
            guard let match = keys.first(where: { $0.kid == kid }) else {
                throw JWSError("no key with kid \"\(CompactJWS.printable(kid))\" is trusted for this issuer")
            }
            key = match
        } else {
            let candidates = keys.filter { $0.algorithm == algorithm }
            guard candidates.count == 1 else {
                throw JWSError(candidates.isEmpty
                    ? "no \(algorithm.rawValue) key is trusted for this issuer"
                    : "the token has no kid and the issuer has several \(algorithm.rawValue) keys")
            }
            key = candidates[0]
        }
        guard key.algorithm == algorithm else {
            throw JWSError("key \"\(CompactJWS.printable(key.kid))\" is for \(key.algorithm.rawValue), not \(algorithm.rawValue)")
        }
        guard key.material.isValidSignature(signature, for: signingInput, algorithm: algorithm) else {
            throw JWSError("signature is invalid")
        }
        return key
    }
}

public enum CompactJWS {
    /// Header members Baton knows. Anything listed in `crit` is by definition an extension it does not
    /// implement, so any `crit` is refused (RFC 7515 4.1.11).
    public static let defaultMaxLength = 16 * 1024

    /// Splits and decodes a compact JWS without trusting it. Every structural rule of RFC 7515/7519 and
    /// RFC 8725 that does not need a key is enforced here.
    public static func parse(_ token: String, maxLength: Int = defaultMaxLength) throws(JWSError) -> UnverifiedJWS {
        try parse(Array(token.utf8)[...], maxLength: maxLength)
    }

    /// The same over the token's UTF-8 bytes, which the result keeps (a slice of a request body is not
    /// copied).
    public static func parse(_ bytes: ArraySlice<UInt8>, maxLength: Int = defaultMaxLength) throws(JWSError) -> UnverifiedJWS {
        guard !bytes.isEmpty else { throw JWSError("the token is empty") }
        guard bytes.count <= maxLength else { throw JWSError("the token is longer than \(maxLength) bytes") }
        if bytes.first == UInt8(ascii: "{") { throw JWSError("JWS JSON serialization is not accepted; send the compact form") }
        var dotCount = 0
        // Offsets into the slice while scanning, indices of it after.
        var firstDot = 0
        var secondDot = 0
        bytes.withUnsafeBufferPointer { buffer in
            var index = ByteScan.firstIndex(of: UInt8(ascii: "."), in: buffer, from: 0)
            while index < buffer.count {
                if dotCount == 0 { firstDot = index } else if dotCount == 1 { secondDot = index }
                dotCount += 1
                index = ByteScan.firstIndex(of: UInt8(ascii: "."), in: buffer, from: index + 1)
            }
        }
        if dotCount == 4 { throw JWSError("encrypted tokens (JWE) are not accepted") }
        guard dotCount == 2 else { throw JWSError("the token is not a compact JWS (three dot-separated parts)") }
        firstDot += bytes.startIndex
        secondDot += bytes.startIndex

        let headerPart = bytes[..<firstDot]
        let payloadPart = bytes[(firstDot + 1)..<secondDot]
        let signaturePart = bytes[(secondDot + 1)...]
        // Header and claims are parsed where they are decoded, in scratch space; only the signature,
        // which verification reads later, becomes an array.
        guard let header = try Base64URL.withDecoded(headerPart, { bytes throws(JWSError) in try object(bytes, maxDepth: 4, subject: "the header is") }) else {
            throw JWSError("the header is not valid base64url")
        }

        guard let algValue = header["alg"] else { throw JWSError("the header has no \"alg\"") }
        guard let alg = algValue.stringValue else { throw JWSError("\"alg\" must be a string") }
        if alg.utf8.count == 4, alg.lowercased() == "none" { throw JWSError("unsigned tokens (alg \"none\") are refused") }
        if header["crit"] != nil { throw JWSError("the header lists critical extensions (\"crit\") that Baton does not support") }
        if header["enc"] != nil || header["zip"] != nil { throw JWSError("encrypted or compressed tokens are not accepted") }
        if header["b64"] != nil { throw JWSError("unencoded payloads (\"b64\") are not accepted") }
        var kid: String?
        if let kidValue = header["kid"] {
            guard let text = kidValue.stringValue else { throw JWSError("\"kid\" must be a string") }
            guard !text.isEmpty, text.utf8.count <= JWK.maxKidLength else { throw JWSError("\"kid\" must be 1 to \(JWK.maxKidLength) characters") }
            kid = text
        }
        var type: String?
        if let typValue = header["typ"] {
            guard let text = typValue.stringValue else { throw JWSError("\"typ\" must be a string") }
            type = text
        }

        guard let claims = try Base64URL.withDecoded(payloadPart, { bytes throws(JWSError) in try object(bytes, maxDepth: 16, subject: "the claims are") }) else {
            throw JWSError("the payload is not valid base64url")
        }
        guard let signature = Base64URL.decode(signaturePart) else { throw JWSError("the signature is not valid base64url") }

        return UnverifiedJWS(
            header: header, claims: claims, algorithmName: alg, kid: kid, type: type,
            tokenBytes: bytes, signingInputEnd: secondDot, signature: signature
        )
    }

    /// One JOSE part as a JSON object; typed throws all the way, so no error is boxed on the hot path.
    private static func object(_ bytes: UnsafeBufferPointer<UInt8>, maxDepth: Int, subject: String) throws(JWSError) -> JSONObject {
        let value: JSONValue
        do {
            value = try JSONParser.parse(bytes, maxDepth: maxDepth)
        } catch {
            throw JWSError("\(subject) not valid JSON: \(error.message)")
        }
        guard let object = value.objectValue else { throw JWSError("\(subject) not a JSON object") }
        return object
    }

    /// `typ` in lower case without an `application/` prefix, nil when absent: media types compare
    /// case-insensitively and may drop the prefix (RFC 7515 4.1.9).
    public static func normalisedType(_ type: String?) -> String? {
        guard let lower = type?.lowercased() else { return nil }
        return lower.hasPrefix("application/") ? String(lower.dropFirst("application/".count)) : lower
    }

    public static func typeMatches(_ type: String?, _ expected: String) -> Bool {
        normalisedType(type) == expected.lowercased()
    }

    /// Echoes attacker-supplied strings into error messages only in a bounded, printable form.
    public static func printable(_ text: String) -> String {
        let cleaned = String(String.UnicodeScalarView(text.unicodeScalars.filter { $0.value >= 0x20 && $0.value < 0x7F }))
        return cleaned.count > 64 ? String(cleaned.prefix(64)) + "…" : cleaned
    }
}

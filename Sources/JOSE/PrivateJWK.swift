import _CryptoExtras

extension PrivateKeyMaterial {
    /// The full private JWK, for `baton keys generate` only: the one place Baton writes private members.
    public func writePrivateJWK(kid: String, algorithm: JWSAlgorithm, into writer: inout JSONWriter) {
        writer.beginObject()
        for (name, value) in publicKey.publicMembers() { writer.member(named: name, value) }
        switch self {
        case .rsa(let key):
            // PKCS#1 RSAPrivateKey: version, n, e, d, p, q, dp, dq, qi.
            let integers = DERIntegerSequence.integers(in: Array(key.derRepresentation)) ?? []
            for (name, index) in [("d", 3), ("p", 4), ("q", 5), ("dp", 6), ("dq", 7), ("qi", 8)] where index < integers.count {
                writer.member(named: name, Base64URL.encodeToString(integers[index]))
            }
        case .p256(let key): writer.member("d", Base64URL.encodeToString(Array(key.rawRepresentation)))
        case .p384(let key): writer.member("d", Base64URL.encodeToString(Array(key.rawRepresentation)))
        case .ed25519(let key): writer.member("d", Base64URL.encodeToString(Array(key.rawRepresentation)))
        }
        writer.member("kid", kid)
        writer.member("alg", algorithm.rawValue)
        writer.member("use", "sig")
        writer.endObject()
    }
}

/// Reads the INTEGERs of a DER SEQUENCE, unsigned and without leading zeros. Enough for PKCS#1.
enum DERIntegerSequence {
    static func integers(in der: [UInt8]) -> [[UInt8]]? {
        var index = 0
        guard der.first == 0x30, let (sequenceLength, headerEnd) = length(der, at: 1) else { return nil }
        index = headerEnd
        let end = index + sequenceLength
        guard end <= der.count else { return nil }
        var result: [[UInt8]] = []
        while index < end {
            guard der[index] == 0x02, let (length, valueStart) = length(der, at: index + 1), valueStart + length <= end else { return nil }
            var value = Array(der[valueStart..<(valueStart + length)])
            while value.count > 1, value.first == 0 { value.removeFirst() }
            result.append(value)
            index = valueStart + length
        }
        return result
    }

    private static func length(_ der: [UInt8], at index: Int) -> (Int, Int)? {
        guard index < der.count else { return nil }
        let first = der[index]
        if first < 0x80 { return (Int(first), index + 1) }
        let count = Int(first & 0x7F)
        guard count > 0, count <= 4, index + count < der.count else { return nil }
        var value = 0
        for offset in 1...count { value = value << 8 | Int(der[index + offset]) }
        return (value, index + 1 + count)
    }
}

/// Base64url without padding (RFC 7515 2), over bytes, because every token Baton issues and reads is
/// built from it and Foundation's string-based base64 costs more than the signature on the hot path.
public enum Base64URL {
    private static let alphabet: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    private static let decodeTable: [UInt8] = {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (index, byte) in alphabet.enumerated() { table[Int(byte)] = UInt8(index) }
        return table
    }()

    public static func encodedLength(_ count: Int) -> Int { (count * 4 + 2) / 3 }

    /// Appends the encoding of `bytes` to `output`.
    public static func encode<Bytes: Collection>(_ bytes: Bytes, into output: inout [UInt8]) where Bytes.Element == UInt8 {
        output.reserveCapacity(output.count + encodedLength(bytes.count))
        alphabet.withUnsafeBufferPointer { table in
            var iterator = bytes.makeIterator()
            while let b0 = iterator.next() {
                guard let b1 = iterator.next() else {
                    output.append(table[Int(b0 >> 2)])
                    output.append(table[Int((b0 & 0x03) << 4)])
                    return
                }
                guard let b2 = iterator.next() else {
                    output.append(table[Int(b0 >> 2)])
                    output.append(table[Int((b0 & 0x03) << 4 | b1 >> 4)])
                    output.append(table[Int((b1 & 0x0F) << 2)])
                    return
                }
                output.append(table[Int(b0 >> 2)])
                output.append(table[Int((b0 & 0x03) << 4 | b1 >> 4)])
                output.append(table[Int((b1 & 0x0F) << 2 | b2 >> 6)])
                output.append(table[Int(b2 & 0x3F)])
            }
        }
    }

    public static func encode<Bytes: Collection>(_ bytes: Bytes) -> [UInt8] where Bytes.Element == UInt8 {
        var output: [UInt8] = []
        encode(bytes, into: &output)
        return output
    }

    public static func encodeToString<Bytes: Collection>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
        String(decoding: encode(bytes), as: UTF8.self)
    }

    /// Strict decoding: no padding, no whitespace, only the url-safe alphabet, and the unused low bits of
    /// the last character must be zero, so that each byte string has exactly one accepted encoding.
    public static func decode<Input: Collection>(_ input: Input) -> [UInt8]? where Input.Element == UInt8 {
        let count = input.count
        if count % 4 == 1 { return nil }
        var output: [UInt8] = []
        output.reserveCapacity(count * 3 / 4)
        return decodeTable.withUnsafeBufferPointer { table -> [UInt8]? in
            var accumulator: UInt32 = 0
            var bits = 0
            for byte in input {
                let value = table[Int(byte)]
                if value == 0xFF { return nil }
                accumulator = (accumulator << 6) | UInt32(value)
                bits += 6
                if bits >= 8 {
                    bits -= 8
                    output.append(UInt8(truncatingIfNeeded: accumulator >> UInt32(bits)))
                    accumulator &= (1 << UInt32(bits)) - 1
                }
            }
            if accumulator != 0 { return nil }
            return output
        }
    }

    public static func decode(_ string: String) -> [UInt8]? {
        decode(Array(string.utf8))
    }
}

/// Base64url without padding (RFC 7515 2), over bytes, because every token Baton issues and reads is
/// built from it and Foundation's string-based base64 costs more than the signature on the hot path.
public enum Base64URL {
    private static let alphabet: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    private static let decodeTable = decodeTable(for: alphabet)

    /// Each byte's value in `alphabet`, 0xFF for bytes outside it (what the strict decoder tests for).
    static func decodeTable(for alphabet: [UInt8]) -> [UInt8] {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (index, byte) in alphabet.enumerated() { table[Int(byte)] = UInt8(index) }
        return table
    }

    /// Every 12-bit value as its two characters, laid out in memory order (8 KiB, built once).
    private static let pairs: [UInt16] = (0..<4096).map { bits in
        let first = UInt16(alphabet[bits >> 6]), second = UInt16(alphabet[bits & 0x3F])
        #if _endian(little)
        return first | second << 8
        #else
        return first << 8 | second
        #endif
    }

    public static func encodedLength(_ count: Int) -> Int { (count * 4 + 2) / 3 }

    public static func isAlphabet(_ byte: UInt8) -> Bool { decodeTable[Int(byte)] != 0xFF }

    // The generic entry points are inlinable so that callers in other modules get them specialised for
    // their own collection type; unspecialised, each call goes through witness tables.

    /// `body` over the bytes where they lie, or over an array copy of them when the collection has no
    /// contiguous storage: what every generic entry point here and in `Base64Standard` does first.
    @inlinable
    static func withContiguous<Bytes: Collection, Result>(
        _ bytes: Bytes, _ body: (UnsafeBufferPointer<UInt8>) -> Result
    ) -> Result where Bytes.Element == UInt8 {
        if let result = bytes.withContiguousStorageIfAvailable(body) { return result }
        return Array(bytes).withUnsafeBufferPointer(body)
    }

    /// Appends the encoding of `bytes` to `output`.
    @inlinable
    public static func encode<Bytes: Collection>(_ bytes: Bytes, into output: inout [UInt8]) where Bytes.Element == UInt8 {
        withContiguous(bytes) { encode(contiguous: $0, into: &output) }
    }

    /// Appends in place: the output grows once, then is written through its storage.
    @usableFromInline
    static func encode(contiguous input: UnsafeBufferPointer<UInt8>, into output: inout [UInt8]) {
        let start = output.count
        let length = encodedLength(input.count)
        guard length > 0 else { return }
        output.append(contentsOf: repeatElement(0, count: length))
        output.withUnsafeMutableBufferPointer { out in
            _ = encode(contiguous: input, into: UnsafeMutableBufferPointer(rebasing: out[start...]))
        }
    }

    /// Three bytes to four characters at a time; returns the number of characters written
    /// (`encodedLength(input.count)`, which `out` must have room for).
    static func encode(contiguous input: UnsafeBufferPointer<UInt8>, into out: UnsafeMutableBufferPointer<UInt8>) -> Int {
        let length = encodedLength(input.count)
        precondition(out.count >= length, "Base64URL: output buffer too small")
        var i = 0
        var o = 0
        let whole = input.count - input.count % 3
        // Twelve bits at a time: one lookup gives two characters, so three bytes take two loads and
        // two stores instead of four and four.
        if whole > 0, let base = out.baseAddress {
            let output = UnsafeMutableRawPointer(base)
            pairs.withUnsafeBufferPointer { pairs in
                while i < whole {
                    let bits = Int(input[i]) << 16 | Int(input[i + 1]) << 8 | Int(input[i + 2])
                    output.storeBytes(of: pairs[bits >> 12], toByteOffset: o, as: UInt16.self)
                    output.storeBytes(of: pairs[bits & 0xFFF], toByteOffset: o + 2, as: UInt16.self)
                    i += 3
                    o += 4
                }
            }
        }
        alphabet.withUnsafeBufferPointer { table in
            switch input.count - whole {
            case 1:
                let b0 = input[i]
                out[o] = table[Int(b0 >> 2)]
                out[o + 1] = table[Int((b0 & 0x03) << 4)]
            case 2:
                let b0 = input[i], b1 = input[i + 1]
                out[o] = table[Int(b0 >> 2)]
                out[o + 1] = table[Int((b0 & 0x03) << 4 | b1 >> 4)]
                out[o + 2] = table[Int((b1 & 0x0F) << 2)]
            default:
                break
            }
        }
        return length
    }

    @inlinable
    public static func encode<Bytes: Collection>(_ bytes: Bytes) -> [UInt8] where Bytes.Element == UInt8 {
        var output: [UInt8] = []
        encode(bytes, into: &output)
        return output
    }

    @inlinable
    public static func encodeToString<Bytes: Collection>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
        withContiguous(bytes) { encodeToString(contiguous: $0) }
    }

    /// Written straight into the string's own storage: one allocation per token id, not two.
    @usableFromInline
    static func encodeToString(contiguous input: UnsafeBufferPointer<UInt8>) -> String {
        String(unsafeUninitializedCapacity: encodedLength(input.count)) { out in
            encode(contiguous: input, into: out)
        }
    }

    /// Strict decoding: no padding, no whitespace, only the url-safe alphabet, and the unused low bits of
    /// the last character must be zero, so that each byte string has exactly one accepted encoding.
    @inlinable
    public static func decode<Input: Collection>(_ input: Input) -> [UInt8]? where Input.Element == UInt8 {
        withContiguous(input) { decode(contiguous: $0) }
    }

    @usableFromInline
    static func decode(contiguous input: UnsafeBufferPointer<UInt8>) -> [UInt8]? {
        decodeTable.withUnsafeBufferPointer { decode(contiguous: input, table: $0) }
    }

    /// Four characters to three bytes at a time. Table entries of valid characters are below 64, so one
    /// test of the high bits of all four catches any character outside the alphabet.
    static func decode(contiguous input: UnsafeBufferPointer<UInt8>, table: UnsafeBufferPointer<UInt8>) -> [UInt8]? {
        let count = input.count
        let rest = count % 4
        if rest == 1 { return nil }
        let groups = count / 4
        let length = groups * 3 + (rest == 0 ? 0 : rest - 1)
        var valid = true
        let result = [UInt8](unsafeUninitializedCapacity: length) { out, initialized in
            do {
                var i = 0
                var o = 0
                // Validity is gathered and tested once after the loop: without a branch per group the
                // loop runs faster (1.7% of a whole jwt-bearer grant's own work), and an invalid token
                // is rare enough that decoding the rest of it costs nothing that matters.
                var invalid: UInt8 = 0
                for _ in 0..<groups {
                    let a = table[Int(input[i])], b = table[Int(input[i + 1])], c = table[Int(input[i + 2])], d = table[Int(input[i + 3])]
                    invalid |= a | b | c | d
                    let value = UInt32(a) << 18 | UInt32(b) << 12 | UInt32(c) << 6 | UInt32(d)
                    out[o] = UInt8(truncatingIfNeeded: value >> 16)
                    out[o + 1] = UInt8(truncatingIfNeeded: value >> 8)
                    out[o + 2] = UInt8(truncatingIfNeeded: value)
                    i += 4
                    o += 3
                }
                if invalid & 0xC0 != 0 { valid = false; return }
                switch rest {
                case 2:
                    let a = table[Int(input[i])], b = table[Int(input[i + 1])]
                    if (a | b) & 0xC0 != 0 || b & 0x0F != 0 { valid = false; return }
                    out[o] = a << 2 | b >> 4
                case 3:
                    let a = table[Int(input[i])], b = table[Int(input[i + 1])], c = table[Int(input[i + 2])]
                    if (a | b | c) & 0xC0 != 0 || c & 0x03 != 0 { valid = false; return }
                    out[o] = a << 2 | b >> 4
                    out[o + 1] = (b & 0x0F) << 4 | c >> 2
                default:
                    break
                }
            }
            initialized = valid ? length : 0
        }
        return valid ? result : nil
    }

    public static func decode(_ string: String) -> [UInt8]? {
        decode(Array(string.utf8))
    }
}

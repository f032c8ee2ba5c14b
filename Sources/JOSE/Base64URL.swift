/// Base64url without padding (RFC 7515 2), over bytes, because every token Baton issues and reads is
/// built from it and Foundation's string-based base64 costs more than the signature on the hot path.
public enum Base64URL {
    private static let alphabet: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    private static let decodeTable = DecodeTable(alphabet: alphabet)

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

    public static func isAlphabet(_ byte: UInt8) -> Bool { decodeTable.contains(byte) }

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
        decodeTable.decode(input)
    }

    /// Decodes `input` into scratch space and hands the bytes to `body`, without an array: for parts
    /// that are read once and dropped (a token's header and claims). Nil when `input` is not valid.
    static func withDecoded<Result, Failure: Error>(
        _ input: ArraySlice<UInt8>, _ body: (UnsafeBufferPointer<UInt8>) throws(Failure) -> Result
    ) throws(Failure) -> Result? {
        guard let length = DecodeTable.decodedLength(input.count) else { return nil }
        return try withUnsafeTemporaryAllocation(of: UInt8.self, capacity: length + DecodeTable.slack) { scratch throws(Failure) -> Result? in
            let decoded = input.withUnsafeBufferPointer { decodeTable.decode($0, into: scratch) }
            guard let decoded else { return nil }
            return try body(UnsafeBufferPointer(rebasing: scratch[..<decoded]))
        }
    }

    public static func decode(_ string: String) -> [UInt8]? {
        decode(Array(string.utf8))
    }
}

/// One alphabet's decoding table: for each byte, its six bits already shifted into place for each of
/// the four positions of a group, so that a group of four characters is four loads and three ORs, and
/// its three bytes one store. A byte outside the alphabet maps to 0xFF00_0000 in every position: any
/// such byte sets bits a valid group never does, and one test after the loop finds it.
struct DecodeTable: Sendable {
    /// 4 × 256 entries, one block per position in the group (shifts 18, 12, 6, 0).
    private let entries: [UInt32]

    private static let invalid: UInt32 = 0xFF00_0000

    /// Extra bytes `decode(_:into:)` needs beyond the decoded length: a group's three bytes are written
    /// as one four-byte store, whose last byte the next group overwrites.
    static let slack = 1

    init(alphabet: [UInt8]) {
        var entries = [UInt32](repeating: Self.invalid, count: 1024)
        for (value, byte) in alphabet.enumerated() {
            for position in 0..<4 {
                entries[position * 256 + Int(byte)] = UInt32(value) << UInt32(18 - 6 * position)
            }
        }
        self.entries = entries
    }

    func contains(_ byte: UInt8) -> Bool { entries[Int(byte)] != Self.invalid }

    /// The decoded length of `count` characters; nil for a length no unpadded encoding has.
    static func decodedLength(_ count: Int) -> Int? {
        let rest = count % 4
        return rest == 1 ? nil : count / 4 * 3 + (rest == 0 ? 0 : rest - 1)
    }

    func decode(_ input: UnsafeBufferPointer<UInt8>) -> [UInt8]? {
        guard let length = Self.decodedLength(input.count) else { return nil }
        var valid = true
        let bytes = ByteArray.build(capacity: length + Self.slack) { out -> Int in
            guard let written = decode(input, into: out) else { valid = false; return 0 }
            return written
        }
        return valid ? bytes : nil
    }

    /// Decodes into `out`, which must hold `decodedLength(input.count)! + slack` bytes; returns the
    /// decoded length, or nil when a byte is outside the alphabet or a final character has bits set
    /// that no byte uses.
    func decode(_ input: UnsafeBufferPointer<UInt8>, into out: UnsafeMutableBufferPointer<UInt8>) -> Int? {
        guard let length = Self.decodedLength(input.count) else { return nil }
        precondition(out.count >= length + Self.slack, "Base64: output buffer too small")
        guard length > 0 else { return 0 }
        return entries.withUnsafeBufferPointer { entries -> Int? in
            // Pointers, not buffer subscripts: the indices below stay in range by the arithmetic above
            // (groups * 4 <= count; every store ends before length + slack), and a byte plus a block
            // offset indexes a 1024-entry table.
            let table = entries.baseAddress!, source = input.baseAddress!
            let target = UnsafeMutableRawPointer(out.baseAddress!)
            let groups = input.count / 4
            var i = 0
            var o = 0
            var seen: UInt32 = 0
            for _ in 0..<groups {
                let value = table[Int(source[i])] | table[256 + Int(source[i + 1])]
                    | table[512 + Int(source[i + 2])] | table[768 + Int(source[i + 3])]
                seen |= value
                target.storeBytes(of: (value << 8).bigEndian, toByteOffset: o, as: UInt32.self)
                i += 4
                o += 3
            }
            switch input.count - i {
            case 2:
                let value = table[Int(source[i])] | table[256 + Int(source[i + 1])]
                // The second character's low four bits fall outside the one byte it completes.
                seen |= value & 0x0000_F000 == 0 ? value : Self.invalid
                target.storeBytes(of: UInt8(truncatingIfNeeded: value >> 16), toByteOffset: o, as: UInt8.self)
            case 3:
                let value = table[Int(source[i])] | table[256 + Int(source[i + 1])] | table[512 + Int(source[i + 2])]
                // The third character's low two bits fall outside the two bytes it completes.
                seen |= value & 0x0000_00C0 == 0 ? value : Self.invalid
                target.storeBytes(of: UInt8(truncatingIfNeeded: value >> 16), toByteOffset: o, as: UInt8.self)
                target.storeBytes(of: UInt8(truncatingIfNeeded: value >> 8), toByteOffset: o + 1, as: UInt8.self)
            default:
                break
            }
            // Tested once after the loop, not per group: the loop runs without a branch, and an invalid
            // token is rare enough that decoding the rest of it costs nothing that matters.
            return seen & Self.invalid == 0 ? length : nil
        }
    }
}

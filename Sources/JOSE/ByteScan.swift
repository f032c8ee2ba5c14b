/// Word-at-a-time search over bytes. Tokens and the form bodies carrying them are hundreds of bytes of
/// base64url in which the bytes a parser looks for (`.`, `&`, `=`, `%`, `+`, anything non-ASCII) are
/// rare, so testing eight bytes per step skips most of the input without a per-byte branch.
public enum ByteScan {
    // Inlinable: a call per eight bytes from another module would cost more than the test itself.
    @usableFromInline static var ones: UInt64 { 0x0101_0101_0101_0101 }
    @usableFromInline static var highBits: UInt64 { 0x8080_8080_8080_8080 }

    /// Non-zero when some byte of `word` is zero. Exact as a yes/no answer: a borrow can only mark a byte
    /// above one that really is zero.
    @inlinable @inline(__always)
    static func zeroByteBits(_ word: UInt64) -> UInt64 {
        (word &- ones) & ~word & highBits
    }

    /// Whether some byte of `word` equals `byte`.
    @inlinable @inline(__always)
    public static func has(_ byte: UInt8, in word: UInt64) -> Bool {
        zeroByteBits(word ^ (ones &* UInt64(byte))) != 0
    }

    /// Whether some byte of `word` is below `bound`, which must be at most 0x80. Exact as a yes/no
    /// answer, like `zeroByteBits`.
    @inlinable @inline(__always)
    public static func hasByte(below bound: UInt8, in word: UInt64) -> Bool {
        (word &- ones &* UInt64(bound)) & ~word & highBits != 0
    }

    /// Whether some byte of `word` is 0x80 or above.
    @inlinable @inline(__always)
    public static func hasNonASCII(_ word: UInt64) -> Bool {
        word & highBits != 0
    }

    /// The eight bytes at `offset` as one word. Byte order does not matter: every test above asks whether
    /// any of the eight matches, not which. Callers check `offset + 8 <= buffer.count` first.
    @inlinable @inline(__always)
    public static func word(_ buffer: UnsafeBufferPointer<UInt8>, at offset: Int) -> UInt64 {
        assert(offset >= 0 && offset + 8 <= buffer.count, "ByteScan.word: eight bytes at \(offset) are outside the buffer")
        return UnsafeRawPointer(buffer.baseAddress!).loadUnaligned(fromByteOffset: offset, as: UInt64.self)
    }

    /// The first index at or after `start` holding `byte`, or `buffer.count`.
    @inlinable
    public static func firstIndex(of byte: UInt8, in buffer: UnsafeBufferPointer<UInt8>, from start: Int) -> Int {
        var index = start
        while index + 8 <= buffer.count, !has(byte, in: word(buffer, at: index)) { index += 8 }
        while index < buffer.count, buffer[index] != byte { index += 1 }
        return index
    }
}

/// Case-insensitive ASCII comparisons over bytes, for protocol tokens (header names, media types, auth
/// schemes), without building lower-cased copies on every request.
enum ASCII {
    static func lowercased(_ byte: UInt8) -> UInt8 {
        (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) ? byte | 0x20 : byte
    }

    /// Whether `bytes` equal `lowercase` (given in lower case) ignoring the case of ASCII letters.
    static func equalsIgnoringCase(_ bytes: some Collection<UInt8>, _ lowercase: StaticString) -> Bool {
        guard bytes.count == lowercase.utf8CodeUnitCount else { return false }
        var expected = lowercase.utf8Start
        for byte in bytes {
            guard lowercased(byte) == expected.pointee else { return false }
            expected += 1
        }
        return true
    }

    /// A string from bytes that must be UTF-8. Pure ASCII, the common case in protocol messages, skips
    /// the general validator.
    static func string(validatingUTF8 bytes: some Collection<UInt8>) -> String? {
        if bytes.allSatisfy({ $0 < 0x80 }) { return String(decoding: bytes, as: UTF8.self) }
        return String(validating: bytes, as: UTF8.self)
    }

    static func hasUppercase(_ text: String) -> Bool {
        text.utf8.contains { (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains($0) }
    }
}

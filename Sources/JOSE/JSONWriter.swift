/// Writes compact JSON straight into a byte buffer. Token claims and responses are built with it on the
/// hot path: no intermediate dictionaries, no `Encodable` machinery, one growing array.
public struct JSONWriter {
    public private(set) var bytes: [UInt8]
    /// Per open container, whether the next item needs a comma: bit d for depth d, as a stack without
    /// a heap allocation (`deep` holds levels past 64, which Baton never writes).
    private var commaBits: UInt64 = 0
    private var depth = 0
    private var deep: [Bool] = []

    public init(capacity: Int = 256) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    public mutating func beginObject() {
        separate()
        bytes.append(UInt8(ascii: "{"))
        push()
    }

    public mutating func endObject() {
        pop()
        bytes.append(UInt8(ascii: "}"))
    }

    public mutating func beginArray() {
        separate()
        bytes.append(UInt8(ascii: "["))
        push()
    }

    public mutating func endArray() {
        pop()
        bytes.append(UInt8(ascii: "]"))
    }

    private mutating func push() {
        if depth < 64 { commaBits &= ~(1 << UInt64(depth)) } else { deep.append(false) }
        depth += 1
    }

    private mutating func pop() {
        precondition(depth > 0, "JSONWriter: unbalanced end")
        depth -= 1
        if depth >= 64 { deep.removeLast() }
    }

    /// Whether the innermost open container needs a comma before its next item.
    private var needsComma: Bool {
        get { depth > 64 ? deep[deep.count - 1] : commaBits & (1 << UInt64(depth - 1)) != 0 }
        set {
            if depth > 64 {
                deep[deep.count - 1] = newValue
            } else if newValue {
                commaBits |= 1 << UInt64(depth - 1)
            } else {
                commaBits &= ~(1 << UInt64(depth - 1))
            }
        }
    }

    /// Writes a member name; the next value written is its value.
    public mutating func key(_ name: String) {
        separate()
        Self.appendQuoted(name, to: &bytes)
        bytes.append(UInt8(ascii: ":"))
        if depth > 0 { needsComma = false }
    }

    public mutating func string(_ value: String) {
        separate()
        Self.appendQuoted(value, to: &bytes)
    }

    public mutating func int(_ value: Int64) {
        separate()
        Self.appendInteger(value, to: &bytes)
    }

    public mutating func int(_ value: Int) { int(Int64(value)) }

    public mutating func bool(_ value: Bool) {
        separate()
        if value {
            bytes.append(contentsOf: [0x74, 0x72, 0x75, 0x65])
        } else {
            bytes.append(contentsOf: [0x66, 0x61, 0x6C, 0x73, 0x65])
        }
    }

    public mutating func null() {
        separate()
        bytes.append(contentsOf: [0x6E, 0x75, 0x6C, 0x6C])
    }

    public mutating func value(_ value: JSONValue) {
        switch value {
        case .null: null()
        case .bool(let flag): bool(flag)
        case .string(let text): string(text)
        case .number(let number):
            separate()
            Self.appendNumber(number, to: &bytes)
        case .array(let items):
            beginArray()
            for item in items { self.value(item) }
            endArray()
        case .object(let object):
            beginObject()
            for member in object.members {
                key(member.name)
                self.value(member.value)
            }
            endObject()
        }
    }

    // Convenience members.
    public mutating func member(_ name: String, _ value: String) { key(name); string(value) }
    public mutating func member(_ name: String, _ value: Int64) { key(name); int(value) }
    public mutating func member(_ name: String, _ value: Int) { key(name); int(Int64(value)) }
    public mutating func member(_ name: String, _ value: JSONValue) { key(name); self.value(value) }
    public mutating func member(_ name: String, strings: [String]) {
        key(name)
        beginArray()
        for item in strings { string(item) }
        endArray()
    }

    /// A compact JWS this process signed, as a string member. Its bytes are base64url and dots, which
    /// JSON never escapes, so they are copied without the scan `string(_:)` makes. Package-only: given
    /// anything else it would write unescaped bytes, so only Baton's own modules may call it, with the
    /// output of `SigningKey.signCompact`.
    package mutating func member(_ name: String, compactJWS token: [UInt8]) {
        assert(token.allSatisfy { $0 == UInt8(ascii: ".") || Base64URL.isAlphabet($0) }, "not a compact JWS")
        key(name)
        separate()
        bytes.append(UInt8(ascii: "\""))
        bytes.append(contentsOf: token)
        bytes.append(UInt8(ascii: "\""))
    }

    private mutating func separate() {
        guard depth > 0 else { return }
        if needsComma {
            bytes.append(UInt8(ascii: ","))
        } else {
            needsComma = true
        }
    }

    private static let hex: [UInt8] = Array("0123456789abcdef".utf8)

    public static func appendQuoted(_ string: String, to bytes: inout [UInt8]) {
        bytes.append(UInt8(ascii: "\""))
        // Tokens, URLs and identifiers need no escaping: copy them in one go.
        let copied = string.utf8.withContiguousStorageIfAvailable { utf8 -> Bool in
            for byte in utf8 where byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") { return false }
            bytes.append(contentsOf: utf8)
            return true
        }
        if copied == true {
            bytes.append(UInt8(ascii: "\""))
            return
        }
        for byte in string.utf8 {
            switch byte {
            case UInt8(ascii: "\""): bytes.append(0x5C); bytes.append(0x22)
            case UInt8(ascii: "\\"): bytes.append(0x5C); bytes.append(0x5C)
            case 0x0A: bytes.append(0x5C); bytes.append(UInt8(ascii: "n"))
            case 0x0D: bytes.append(0x5C); bytes.append(UInt8(ascii: "r"))
            case 0x09: bytes.append(0x5C); bytes.append(UInt8(ascii: "t"))
            case 0..<0x20:
                bytes.append(contentsOf: Array("\\u00".utf8))
                bytes.append(hex[Int(byte >> 4)])
                bytes.append(hex[Int(byte & 0x0F)])
            default: bytes.append(byte)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }

    public static func appendInteger(_ value: Int64, to bytes: inout [UInt8]) {
        if value == 0 { bytes.append(UInt8(ascii: "0")); return }
        var magnitude = value.magnitude
        if value < 0 { bytes.append(UInt8(ascii: "-")) }
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                     UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var count = 0
        withUnsafeMutableBytes(of: &digits) { buffer in
            while magnitude > 0 {
                buffer[count] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
                count += 1
            }
            for position in stride(from: count - 1, through: 0, by: -1) { bytes.append(buffer[position]) }
        }
    }

    static func appendNumber(_ value: Double, to bytes: inout [UInt8]) {
        if value.rounded() == value, abs(value) < 9_007_199_254_740_992 {
            appendInteger(Int64(value), to: &bytes)
        } else {
            bytes.append(contentsOf: Array(String(value).utf8))
        }
    }
}

/// Writes compact JSON straight into a byte buffer. Token claims and responses are built with it on the
/// hot path: no intermediate dictionaries, no `Encodable` machinery, one growing array.
public struct JSONWriter {
    public private(set) var bytes: [UInt8]
    /// Whether the innermost open container holds an item already, so that the next needs a comma.
    /// Only the innermost container needs the flag: once a nested container closes, the one around it
    /// holds at least that item, so its flag is true again whatever it was before.
    private var hasItem = false
    private var depth = 0

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
        hasItem = false
        depth += 1
    }

    private mutating func pop() {
        precondition(depth > 0, "JSONWriter: unbalanced end")
        depth -= 1
        hasItem = true
    }

    /// Writes a member name known when Baton was compiled; the next value written is its value.
    /// Such names never need escaping, so their bytes are copied as they are.
    public mutating func key(_ name: StaticString) {
        separate()
        bytes.append(UInt8(ascii: "\""))
        // `withUTF8Buffer`, not `utf8Start`: a one-character literal may be stored as a scalar.
        name.withUTF8Buffer { utf8 in
            assert(utf8.allSatisfy { $0 >= 0x20 && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "\\") },
                   "JSONWriter: a literal member name that needs escaping")
            // Byte by byte: member names are a few bytes long, and a bulk append costs a call per name.
            for byte in utf8 { bytes.append(byte) }
        }
        bytes.append(UInt8(ascii: "\""))
        bytes.append(UInt8(ascii: ":"))
        hasItem = false
    }

    /// Writes a member name that comes from data (configuration, a token's claims), escaped as needed.
    public mutating func key(named name: String) {
        separate()
        Self.appendQuoted(name, to: &bytes)
        bytes.append(UInt8(ascii: ":"))
        hasItem = false
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
                key(named: member.name)
                self.value(member.value)
            }
            endObject()
        }
    }

    // Convenience members: literal names, then names from data.
    public mutating func member(_ name: StaticString, _ value: String) { key(name); string(value) }
    public mutating func member(_ name: StaticString, _ value: Int64) { key(name); int(value) }
    public mutating func member(_ name: StaticString, _ value: Int) { key(name); int(Int64(value)) }
    public mutating func member(_ name: StaticString, _ value: JSONValue) { key(name); self.value(value) }
    public mutating func member(_ name: StaticString, strings: [String]) {
        key(name)
        beginArray()
        for item in strings { string(item) }
        endArray()
    }

    /// `items` joined by single spaces as one string value (`scope`), without building the joined
    /// String first.
    public mutating func member(_ name: StaticString, spaceSeparated items: [String]) {
        key(name)
        separate()
        bytes.append(UInt8(ascii: "\""))
        for (index, item) in items.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: " ")) }
            Self.appendEscaped(item, to: &bytes)
        }
        bytes.append(UInt8(ascii: "\""))
    }

    public mutating func member(named name: String, _ value: String) { key(named: name); string(value) }
    public mutating func member(named name: String, _ value: JSONValue) { key(named: name); self.value(value) }

    /// A compact JWS this process signed, as a string member. Its bytes are base64url and dots, which
    /// JSON never escapes, so they are copied without the scan `string(_:)` makes. Package-only: given
    /// anything else it would write unescaped bytes, so only Baton's own modules may call it, with the
    /// output of `SigningKey.signCompact`.
    package mutating func member(_ name: StaticString, compactJWS token: [UInt8]) {
        assert(token.allSatisfy { $0 == UInt8(ascii: ".") || Base64URL.isAlphabet($0) }, "not a compact JWS")
        key(name)
        separate()
        bytes.append(UInt8(ascii: "\""))
        bytes.append(contentsOf: token)
        bytes.append(UInt8(ascii: "\""))
    }

    /// A comma before every item of a container but its first; nothing at the top level, which holds
    /// one value. A member's value follows its name without one: `key` clears `hasItem` for it.
    private mutating func separate() {
        guard depth > 0 else { return }
        if hasItem {
            bytes.append(UInt8(ascii: ","))
        } else {
            hasItem = true
        }
    }

    private static let hex: [UInt8] = Array("0123456789abcdef".utf8)

    public static func appendQuoted(_ string: String, to bytes: inout [UInt8]) {
        bytes.append(UInt8(ascii: "\""))
        appendEscaped(string, to: &bytes)
        bytes.append(UInt8(ascii: "\""))
    }

    /// A string's content, escaped, without the quotes around it.
    static func appendEscaped(_ string: String, to bytes: inout [UInt8]) {
        // Tokens, URLs and identifiers need no escaping: copy them in one go.
        let copied = string.utf8.withContiguousStorageIfAvailable { utf8 -> Bool in
            for byte in utf8 where byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") { return false }
            bytes.append(contentsOf: utf8)
            return true
        }
        if copied == true { return }
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
    }

    public static func appendInteger(_ value: Int64, to bytes: inout [UInt8]) {
        if value == 0 { bytes.append(UInt8(ascii: "0")); return }
        var magnitude = value.magnitude
        if value < 0 { bytes.append(UInt8(ascii: "-")) }
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                     UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        // Digits from the back of the scratch space forward, then one append: a timestamp is ten
        // digits, and ten single-byte appends cost twice the conversion.
        withUnsafeMutableBytes(of: &digits) { buffer in
            var start = buffer.count
            while magnitude > 0 {
                start -= 1
                buffer[start] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
            }
            bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: buffer[start...]))
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

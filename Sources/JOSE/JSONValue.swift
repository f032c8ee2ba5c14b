/// A parsed JSON document. Baton parses JOSE headers, claims, JWKS and its own configuration with one
/// strict parser so that every input obeys the same rules: duplicate member names are rejected
/// (RFC 7519 4, RFC 8259 4 leaves them undefined; first-wins decoders let an attacker hide a claim),
/// nesting and size are bounded, and numbers keep their integer-ness visible to the caller.
public enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object(JSONObject)

    public var stringValue: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    public var objectValue: JSONObject? {
        if case .object(let value) = self { return value }
        return nil
    }

    public var arrayValue: [JSONValue]? {
        if case .array(let value) = self { return value }
        return nil
    }

    public var numberValue: Double? {
        if case .number(let value) = self { return value }
        return nil
    }

    public var boolValue: Bool? {
        if case .bool(let value) = self { return value }
        return nil
    }

    /// The JSON type name, for error messages ("expected a string, found a number").
    public var typeName: String {
        switch self {
        case .null: "null"
        case .bool: "a boolean"
        case .number: "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }
}

/// A JSON object that keeps its members in document order. Objects in tokens and configuration are
/// small, so a linear lookup beats hashing and keeps the original order for re-serialisation.
public struct JSONObject: Sendable, Equatable {
    public struct Member: Sendable, Equatable {
        public var name: String { didSet { nameKey = NameKey(name) } }
        public var value: JSONValue
        /// Derived from `name`; compared before the name itself.
        private(set) var nameKey: NameKey

        public init(name: String, value: JSONValue) {
            self.name = name
            self.value = value
            self.nameKey = NameKey(name)
        }

        init(name: String, nameKey: NameKey, value: JSONValue) {
            self.name = name
            self.value = value
            self.nameKey = nameKey
        }
    }

    public var members: [Member]

    public init(members: [Member] = []) {
        self.members = members
    }

    public subscript(name: String) -> JSONValue? {
        let key = NameKey(name)
        for member in members where member.nameKey == key && (key.isWholeName || Self.sameName(member.name, name)) {
            return member.value
        }
        return nil
    }

    /// Whether a member of this name is present (the duplicate check of the parser).
    func contains(name: String, key: NameKey) -> Bool {
        for member in members where member.nameKey == key && (key.isWholeName || Self.sameName(member.name, name)) {
            return true
        }
        return false
    }

    /// RFC 8259 compares member names by code points, not by Unicode canonical equivalence as `==` on
    /// String does. Lengths first: most names differ there, and the byte walk is the slow part.
    static func sameName(_ a: String, _ b: String) -> Bool {
        guard a.utf8.count == b.utf8.count else { return false }
        // Native strings hand out their UTF-8 directly; the generic view walk is several times slower.
        let compared = a.utf8.withContiguousStorageIfAvailable { x in
            b.utf8.withContiguousStorageIfAvailable { y in
                for index in 0..<x.count where x[index] != y[index] { return false }
                return true
            }
        }
        if let compared, let result = compared { return result }
        return a.utf8.elementsEqual(b.utf8)
    }

    public var names: [String] { members.map(\.name) }

    public var isEmpty: Bool { members.isEmpty }
}

/// A member name's length and first seven UTF-8 bytes in one word. Claim and header lookups compare
/// words instead of strings: most names differ in length or within their first bytes, and a name of
/// up to seven bytes (iss, sub, aud, exp, alg, kid, scope) is identified by its word alone. Equal
/// words of longer names still compare the names in full.
struct NameKey: Equatable, Sendable {
    let word: UInt64

    init(_ name: String) {
        var name = name
        word = name.withUTF8 { Self.word(UnsafeRawBufferPointer($0)) }
    }

    init(utf8 name: UnsafeRawBufferPointer) {
        word = Self.word(name)
    }

    /// Short names nearly every JOSE header or claim set uses. The parser returns these literals for
    /// them instead of making a string of each occurrence.
    private static let literalNames = [
        "iss", "sub", "aud", "exp", "iat", "jti", "alg", "typ", "kid", "nbf", "scope", "email", "act", "may_act",
        "cnf", "azp", "sid", "nonce", "crit", "enc", "zip", "b64", "cty", "jku", "jwk", "x5u", "x5c",
    ]

    /// `literalNames` in an open-addressed table of 64 slots, indexed by a multiplicative hash of the
    /// word: a lookup is one or two word compares instead of a walk through the list (every name the
    /// parser meets is looked up, and most are not in it).
    private static let literalSlots: [(key: NameKey, name: String)?] = {
        var slots = [(key: NameKey, name: String)?](repeating: nil, count: 64)
        for name in literalNames {
            let key = NameKey(name)
            var slot = key.slot
            while slots[slot] != nil { slot = (slot + 1) & 63 }
            slots[slot] = (key, name)
        }
        return slots
    }()

    private var slot: Int { Int(truncatingIfNeeded: (word &* 0x9E37_79B9_7F4A_7C15) >> 58) }

    /// The literal with this key, if it is one of `literalNames`; only whole-name keys (up to seven
    /// bytes) can match, so a match is the same name.
    static func literal(for key: NameKey) -> String? {
        guard key.isWholeName else { return nil }
        return literalSlots.withUnsafeBufferPointer { slots in
            // Fewer than half the slots are used, so a probe always reaches an empty one.
            var slot = key.slot
            while let entry = slots[slot] {
                if entry.key == key { return entry.name }
                slot = (slot + 1) & 63
            }
            return nil
        }
    }

    private static func word(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        var word = UInt64(min(bytes.count, 255)) << 56
        for index in 0..<min(bytes.count, 7) { word |= UInt64(bytes[index]) << (UInt64(index) * 8) }
        return word
    }

    /// The word holds the whole name: equal words mean equal names.
    var isWholeName: Bool { word >> 56 <= 7 }
}

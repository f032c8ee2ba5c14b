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
        public var name: String
        public var value: JSONValue
        public init(name: String, value: JSONValue) {
            self.name = name
            self.value = value
        }
    }

    public var members: [Member]

    public init(members: [Member] = []) {
        self.members = members
    }

    public subscript(name: String) -> JSONValue? {
        for member in members where Self.sameName(member.name, name) { return member.value }
        return nil
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

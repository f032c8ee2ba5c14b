import JOSE

/// An `application/x-www-form-urlencoded` body (RFC 6749 appendix B), parsed once.
public struct FormParameters: Sendable {
    private var pairs: [(name: String, value: String)]

    /// Parameters that RFC 8693 lets a client repeat; every other repeated name is `invalid_request`.
    static let repeatable: Set<String> = ["audience", "resource"]

    public init(parsing body: [UInt8]) throws(OAuthError) {
        pairs = []
        pairs.reserveCapacity(8)
        // Names seen so far: the list itself while it is short, a set once a body carries many parameters.
        var seenNames: Set<String>?
        var start = body.startIndex
        while start < body.endIndex {
            let end = body[start...].firstIndex(of: UInt8(ascii: "&")) ?? body.endIndex
            let part = body[start..<end]
            start = end + 1
            if part.isEmpty { continue }
            let name: String
            let value: String
            if let equals = part.firstIndex(of: UInt8(ascii: "=")) {
                name = try Self.decodeComponent(part[part.startIndex..<equals])
                value = try Self.decodeComponent(part[(equals + 1)...])
            } else {
                name = try Self.decodeComponent(part)
                value = ""
            }
            // RFC 6749 3.2: a parameter sent without a value is treated as omitted.
            guard !name.isEmpty, !value.isEmpty else { continue }
            let repeated: Bool
            if seenNames == nil, pairs.count < Self.linearSearchLimit {
                repeated = pairs.contains { $0.name == name }
            } else {
                if seenNames == nil { seenNames = Set(pairs.map(\.name)) }
                repeated = !seenNames!.insert(name).inserted
            }
            if repeated, !Self.repeatable.contains(name) {
                throw .invalidRequest("parameter \"\(CompactJWS.printable(name))\" is repeated")
            }
            pairs.append((name, value))
        }
    }

    private static let linearSearchLimit = 16

    /// The value of a parameter that may appear once.
    public subscript(name: String) -> String? {
        pairs.first { $0.name == name }?.value
    }

    /// Every value of a repeatable parameter, in order.
    public func values(_ name: String) -> [String] {
        pairs.compactMap { $0.name == name ? $0.value : nil }
    }

    public func contains(_ name: String) -> Bool { self[name] != nil }

    /// One form-encoded name or value: `+` is a space, `%XX` a byte, and the result must be UTF-8.
    static func decodeComponent(_ bytes: ArraySlice<UInt8>) throws(OAuthError) -> String {
        // One pass decides the common case: nothing escaped and plain ASCII needs no copy and no validator.
        let classes = classes(of: bytes)
        if classes & escapedClass == 0 {
            if classes & nonASCIIClass == 0 { return interned(bytes) ?? String(decoding: bytes, as: UTF8.self) }
            guard let string = String(validating: bytes, as: UTF8.self) else {
                throw .invalidRequest("the request body is not valid UTF-8")
            }
            return string
        }
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count)
        var index = bytes.startIndex
        while index < bytes.endIndex {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "+"):
                output.append(UInt8(ascii: " "))
                index += 1
            case UInt8(ascii: "%"):
                guard index + 2 < bytes.endIndex,
                      let high = hexValue(bytes[index + 1]), let low = hexValue(bytes[index + 2]) else {
                    throw .invalidRequest("the request body has a malformed percent-escape")
                }
                output.append(high << 4 | low)
                index += 3
            default:
                output.append(byte)
                index += 1
            }
        }
        if let known = interned(output[...]) { return known }
        guard let string = ASCII.string(validatingUTF8: output[...]) else {
            throw .invalidRequest("the request body is not valid UTF-8")
        }
        return string
    }

    /// Whether a component is plain ASCII without `+` or `%` escapes, so its bytes are already its
    /// decoded UTF-8 and `decodeComponent` would only copy them.
    static func isPlainASCII(_ bytes: ArraySlice<UInt8>) -> Bool {
        classes(of: bytes) == 0
    }

    /// The union of `byteClasses` over `bytes`.
    private static func classes(of bytes: ArraySlice<UInt8>) -> UInt8 {
        bytes.withUnsafeBufferPointer { buffer in
            byteClasses.withUnsafeBufferPointer { table in
                var classes: UInt8 = 0
                for byte in buffer { classes |= table[Int(byte)] }
                return classes
            }
        }
    }

    /// Values nearly every request carries and that are too long for Swift's inline small strings:
    /// returned as the program's own literals instead of a fresh heap string each time.
    private static let internedValues: [String] = [
        GrantType.clientCredentials.rawValue, GrantType.jwtBearer.rawValue, GrantType.tokenExchange.rawValue,
        TokenTypeURI.accessToken, TokenTypeURI.idToken, TokenTypeURI.jwt,
        PrivateKeyJWT.assertionType,
    ]

    private static func interned(_ bytes: ArraySlice<UInt8>) -> String? {
        guard bytes.count > 15 else { return nil }
        for value in internedValues where value.utf8.count == bytes.count && value.utf8.elementsEqual(bytes) { return value }
        return nil
    }

    private static let escapedClass: UInt8 = 1
    private static let nonASCIIClass: UInt8 = 2
    /// Per byte: whether it needs decoding (`+`, `%`) or UTF-8 validation (non-ASCII). A table lookup
    /// per byte, no branches: assertions and subject tokens are hundreds of bytes long.
    private static let byteClasses: [UInt8] = (0...255).map { byte in
        if byte == Int(UInt8(ascii: "+")) || byte == Int(UInt8(ascii: "%")) { return escapedClass }
        return byte >= 0x80 ? nonASCIIClass : 0
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}

import JOSE

/// An `application/x-www-form-urlencoded` body (RFC 6749 appendix B), parsed once.
public struct FormParameters: Sendable {
    /// A value as it was sent when that is already its decoded form (plain ASCII, no escapes) and too
    /// long for a small string: tokens stay bytes in the body until a grant reads them as bytes.
    private enum Value {
        case text(String)
        case body(Range<Int>)
    }

    private let body: [UInt8]
    private var pairs: [(name: String, value: Value)]

    /// Parameters that RFC 8693 lets a client repeat; every other repeated name is `invalid_request`.
    static let repeatable: Set<String> = ["audience", "resource"]

    public init(parsing body: [UInt8]) throws(OAuthError) {
        self.body = body
        pairs = []
        pairs.reserveCapacity(8)
        // Names seen so far: the list itself while it is short, a set once a body carries many parameters.
        var seenNames: Set<String>?
        var start = body.startIndex
        while start < body.endIndex {
            // One walk over the pair finds its end and its `=` and classifies both halves, so that
            // neither half is scanned again before it becomes a string (assertions are long).
            let split = Self.scanPair(body, from: start)
            let part = start..<split.end
            start = split.end + 1
            if part.isEmpty { continue }
            let name: String
            let value: Value
            if let equals = split.equals {
                name = try Self.decodeComponent(body[part.lowerBound..<equals], classes: split.nameClasses)
                let valueRange = (equals + 1)..<part.upperBound
                // RFC 6749 3.2: a parameter sent without a value is treated as omitted.
                if valueRange.isEmpty { continue }
                if valueRange.count > Self.smallStringLimit, split.valueClasses & (Self.escapedClass | Self.nonASCIIClass) == 0,
                   Self.interned(body[valueRange]) == nil {
                    value = .body(valueRange)
                } else {
                    value = .text(try Self.decodeComponent(body[valueRange], classes: split.valueClasses))
                }
            } else {
                // Still decoded: a malformed name is refused whether or not it carries a value.
                _ = try Self.decodeComponent(body[part], classes: split.nameClasses)
                continue
            }
            guard !name.isEmpty else { continue }
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

    /// Where the pair starting at `start` ends (its `&` or the end of the body), its first `=`, and the
    /// byte classes of the name and value on either side of it.
    private static func scanPair(
        _ body: [UInt8], from start: Int
    ) -> (end: Int, equals: Int?, nameClasses: UInt8, valueClasses: UInt8) {
        body.withUnsafeBufferPointer { buffer in
            byteClasses.withUnsafeBufferPointer { table in
                var index = start
                var equals: Int?
                var nameClasses: UInt8 = 0
                var classes: UInt8 = 0
                while index < buffer.count {
                    // Eight ordinary bytes (class 0) at a time; from a word holding anything else, one byte
                    // goes through the table and the test starts again at the next.
                    if index + 8 <= buffer.count, !Self.mayClassify(ByteScan.word(buffer, at: index)) {
                        index += 8
                        continue
                    }
                    let byteClass = table[Int(buffer[index])]
                    if byteClass & separatorClass != 0 {
                        if buffer[index] == UInt8(ascii: "&") { break }
                        // Only the first `=` splits; later ones belong to the value.
                        if equals == nil {
                            equals = index
                            nameClasses = classes
                            classes = 0
                        }
                    } else {
                        classes |= byteClass
                    }
                    index += 1
                }
                return equals == nil ? (index, nil, classes, 0) : (index, equals, nameClasses, classes)
            }
        }
    }

    private static let linearSearchLimit = 16

    /// The value of a parameter that may appear once.
    public subscript(name: String) -> String? {
        pairs.first { $0.name == name }.map { string($0.value) }
    }

    /// The same value as UTF-8 bytes: for a token, where it lies in the body, with no string made of it.
    public func bytes(_ name: String) -> ArraySlice<UInt8>? {
        guard let pair = pairs.first(where: { $0.name == name }) else { return nil }
        switch pair.value {
        case .text(let text): return Array(text.utf8)[...]
        case .body(let range): return body[range]
        }
    }

    /// Every value of a repeatable parameter, in order.
    public func values(_ name: String) -> [String] {
        pairs.compactMap { $0.name == name ? string($0.value) : nil }
    }

    private func string(_ value: Value) -> String {
        switch value {
        case .text(let text): text
        case .body(let range): String(decoding: body[range], as: UTF8.self)
        }
    }

    /// Longer strings than this are heap-allocated; shorter ones are made as they are parsed.
    private static let smallStringLimit = 15

    public func contains(_ name: String) -> Bool { self[name] != nil }

    /// One form-encoded name or value: `+` is a space, `%XX` a byte, and the result must be UTF-8.
    static func decodeComponent(_ bytes: ArraySlice<UInt8>) throws(OAuthError) -> String {
        try decodeComponent(bytes, classes: classes(of: bytes))
    }

    /// The same, given the union of `byteClasses` over `bytes`, which decides the common case: nothing
    /// escaped and plain ASCII needs no copy and no validator.
    private static func decodeComponent(_ bytes: ArraySlice<UInt8>, classes: UInt8) throws(OAuthError) -> String {
        if classes & escapedClass == 0 {
            if classes & nonASCIIClass == 0 { return interned(bytes) ?? String(decoding: bytes, as: UTF8.self) }
            guard let string = String(validating: bytes, as: UTF8.self) else {
                throw .invalidRequest("the request body is not valid UTF-8")
            }
            return string
        }
        // Decoded on the stack: the result is never longer than its encoding, and a grant-type URI
        // decodes to one of the interned literals without any heap buffer at all.
        let decoded: String?? = withUnsafeTemporaryAllocation(of: UInt8.self, capacity: bytes.count) { output -> String?? in
            var count = 0
            var index = bytes.startIndex
            while index < bytes.endIndex {
                let byte = bytes[index]
                switch byte {
                case UInt8(ascii: "+"):
                    output[count] = UInt8(ascii: " ")
                    index += 1
                case UInt8(ascii: "%"):
                    guard index + 2 < bytes.endIndex,
                          let high = hexValue(bytes[index + 1]), let low = hexValue(bytes[index + 2]) else { return .none }
                    output[count] = high << 4 | low
                    index += 3
                default:
                    output[count] = byte
                    index += 1
                }
                count += 1
            }
            let result = UnsafeBufferPointer(rebasing: output[..<count])
            if let known = interned(result) { return .some(known) }
            return .some(ASCII.string(validatingUTF8: result))
        }
        guard let decoded else { throw .invalidRequest("the request body has a malformed percent-escape") }
        guard let string = decoded else { throw .invalidRequest("the request body is not valid UTF-8") }
        return string
    }

    /// Whether a component is plain ASCII without `+` or `%` escapes, so its bytes are already its
    /// decoded UTF-8 and `decodeComponent` would only copy them.
    static func isPlainASCII(_ bytes: ArraySlice<UInt8>) -> Bool {
        classes(of: bytes) & (escapedClass | nonASCIIClass) == 0
    }

    /// Whether any of the eight bytes in `word` may have a class other than 0: every byte `byteClasses`
    /// classifies must be flagged, or bytes in skipped words would lose their class. Three tests instead
    /// of five: `%`, `&` and `+` are all below `,`, and so is no byte of base64url or of a URL's usual
    /// characters; the few others it flags (space, `!`, `"`, `#`, `$`, `'`, `(`, `)`, `*`) only go
    /// through the table.
    @inline(__always)
    private static func mayClassify(_ word: UInt64) -> Bool {
        ByteScan.hasNonASCII(word) || ByteScan.hasByte(below: UInt8(ascii: ","), in: word) || ByteScan.has(UInt8(ascii: "="), in: word)
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

    /// The literals' bytes, compared where they lie rather than through each string's UTF-8 view.
    private static let internedBytes: [[UInt8]] = internedValues.map { Array($0.utf8) }

    private static func interned(_ bytes: ArraySlice<UInt8>) -> String? {
        bytes.withUnsafeBufferPointer(interned)
    }

    private static func interned(_ bytes: UnsafeBufferPointer<UInt8>) -> String? {
        guard bytes.count > smallStringLimit else { return nil }
        for (index, literal) in internedBytes.enumerated() where literal.count == bytes.count {
            if literal.withUnsafeBufferPointer({ $0.elementsEqual(bytes) }) { return internedValues[index] }
        }
        return nil
    }

    private static let escapedClass: UInt8 = 1
    private static let nonASCIIClass: UInt8 = 2
    private static let separatorClass: UInt8 = 4
    /// Per byte: whether it needs decoding (`+`, `%`), UTF-8 validation (non-ASCII) or ends a name or
    /// pair (`=`, `&`). Consulted only for bytes of words `mayClassify` flags, which must flag all of these.
    private static let byteClasses: [UInt8] = {
        let table: [UInt8] = (0...255).map { byte in
            if byte == Int(UInt8(ascii: "+")) || byte == Int(UInt8(ascii: "%")) { return escapedClass }
            if byte == Int(UInt8(ascii: "=")) || byte == Int(UInt8(ascii: "&")) { return separatorClass }
            return byte >= 0x80 ? nonASCIIClass : 0
        }
        // The word test must flag every byte the table classifies (checked in debug builds, so by the tests).
        assert((0...255).allSatisfy { byte in table[byte] == 0 || mayClassify(0x0101_0101_0101_0101 &* UInt64(byte)) },
               "FormParameters.mayClassify does not flag the bytes byteClasses classifies")
        return table
    }()

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}

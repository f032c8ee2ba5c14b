import JOSE
import Testing

@Suite("JSONParser")
struct JSONParserTests {
    func object(_ members: [(String, JSONValue)]) -> JSONValue {
        .object(JSONObject(members: members.map { .init(name: $0.0, value: $0.1) }))
    }

    func parseError(_ text: String, maxDepth: Int = JSONParser.defaultMaxDepth) -> JSONParseError? {
        do {
            let value = try JSONParser.parse(text, maxDepth: maxDepth)
            Issue.record("accepted \(text.debugDescription) as \(value)")
            return nil
        } catch {
            return error
        }
    }

    func parseError(bytes: [UInt8]) -> JSONParseError? {
        do {
            let value = try JSONParser.parse(bytes)
            Issue.record("accepted \(bytes) as \(value)")
            return nil
        } catch {
            return error
        }
    }

    // MARK: Accepted documents

    @Test("objects keep members in document order; arrays, strings, numbers and literals")
    func structures() throws {
        let value = try JSONParser.parse(#" { "b" : [1, -2.5, 3e2, 0, -0, 1E-2, 12.75e+1], "a": {"t": true, "f": false, "n": null}, "s": "x", "e": {}, "z": [] } "#)
        #expect(value == object([
            ("b", .array([.number(1), .number(-2.5), .number(300), .number(0), .number(0), .number(0.01), .number(127.5)])),
            ("a", object([("t", .bool(true)), ("f", .bool(false)), ("n", .null)])),
            ("s", .string("x")),
            ("e", object([])),
            ("z", .array([])),
        ]))
        #expect(value.objectValue?.names == ["b", "a", "s", "e", "z"])
        #expect(value.objectValue?["a"]?.objectValue?["t"]?.boolValue == true)
        #expect(value.objectValue?["missing"] == nil)
    }

    @Test("scalars at the top level", arguments: [
        ("true", JSONValue.bool(true)), ("false", .bool(false)), ("null", .null), ("\"\"", .string("")),
        ("0", .number(0)), ("-1", .number(-1)), ("123456789", .number(123_456_789)), ("\t\r\n 7 \n", .number(7)),
    ])
    func scalars(_ text: String, _ expected: JSONValue) throws {
        #expect(try JSONParser.parse(text) == expected)
    }

    @Test("escapes: the two-character ones, \\u, and surrogate pairs")
    func escapes() throws {
        let value = try JSONParser.parse(#"["\"\\\/\b\f\n\r\t", "\u0041\u00e9\u20AC", "\ud83d\ude00", "\uD834\uDD1E", "a\u0000b", "plain é 😀"]"#)
        #expect(value == .array([
            .string("\"\\/\u{08}\u{0C}\n\r\t"),
            .string("Aé€"),
            .string("😀"),
            .string("𝄞"),
            .string("a\u{0}b"),
            .string("plain é 😀"),
        ]))
    }

    @Test("member names are compared after unescaping")
    func escapedNames() throws {
        let value = try JSONParser.parse(#"{"\u0073ub": "x"}"#)
        #expect(value.objectValue?["sub"] == .string("x"))
    }

    @Test("nesting up to maxDepth is accepted, one more level is refused")
    func depth() throws {
        let depth = JSONParser.defaultMaxDepth
        let arrays = String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
        _ = try JSONParser.parse(arrays)
        let error = parseError("[" + arrays + "]")
        #expect(error?.message.contains("nesting") == true)

        let objects = String(repeating: "{\"a\":", count: depth) + "1" + String(repeating: "}", count: depth)
        _ = try JSONParser.parse(objects)
        #expect(parseError("{\"a\":" + objects + "}") != nil)

        _ = try JSONParser.parse("[[[1]]]", maxDepth: 3)
        #expect(parseError("[[[[1]]]]", maxDepth: 3) != nil)
        #expect(parseError("{\"a\":{\"b\":{\"c\":{}}}}", maxDepth: 3) != nil)
        // Far beyond any limit: refused without exhausting the stack.
        #expect(parseError(String(repeating: "[", count: 100_000)) != nil)
    }

    // MARK: Refused documents

    @Test("duplicate member names are refused, also when nested or spelled with escapes", arguments: [
        #"{"alg":"RS256","alg":"none"}"#,
        #"{"a":1,"b":2,"a":1}"#,
        #"{"outer":{"sub":"a","sub":"b"}}"#,
        #"[{"x":1},{"y":1,"y":2}]"#,
        #"{"a":{"b":[{"c":1,"c":1}]}}"#,
        #"{"sub":"a","\u0073ub":"b"}"#,
        #"{"":1,"":2}"#,
    ])
    func duplicates(_ text: String) {
        let error = parseError(text)
        #expect(error?.message.contains("duplicate") == true)
    }

    @Test("common member names, taken from the parser's literals, and their near misses parse to the names written")
    func commonNames() throws {
        let names = [
            "iss", "sub", "aud", "exp", "iat", "jti", "alg", "typ", "kid", "nbf", "scope", "email", "act", "may_act", "x5c",
            "is", "isss", "Iss", "may_ac", "may_actor", "scopes", #"\u0069ss"#, #"ema\u0069l"#, "éiss", "iss ",
        ]
        for name in names {
            let object = try #require(try JSONParser.parse(#"{"\#(name)":1,"other":2}"#).objectValue)
            let expected = try #require(try JSONParser.parse(#""\#(name)""#).stringValue)
            #expect(object.names == [expected, "other"], "\(name)")
            #expect(object[expected] == .number(1), "\(name)")
        }
    }

    @Test("the same name in different objects is not a duplicate")
    func sameNameInSiblings() throws {
        let value = try JSONParser.parse(#"{"a":{"x":1},"b":{"x":2},"x":3}"#)
        #expect(value.objectValue?["x"] == .number(3))
    }

    @Test("names that share their first seven bytes are told apart, in lookups and in the duplicate check")
    func namesSharingAPrefix() throws {
        let long = String(repeating: "n", count: 300)
        let longer = String(repeating: "n", count: 400)
        let text = #"{"client_id":1,"client_ip":2,"client_":3,"client":4,"client_id_x":5,"\#(long)":6,"\#(longer)":7}"#
        let object = try #require(try JSONParser.parse(text).objectValue)
        #expect(object["client_id"] == .number(1))
        #expect(object["client_ip"] == .number(2))
        #expect(object["client_"] == .number(3))
        #expect(object["client"] == .number(4))
        #expect(object["client_id_x"] == .number(5))
        #expect(object[long] == .number(6))
        #expect(object[longer] == .number(7))
        #expect(object["client_i"] == nil)
        #expect(object[String(repeating: "n", count: 301)] == nil)
        // Long names that differ only past the seventh byte, or only in length past 255 bytes.
        #expect(parseError(#"{"client_id":1,"client_id":2}"#)?.message.contains("duplicate") == true)
        #expect(parseError(#"{"\#(long)":1,"\#(long)":2}"#)?.message.contains("duplicate") == true)
        #expect(try JSONParser.parse(#"{"\#(long)":1,"\#(longer)":2}"#).objectValue?.members.count == 2)
        // Non-ASCII and escaped spellings of one name are the same name.
        #expect(parseError(#"{"clé_id":1,"cl\u00e9_id":2}"#)?.message.contains("duplicate") == true)
    }

    @Test("renaming a member changes what it is found by")
    func renamedMember() {
        var object = JSONObject(members: [.init(name: "sub", value: .string("a")), .init(name: "audience", value: .string("b"))])
        object.members[0].name = "subject"
        object.members[1].name = "aud"
        #expect(object["sub"] == nil)
        #expect(object["audience"] == nil)
        #expect(object["subject"] == .string("a"))
        #expect(object["aud"] == .string("b"))
    }

    @Test("distinct code point sequences are distinct names (RFC 8259 8.3), even when canonically equivalent")
    func canonicallyEquivalentNamesAreDistinct() throws {
        // "é" as U+00E9 and as "e" + U+0301: different member names, so no duplicate.
        let value = try JSONParser.parse("{\"\u{00E9}\":1,\"e\u{0301}\":2}")
        #expect(value.objectValue?.members.count == 2)
    }

    @Test("lone or malformed surrogates are refused", arguments: [
        #""\ud83d""#, #""\ud83dx""#, #""\ud83d\n""#, #""\ude00""#, #""\ud83d\ud83d""#, #""\ud83d\u0041""#,
        #""a\uDBFF""#, #""\uDC00\uD800""#, #""\ud83d\u""#,
    ])
    func surrogates(_ text: String) {
        #expect(parseError(text) != nil)
    }

    @Test("control characters inside strings are refused, before and after an escape", arguments: Array(0x00...0x1F))
    func controlCharacters(_ code: Int) {
        let control = Character(Unicode.Scalar(UInt8(code)))
        #expect(parseError("\"a\(control)b\"") != nil)
        #expect(parseError("\"\\n\(control)\"") != nil)
        #expect(parseError("{\"k\(control)\":1}") != nil)
    }

    @Test("bad escapes are refused", arguments: [
        #""\x""#, #""\u12""#, #""\u12G4""#, #""\U0041""#, #""\'""#, #""\a""#, #""\"#, #""\u""#, "\"\\\u{0}\"",
    ])
    func badEscapes(_ text: String) {
        #expect(parseError(text) != nil)
    }

    @Test("trailing commas, comments and missing separators are refused", arguments: [
        "[1,]", "{\"a\":1,}", "[,1]", "[1,,2]", "{,}", "{\"a\":1 \"b\":2}", "[1 2]", "{\"a\" 1}", "{\"a\":}", "{a:1}",
        "{'a':1}", "['a']", "// c\n{}", "{} // c", "/* c */ {}", "{/* c */}", "[1 /* c */]", "# c\n{}",
    ])
    func syntax(_ text: String) {
        #expect(parseError(text) != nil)
    }

    @Test("non-JSON numbers are refused", arguments: [
        "NaN", "-NaN", "Infinity", "-Infinity", "inf", "01", "-01", "00", "007", "[01]", "{\"a\":01}", "1.", ".5", "-.5",
        "+1", "1e", "1e+", "1E-", "0x10", "1_000", "-", "--1", "1.e5", "1e5.5", "1e400", "-1e400",
        String(repeating: "1", count: 65),
    ])
    func numbers(_ text: String) {
        #expect(parseError(text) != nil)
    }

    @Test("a number of exactly 64 characters is accepted; wrong literals are refused")
    func literals() throws {
        #expect(try JSONParser.parse(String(repeating: "1", count: 64)).numberValue != nil)
        for text in ["tru", "True", "nul", "NULL", "falsey", "fals", "t", "nil", "undefined"] {
            #expect(parseError(text) != nil, "\(text)")
        }
    }

    @Test("anything after the value is refused", arguments: [
        "{} x", "{}{}", "[] []", "1 2", "\"a\" \"b\"", "null,", "{}\u{0}", "true false", "{}]", "[]}",
    ])
    func trailingGarbage(_ text: String) {
        let error = parseError(text)
        #expect(error != nil)
    }

    @Test("empty and truncated documents are refused", arguments: [
        "", " ", "{", "[", "{\"a\"", "{\"a\":", "{\"a\":1", "[1", "\"abc", "[\"a\\", "{\"a\":[",
    ])
    func truncated(_ text: String) {
        #expect(parseError(text) != nil)
    }

    @Test("invalid UTF-8 is refused, in and out of strings", arguments: [
        [0x22, 0xC3, 0x28, 0x22],               // bad continuation
        [0x22, 0xC0, 0xAF, 0x22],               // overlong '/'
        [0x22, 0xE0, 0x80, 0xAF, 0x22],         // overlong 3-byte
        [0x22, 0xED, 0xA0, 0x80, 0x22],         // UTF-8 encoded surrogate U+D800
        [0x22, 0xF4, 0x90, 0x80, 0x80, 0x22],   // above U+10FFFF
        [0x22, 0xFF, 0x22],
        [0x22, 0xE2, 0x82, 0x22],               // truncated sequence
        [0x22, 0x5C, 0x6E, 0xFF, 0x22],         // after an escape (slow path)
        [0x22, 0x5C, 0x6E, 0xC3, 0x22],
        [0x7B, 0x22, 0x61, 0xC3, 0x22, 0x3A, 0x31, 0x7D], // in a member name
        [0xEF, 0xBB, 0xBF, 0x7B, 0x7D],         // byte order mark
        [0x5B, 0xC3, 0xA9, 0x5D],               // non-ASCII outside a string
    ] as [[UInt8]])
    func invalidUTF8(_ bytes: [UInt8]) {
        #expect(parseError(bytes: bytes) != nil)
    }

    @Test("errors carry the byte offset of the problem")
    func offsets() {
        #expect(parseError("[1,]")?.offset == 3)
        #expect(parseError("{\"a\":1,\"a\":2}")?.offset == 7)
        #expect(parseError("{}  x")?.offset == 4)
        #expect(parseError("[1,]")?.description.hasSuffix("at byte 3") == true)
    }
}

@Suite("JSONWriter")
struct JSONWriterTests {
    func roundTrip(_ value: JSONValue, sourceLocation: SourceLocation = #_sourceLocation) throws -> [UInt8] {
        var writer = JSONWriter()
        writer.value(value)
        let reparsed = try JSONParser.parse(writer.bytes)
        #expect(reparsed == value, sourceLocation: sourceLocation)
        return writer.bytes
    }

    @Test("escapes quotes, backslashes and control characters so that the output parses back")
    func escaping() throws {
        let controls = String(String.UnicodeScalarView((0x00...0x1F).map { Unicode.Scalar(UInt8($0)) }))
        let bytes = try roundTrip(.string("q\"b\\s/\(controls)\u{7F}"))
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(text.hasPrefix(#""q\"b\\s/\u0000\u0001"#))
        #expect(text.contains(#"\t\n\u000b\u000c\r"#))
        #expect(text.contains(#"\u001f"#))
        #expect(!bytes.dropFirst().dropLast().contains { $0 < 0x20 })
    }

    @Test("a character that needs escaping is found at every offset of a long string")
    func escapingAtEveryOffset() throws {
        for special in ["\"", "\\", "\u{0}", "\u{1F}", "\n"] {
            for offset in 0..<24 {
                let text = String(repeating: "a", count: offset) + special + String(repeating: "b", count: 23 - offset)
                let bytes = try roundTrip(.string(text))
                #expect(bytes.count > text.utf8.count + 2, "\(special.debugDescription) at \(offset) was not escaped")
            }
        }
        // Bytes just above the control range, and non-ASCII, are copied as they are.
        let plain = String(repeating: " !#~\u{7F}é", count: 5)
        #expect(try roundTrip(.string(plain)) == [0x22] + Array(plain.utf8) + [0x22])
    }

    @Test("unicode is written as UTF-8 and read back", arguments: ["é", "€", "😀", "𝄞", "\u{2028}\u{2029}", "e\u{0301}", "日本語", "\u{FEFF}x"])
    func unicode(_ text: String) throws {
        let bytes = try roundTrip(.string(text))
        #expect(bytes == [0x22] + Array(text.utf8) + [0x22])
        _ = try roundTrip(.object(JSONObject(members: [.init(name: text, value: .string(text))])))
    }

    @Test("nested values with escaped member names round trip")
    func nested() throws {
        let value = JSONValue.object(JSONObject(members: [
            .init(name: "a\"b", value: .array([.number(1), .number(-2), .number(0.5), .bool(true), .null, .string("")])),
            .init(name: "\\", value: .object(JSONObject(members: [.init(name: "\n", value: .array([]))]))),
            .init(name: "empty", value: .object(JSONObject())),
            .init(name: "big", value: .number(1e300)),
            .init(name: "small", value: .number(-1.5e-7)),
            .init(name: "max", value: .number(9_007_199_254_740_991)),
        ]))
        let bytes = try roundTrip(value)
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(text.hasPrefix(#"{"a\"b":[1,-2,0.5,true,null,""],"\\":{"\n":[]},"empty":{}"#))
        #expect(text.contains(#""max":9007199254740991"#))
    }

    @Test("commas are right at every depth, before and after nested containers", arguments: [1, 2, 3, 64, 130])
    func deepNesting(_ depth: Int) throws {
        // Arrays and objects in turn; the next level comes first at every third level and second at the
        // others, with an item after it everywhere: the item after a nested container needs its comma.
        var value = JSONValue.array([])
        for level in stride(from: depth, to: 0, by: -1) {
            let first = level % 3 == 0
            value = level % 2 == 0
                ? .array(first ? [value, .string("after")] : [.number(Double(level)), value, .string("after")])
                : .object(JSONObject(members: (first ? [] : [.init(name: "before", value: .number(Double(level)))])
                    + [.init(name: "inner", value: value), .init(name: "after", value: .null)]))
        }
        var writer = JSONWriter()
        writer.value(value)
        #expect(try JSONParser.parse(writer.bytes, maxDepth: depth + 2) == value)
    }

    @Test("space-separated strings are one escaped string value")
    func spaceSeparated() throws {
        var writer = JSONWriter()
        writer.beginObject()
        writer.member("scope", spaceSeparated: ["orders.read", "a\"b", "c\\d"])
        writer.member("one", spaceSeparated: ["x"])
        writer.member("none", spaceSeparated: [])
        writer.member(named: "dyn\"amic", "v")
        writer.endObject()
        let text = String(decoding: writer.bytes, as: UTF8.self)
        #expect(text == #"{"scope":"orders.read a\"b c\\d","one":"x","none":"","dyn\"amic":"v"}"#)
        let object = try #require(try JSONParser.parse(writer.bytes).objectValue)
        #expect(object["scope"] == .string("orders.read a\"b c\\d"))
        #expect(object["dyn\"amic"] == .string("v"))
    }

    @Test("members, integers and string arrays")
    func conveniences() throws {
        var writer = JSONWriter()
        writer.beginObject()
        writer.member("s", "v")
        writer.member("i", Int64.min)
        writer.member("j", Int64.max)
        writer.member("k", 0)
        writer.member("list", strings: ["a", "b\"c"])
        writer.member("none", strings: [])
        writer.member("v", .bool(false))
        writer.key("n")
        writer.null()
        writer.endObject()
        let text = String(decoding: writer.bytes, as: UTF8.self)
        #expect(text == #"{"s":"v","i":-9223372036854775808,"j":9223372036854775807,"k":0,"list":["a","b\"c"],"none":[],"v":false,"n":null}"#)
        let object = try #require(try JSONParser.parse(writer.bytes).objectValue)
        #expect(object.names == ["s", "i", "j", "k", "list", "none", "v", "n"])
    }
}

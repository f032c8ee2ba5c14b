import Handlers
import Testing

/// `FormParameters` against a deliberately simple reference parser (split on `&`, then on the first
/// `=`, then decode byte by byte), over bodies built so that every special byte lands at every offset
/// of the eight-byte words the parser skips over.
@Suite struct FormParametersTests {
    enum Parsed: Equatable {
        case pairs([String: [String]])
        /// Why the body was refused, as the error description words it.
        case refused(String)
    }

    static let malformedEscape = "malformed percent-escape"
    static let notUTF8 = "not valid UTF-8"
    static let repeated = "is repeated"

    static func reference(_ body: [UInt8]) -> Parsed {
        var result: [String: [String]] = [:]
        for part in body.split(separator: UInt8(ascii: "&"), omittingEmptySubsequences: true) {
            let equals = part.firstIndex(of: UInt8(ascii: "="))
            let name: String
            let value: String
            switch (decode(equals.map { part[..<$0] } ?? part[...]), equals.map { decode(part[($0 + 1)...]) } ?? .success("")) {
            case (.failure(let reason), _), (.success, .failure(let reason)): return .refused(reason.text)
            case (.success(let decodedName), .success(let decodedValue)): (name, value) = (decodedName, decodedValue)
            }
            guard !name.isEmpty, !value.isEmpty else { continue }
            if result[name] != nil, name != "audience", name != "resource" { return .refused(repeated) }
            result[name, default: []].append(value)
        }
        return .pairs(result)
    }

    struct Refusal: Error { var text: String }

    static func decode(_ bytes: ArraySlice<UInt8>) -> Swift.Result<String, Refusal> {
        var output: [UInt8] = []
        var index = bytes.startIndex
        while index < bytes.endIndex {
            switch bytes[index] {
            case UInt8(ascii: "+"):
                output.append(0x20)
                index += 1
            case UInt8(ascii: "%"):
                // Both digits checked by hand: `UInt8(_:radix:)` would take "+e" as a signed number.
                let digits = bytes[(index + 1)..<min(index + 3, bytes.endIndex)]
                guard digits.count == 2, digits.allSatisfy({ Character(Unicode.Scalar($0)).isHexDigit }),
                      let byte = UInt8(String(decoding: digits, as: UTF8.self), radix: 16) else { return .failure(Refusal(text: malformedEscape)) }
                output.append(byte)
                index += 3
            default:
                output.append(bytes[index])
                index += 1
            }
        }
        guard let text = String(validating: output, as: UTF8.self) else { return .failure(Refusal(text: notUTF8)) }
        return .success(text)
    }

    static func parsed(_ body: [UInt8]) -> Parsed {
        let form: FormParameters
        do {
            form = try FormParameters(parsing: body)
        } catch {
            for reason in [malformedEscape, notUTF8, repeated] where error.description.contains(reason) { return .refused(reason) }
            return .refused(error.description)
        }
        var result: [String: [String]] = [:]
        for name in names(in: body) where form.contains(name) {
            result[name] = form.values(name)
            // Bytes and string are two views of one value, whether it stayed in the body or was decoded.
            #expect(form.bytes(name).map(Array.init) == form[name].map { Array($0.utf8) }, "bytes of \(name)")
        }
        return .pairs(result)
    }

    /// Every name the reference could produce, so the parsed form can be read back by name.
    static func names(in body: [UInt8]) -> Set<String> {
        Set(body.split(separator: UInt8(ascii: "&")).compactMap { part in
            try? decode(part.firstIndex(of: UInt8(ascii: "=")).map { part[..<$0] } ?? part[...]).get()
        })
    }

    /// Pieces that exercise each branch: plain runs of several lengths, escapes good and bad, `+`,
    /// multi-byte and invalid UTF-8, extra `=`, empty pairs.
    static let pieces: [[UInt8]] = [
        Array("abcdefgh".utf8), Array("x".utf8), Array("eyJhbGciOiJFUzI1NiJ9".utf8), Array("%3A".utf8), Array("%zz".utf8),
        Array("+".utf8), Array("=".utf8), Array("&".utf8), Array("é".utf8), [0xFF], Array("%C3%A9".utf8), Array("%".utf8), Array("-_.".utf8),
    ]

    /// SplitMix64: a fixed seed makes any failure reproducible.
    struct SeededGenerator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    @Test("agrees with the reference, refusals included, on 20,000 generated bodies")
    func generatedBodies() {
        var generator = SeededGenerator(state: 20_261_128)
        for _ in 0..<20_000 {
            var body: [UInt8] = []
            let names = ["grant_type", "assertion", "scope", "audience", "n"]
            for pair in 0..<Int.random(in: 1...4, using: &generator) {
                if pair > 0 { body.append(UInt8(ascii: "&")) }
                body += Array(names.randomElement(using: &generator)!.utf8)
                body.append(UInt8(ascii: "="))
                for _ in 0..<Int.random(in: 0...6, using: &generator) { body += Self.pieces.randomElement(using: &generator)! }
            }
            let expected = Self.reference(body)
            let actual = Self.parsed(body)
            #expect(actual == expected, "body \(String(decoding: body, as: UTF8.self))")
            if actual != expected { return }
        }
    }

    @Test("a long plain value keeps every byte, whatever its offset in the body")
    func longValues() throws {
        for offset in 0..<16 {
            let value = String(repeating: "Ab9-_.", count: 120) + String(repeating: "z", count: offset)
            let form = try FormParameters(parsing: Array("grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=\(value)&scope=a+b".utf8))
            #expect(form["assertion"] == value)
            #expect(form.bytes("assertion").map(Array.init) == Array(value.utf8))
            #expect(form["grant_type"] == "urn:ietf:params:oauth:grant-type:jwt-bearer")
            #expect(form["scope"] == "a b")
        }
    }
}

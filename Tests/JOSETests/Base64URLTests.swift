import Foundation
import JOSE
import Testing

@Suite("Base64URL")
struct Base64URLTests {
    /// Foundation's encoder, made url-safe and unpadded by hand: an independent reference.
    static func reference(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    @Test("round trips every length from 0 to 64", arguments: 0...64)
    func roundTrip(length: Int) throws {
        var generator = SystemRandomNumberGenerator()
        let patterns: [[UInt8]] = [
            (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) },
            [UInt8](repeating: 0xFF, count: length),
            [UInt8](repeating: 0x00, count: length),
            (0..<length).map { UInt8(truncatingIfNeeded: $0 * 37 + 0xF8) },
        ]
        for bytes in patterns {
            let encoded = Base64URL.encodeToString(bytes)
            #expect(encoded == Self.reference(bytes))
            #expect(encoded.utf8.count == Base64URL.encodedLength(length))
            #expect(!encoded.contains("="))
            #expect(Base64URL.decode(encoded) == bytes)
            #expect(Base64URL.decode(Array(encoded.utf8)) == bytes)
        }
    }

    @Test("encode(into:) appends to what is already there")
    func encodeAppends() {
        var output = Array("prefix.".utf8)
        Base64URL.encode([0xFB, 0xFF], into: &output)
        #expect(String(decoding: output, as: UTF8.self) == "prefix.-_8")
    }

    @Test("known vectors (RFC 4648 10, url-safe alphabet, no padding)")
    func knownVectors() {
        let vectors: [(String, String)] = [
            ("", ""), ("f", "Zg"), ("fo", "Zm8"), ("foo", "Zm9v"), ("foob", "Zm9vYg"), ("fooba", "Zm9vYmE"), ("foobar", "Zm9vYmFy"),
        ]
        for (plain, encoded) in vectors {
            #expect(Base64URL.encodeToString(Array(plain.utf8)) == encoded)
            #expect(Base64URL.decode(encoded) == Array(plain.utf8))
        }
        #expect(Base64URL.encodeToString([0xFB, 0xEF, 0xFF]) == "--__")
        #expect(Base64URL.decode("--__") == [0xFB, 0xEF, 0xFF])
    }

    @Test("refuses padding, the standard alphabet, white space and impossible lengths", arguments: [
        "Zg==", "Zm8=", "Zg=", "=", "Zm9v====",          // padding
        "+-__", "//__", "Zm9v+w", "Zm9v/w",               // standard alphabet
        " Zm9v", "Zm9v ", "Zm 9v", "Zm9v\n", "Zm9v\r\n", "\tZm9v", // white space
        "Z", "Zm9vY", "Zm9vYmFyZ",                        // length % 4 == 1
        "Zm9v.", "Zm9v!", "Zm9v\0", "Zm9v\u{7F}", "Zm9vé",  // other characters
    ])
    func refuses(_ text: String) {
        #expect(Base64URL.decode(text) == nil)
    }

    @Test("refuses non-canonical encodings (non-zero unused bits)", arguments: [
        "Zh", "Zi", "Zv",    // "Zg" is the only encoding of "f"
        "Zm9", "Zm+",        // "Zm8" is the only encoding of "fo"
        "AB", "AAB", "AAAAAB", "AAAAAAB", "_-", "__", "___",
    ])
    func refusesNonCanonical(_ text: String) {
        #expect(Base64URL.decode(text) == nil)
    }

    @Test("each byte string has exactly one accepted encoding (all 2- and 3-character inputs)")
    func exactlyOneEncoding() {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
        var accepted2 = 0
        for a in alphabet {
            for b in alphabet {
                let input = [a, b]
                if let decoded = Base64URL.decode(input) {
                    accepted2 += 1
                    #expect(decoded.count == 1)
                    #expect(Base64URL.encode(decoded) == input)
                }
            }
        }
        #expect(accepted2 == 256)

        var accepted3 = 0
        var mismatches = 0
        for a in alphabet {
            for b in alphabet {
                for c in alphabet {
                    let input = [a, b, c]
                    if let decoded = Base64URL.decode(input) {
                        accepted3 += 1
                        if decoded.count != 2 || Base64URL.encode(decoded) != input { mismatches += 1 }
                    }
                }
            }
        }
        #expect(accepted3 == 65536)
        #expect(mismatches == 0)
    }

    @Test("every byte outside the url-safe alphabet is refused in every position")
    func everyForeignByte() {
        let alphabet = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
        for byte in UInt8.min...UInt8.max where !alphabet.contains(byte) {
            for position in 0..<4 {
                var input = Array("AAAA".utf8)
                input[position] = byte
                #expect(Base64URL.decode(input) == nil, "byte \(byte) at \(position)")
            }
        }
    }

    @Test("standard base64 (PEM, HTTP Basic) round trips with padding and refuses the url-safe alphabet")
    func standardBase64() {
        for length in 0...40 {
            let bytes = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 131 &+ 251) }
            let encoded = Base64Standard.encode(bytes)
            #expect(encoded == Data(bytes).base64EncodedString())
            #expect(Base64Standard.decode(encoded) == bytes)
        }
        #expect(Base64Standard.decode("-_8=") == nil)
        #expect(Base64Standard.decode("+/8=") == [0xFB, 0xFF])
        #expect(Base64Standard.decode("Zm9v YmFy") == nil)
    }

    @Test("standard base64 padding is optional, but when present it completes the last group, two at most")
    func standardBase64Padding() {
        #expect(Base64Standard.decode("Zm8") == Array("fo".utf8))
        #expect(Base64Standard.decode("Zm8=") == Array("fo".utf8))
        #expect(Base64Standard.decode("Zg==") == Array("f".utf8))
        #expect(Base64Standard.decode("Zg") == Array("f".utf8))
        #expect(Base64Standard.decode("Zg=") == nil, "padding that does not complete the group")
        #expect(Base64Standard.decode("Zm9v===") == nil, "three padding characters")
        #expect(Base64Standard.decode("Zg===") == nil)
        #expect(Base64Standard.decode("==") == nil)
        #expect(Base64Standard.decode("Zg==Zg==") == nil, "padding in the middle")
        #expect(Base64Standard.decode("Zh==") == nil, "non-zero unused bits")
        #expect(Base64Standard.decode("") == [])
    }

    @Test("token ids and other short encodings written straight into a string match the byte encoder")
    func encodeToString() {
        for length in 0...40 {
            let bytes = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 97 &+ 13) }
            #expect(Base64URL.encodeToString(bytes) == String(decoding: Base64URL.encode(bytes), as: UTF8.self))
            #expect(Base64URL.encodeToString(bytes[...]) == String(decoding: Base64URL.encode(bytes), as: UTF8.self))
        }
    }
}

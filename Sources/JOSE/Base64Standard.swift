/// Standard base64 (RFC 4648 4), for HTTP Basic credentials, PEM bodies and base64 event bodies.
/// Decoding shares Base64URL's strict core with the `+/` alphabet: padding is optional but at most two
/// `=` at the very end, nothing else outside the alphabet, and the unused low bits must be zero.
public enum Base64Standard {
    private static let alphabet: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    private static let decodeTable = DecodeTable(alphabet: alphabet)

    public static func decode(_ text: String) -> [UInt8]? {
        var text = text
        return text.withUTF8 { decode(contiguous: $0) }
    }

    @inlinable
    public static func decode<Bytes: Collection>(_ bytes: Bytes) -> [UInt8]? where Bytes.Element == UInt8 {
        Base64URL.withContiguous(bytes) { decode(contiguous: $0) }
    }

    @usableFromInline
    static func decode(contiguous input: UnsafeBufferPointer<UInt8>) -> [UInt8]? {
        var end = input.count
        while end > 0, input.count - end < 2, input[end - 1] == UInt8(ascii: "=") { end -= 1 }
        // Padding, when present, completes the last group of four.
        if end < input.count, input.count % 4 != 0 { return nil }
        return decodeTable.decode(UnsafeBufferPointer(rebasing: input[..<end]))
    }

    public static func encode(_ bytes: [UInt8]) -> String {
        var encoded = Base64URL.encode(bytes).map { byte -> UInt8 in
            switch byte {
            case UInt8(ascii: "-"): UInt8(ascii: "+")
            case UInt8(ascii: "_"): UInt8(ascii: "/")
            default: byte
            }
        }
        while encoded.count % 4 != 0 { encoded.append(UInt8(ascii: "=")) }
        return String(decoding: encoded, as: UTF8.self)
    }
}

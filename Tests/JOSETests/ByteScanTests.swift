import JOSE
import Testing

/// The word-at-a-time tests against a byte-by-byte reference, at every position in the word.
@Suite("ByteScan")
struct ByteScanTests {
    static func word(_ bytes: [UInt8]) -> UInt64 {
        bytes.withUnsafeBufferPointer { ByteScan.word($0, at: 0) }
    }

    @Test("has(_:in:) finds each byte value at each of the eight positions and nothing else")
    func hasEveryValueAtEveryPosition() {
        for target in [UInt8(0), 0x01, 0x25, 0x26, 0x2B, 0x2E, 0x3D, 0x7F, 0x80, 0xFF] {
            for value in UInt8.min...UInt8.max {
                for position in 0..<8 {
                    // The filler differs from the target, so only `value` at `position` can match.
                    let filler: UInt8 = target == 0x41 ? 0x42 : 0x41
                    var bytes = [UInt8](repeating: filler, count: 8)
                    bytes[position] = value
                    #expect(ByteScan.has(target, in: Self.word(bytes)) == (value == target), "target \(target) value \(value) at \(position)")
                }
            }
        }
    }

    @Test("hasNonASCII(_:) sees any byte from 0x80 at any position")
    func nonASCII() {
        for value in UInt8.min...UInt8.max {
            for position in 0..<8 {
                var bytes = [UInt8](repeating: 0x7F, count: 8)
                bytes[position] = value
                #expect(ByteScan.hasNonASCII(Self.word(bytes)) == (value >= 0x80))
            }
        }
    }

    @Test("hasByte(below:in:) sees any byte under the bound at any position, whatever the other bytes")
    func byteBelowBound() {
        for bound in [UInt8(0x01), 0x20, 0x2C, 0x80] {
            for filler in [bound, 0x7F, 0x80, 0xFF] {
                for value in UInt8.min...UInt8.max {
                    for position in 0..<8 {
                        var bytes = [UInt8](repeating: filler, count: 8)
                        bytes[position] = value
                        #expect(ByteScan.hasByte(below: bound, in: Self.word(bytes)) == (value < bound || filler < bound),
                                "bound \(bound) filler \(filler) value \(value) at \(position)")
                    }
                }
            }
        }
    }

    @Test("firstIndex(of:in:from:) agrees with a plain search for every length, position and start")
    func firstIndexMatchesReference() {
        for length in 0...40 {
            for position in [nil] + Array(0..<length).map(Optional.some) {
                var bytes = [UInt8](repeating: UInt8(ascii: "a"), count: length)
                if let position { bytes[position] = UInt8(ascii: ".") }
                for start in 0...length {
                    let expected = bytes[start...].firstIndex(of: UInt8(ascii: ".")) ?? length
                    let found = bytes.withUnsafeBufferPointer { ByteScan.firstIndex(of: UInt8(ascii: "."), in: $0, from: start) }
                    #expect(found == expected, "length \(length) dot at \(String(describing: position)) from \(start)")
                }
            }
        }
    }
}

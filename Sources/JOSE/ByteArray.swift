/// Byte arrays of a known size, filled in place, allocated the cheap way.
///
/// `Array(unsafeUninitializedCapacity:initializingWith:)` and `Array(repeating:count:)` allocate through
/// a standard-library entry point that is never specialised, and that one looks the storage class's
/// metadata up in the runtime's hash table on every call: about 530 instructions per array (callgrind),
/// five arrays per jwt-bearer grant. `reserveCapacity` is specialised in the caller and reads the
/// metadata from a cached global. So the bytes are written into scratch space (on the stack at these
/// sizes), then copied into an array reserved at their final size: the copy costs a tenth of the lookup.
package enum ByteArray {
    /// An array of at most `capacity` bytes: `body` fills the front of the scratch space and returns
    /// how many bytes it wrote.
    @inlinable @inline(__always)
    package static func build<Failure: Error>(
        capacity: Int, _ body: (UnsafeMutableBufferPointer<UInt8>) throws(Failure) -> Int
    ) throws(Failure) -> [UInt8] {
        try withUnsafeTemporaryAllocation(of: UInt8.self, capacity: capacity) { scratch throws(Failure) -> [UInt8] in
            let written = try body(scratch)
            precondition(written >= 0 && written <= capacity, "ByteArray: more bytes written than reserved")
            var array: [UInt8] = []
            array.reserveCapacity(written)
            array.append(contentsOf: UnsafeBufferPointer(rebasing: scratch[..<written]))
            return array
        }
    }
}

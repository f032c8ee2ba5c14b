#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Whole-file reads with open(2) and read(2). Foundation's `Data(contentsOf:)` goes through `URL`, whose
/// path handling instantiates generic types on first use (each a scan of every protocol conformance in
/// the binary): a visible share of a cold `baton invoke`, which reads its configuration, keys and event once.
public enum LocalFile {
    public struct ReadError: Error, CustomStringConvertible {
        public var errorNumber: Int32
        public var description: String { String(cString: strerror(errorNumber)) }
    }

    public static func bytes(atPath path: String) throws(ReadError) -> [UInt8] {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw ReadError(errorNumber: errno) }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { throw ReadError(errorNumber: errno) }
        // The size is a hint (a file may grow, /proc files report 0): read until end of file.
        var result = [UInt8](repeating: 0, count: max(Int(status.st_size), 0) + 1)
        var count = 0
        while true {
            if count == result.count { result.append(contentsOf: repeatElement(0, count: max(count, 4096))) }
            let got = result.withUnsafeMutableBytes { read(descriptor, $0.baseAddress! + count, $0.count - count) }
            if got > 0 {
                count += got
            } else if got == 0 {
                result.removeSubrange(count...)
                return result
            } else if errno != EINTR {
                throw ReadError(errorNumber: errno)
            }
        }
    }

    /// The file as UTF-8 text without a leading byte-order mark (editors on Windows write one); nil when
    /// it is not valid UTF-8.
    public static func text(atPath path: String) throws(ReadError) -> String? {
        let bytes = try bytes(atPath: path)
        let byteOrderMark: [UInt8] = [0xEF, 0xBB, 0xBF]
        return String(validating: bytes.starts(with: byteOrderMark) ? bytes.dropFirst(3) : bytes[...], as: UTF8.self)
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The process environment as `ProcessInfo.processInfo.environment` gives it (a later duplicate name
/// wins), read straight from `environ`: Foundation's `ProcessInfo` brings its own set-up into a cold
/// `baton invoke`, a quarter of a megabyte of resident pages for what is a short loop.
public enum ProcessEnvironment {
    public static func variables() -> [String: String] {
        // Sized up front: growing a `[String: String]` goes through the standard library's own
        // specialisation, which finds the storage type by its mangled name and so scans every
        // conformance record of the program for `String: Hashable` (about 0.1 ms of a cold start).
        var count = 0
        while environ[count] != nil { count += 1 }
        var variables = [String: String](minimumCapacity: count)
        var entry = environ
        while let pointer = entry.pointee {
            let text = String(cString: pointer)
            if let equals = text.utf8.firstIndex(of: UInt8(ascii: "=")) {
                variables[String(text[..<equals])] = String(text[text.utf8.index(after: equals)...])
            }
            entry += 1
        }
        return variables
    }
}

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
        var variables: [String: String] = [:]
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

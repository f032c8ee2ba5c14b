#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import JOSE
import KeyLoader

/// A benchmark failure: one line on stderr, exit status 1.
struct BenchError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

enum Clock {
    /// Monotonic wall time in seconds.
    static func wall() -> Double { read(CLOCK_MONOTONIC) }
    /// CPU time of the whole process (every thread) in seconds: rates per core stay honest when another
    /// process shares the core.
    static func processCPU() -> Double { read(CLOCK_PROCESS_CPUTIME_ID) }
    static func unixSeconds() -> Int64 {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Int64(spec.tv_sec)
    }

    private static func read(_ clock: clockid_t) -> Double {
        var spec = timespec()
        clock_gettime(clock, &spec)
        return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
    }
}

/// Results are built as `JSONValue` trees and written with the project's own writer.
typealias JSON = JSONValue

extension JSONValue {
    static func obj(_ members: [(String, JSONValue?)]) -> JSONValue {
        .object(JSONObject(members: members.compactMap { name, value in value.map { JSONObject.Member(name: name, value: $0) } }))
    }

    static func num(_ value: Double) -> JSONValue { .number(value.isFinite ? value : 0) }
    static func num(_ value: Int) -> JSONValue { .number(Double(value)) }
    static func str(_ value: String) -> JSONValue { .string(value) }

    subscript(_ name: String) -> JSONValue? { objectValue?[name] }

    var double: Double? { numberValue }
    var array: [JSONValue] { arrayValue ?? [] }

    /// Pretty JSON, two-space indent, members in insertion order.
    func rendered() -> String {
        var out: [UInt8] = []
        render(into: &out, depth: 0)
        out.append(0x0A)
        return String(decoding: out, as: UTF8.self)
    }

    private func render(into out: inout [UInt8], depth: Int) {
        func newline(_ level: Int) { out.append(0x0A); out.append(contentsOf: Array(repeating: 0x20, count: level * 2)) }
        switch self {
        case .object(let object) where !object.members.isEmpty:
            out.append(UInt8(ascii: "{"))
            for (index, member) in object.members.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                newline(depth + 1)
                JSONWriter.appendQuoted(member.name, to: &out)
                out.append(contentsOf: Array(": ".utf8))
                member.value.render(into: &out, depth: depth + 1)
            }
            newline(depth)
            out.append(UInt8(ascii: "}"))
        case .array(let items) where !items.isEmpty && items.contains(where: { $0.objectValue != nil || $0.arrayValue != nil }):
            out.append(UInt8(ascii: "["))
            for (index, item) in items.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                newline(depth + 1)
                item.render(into: &out, depth: depth + 1)
            }
            newline(depth)
            out.append(UInt8(ascii: "]"))
        default:
            var writer = JSONWriter(capacity: 64)
            writer.value(self)
            out.append(contentsOf: writer.bytes)
        }
    }
}

enum Files {
    static func read(_ path: String) throws -> [UInt8] {
        do {
            return try LocalFile.bytes(atPath: path)
        } catch {
            throw BenchError("cannot read \(path): \(error)")
        }
    }

    static func readText(_ path: String) throws -> String { String(decoding: try read(path), as: UTF8.self) }

    static func write(_ path: String, _ bytes: [UInt8]) throws {
        guard let file = fopen(path, "wb") else { throw BenchError("cannot write \(path)") }
        defer { fclose(file) }
        guard fwrite(bytes, 1, bytes.count, file) == bytes.count else { throw BenchError("short write to \(path)") }
    }

    static func write(_ path: String, _ text: String) throws { try write(path, Array(text.utf8)) }

    /// `mkdir -p`.
    static func makeDirectory(_ path: String) {
        var partial = path.hasPrefix("/") ? "/" : ""
        for component in path.split(separator: "/") {
            partial += (partial.isEmpty || partial == "/" ? "" : "/") + component
            mkdir(partial, 0o755)
        }
    }

    static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    /// Evicts a file's pages from the page cache (written back first), so that the next process to map
    /// it reads it from disk. A binary the linker has just written sits in the cache in large folios,
    /// which the kernel maps whole on a fault and counts in the resident set: the same `baton invoke`
    /// measured 21.2 MiB from the linker's pages and 19.2 MiB once read back from disk, which is how a
    /// container or a function starts it. Best effort: a file in use keeps its mapped pages.
    static func dropFromPageCache(_ path: String) {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { return }
        defer { close(fd) }
        _ = fsync(fd)
        _ = posix_fadvise(fd, 0, 0, Int32(POSIX_FADV_DONTNEED))
    }
}

enum Log {
    /// Progress goes to stderr so that stdout carries only the table.
    static func note(_ text: String) {
        fflush(nil)
        let line = "bench: " + text + "\n"
        _ = line.utf8CString.withUnsafeBufferPointer { write(2, $0.baseAddress, $0.count - 1) }
    }
}

enum Affinity {
    static var onlineCPUs: Int { Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))) }
}

func percentile(_ sorted: [Double], _ fraction: Double) -> Double {
    guard !sorted.isEmpty else { return 0 }
    let index = min(sorted.count - 1, max(0, Int((fraction * Double(sorted.count)).rounded(.up)) - 1))
    return sorted[index]
}

func median(_ values: [Double]) -> Double { percentile(values.sorted(), 0.5) }

/// Rounds per measured rate. On a shared machine other tenants can only slow a round down, never
/// speed it up, so the best of a few short rounds estimates the undisturbed rate better than one long
/// round; ceilings and grants are measured the same way, so their ratio stays like for like.
let measurementRounds = 3

/// Runs `body` in `measurementRounds` rounds, each until its share of `seconds` of process CPU time has
/// passed (and `body` ran at least `minimum` times), and returns the best round's operations per CPU
/// second, with the total count and CPU time of all rounds. One loop for signatures and for whole
/// requests; an async call costs nanoseconds beside either.
func measureRate(
    seconds: Double, minimum: Int = 3, batch: Int = 1, _ body: () async throws -> Void
) async rethrows -> (rate: Double, count: Int, cpuSeconds: Double) {
    var best = 0.0
    var total = 0
    var cpu = 0.0
    for _ in 0..<measurementRounds {
        let start = Clock.processCPU()
        var count = 0
        repeat {
            for _ in 0..<batch { try await body() }
            count += batch
        } while Clock.processCPU() - start < seconds / Double(measurementRounds) || count < minimum
        let roundCPU = Clock.processCPU() - start
        best = max(best, Double(count) / roundCPU)
        total += count
        cpu += roundCPU
    }
    return (best, total, cpu)
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import ArgumentParser
import Handlers
import KeyLoader
import Runtime

/// Options every command that loads a domain shares.
struct DomainOptions: ParsableArguments {
    @Option(name: .long, help: "Path to the domain configuration (default: $BATON_CONFIG).")
    var config: String?

    @Option(name: .long, help: "Serve only this endpoint: token, jwks or discovery (default: $BATON_FUNCTION, else all).")
    var function: String?

    /// Reads the process environment: take it once per command.
    var source: DomainSource { DomainSource(config: config, function: function) }
}

/// `--config` and `--function` as plain values, for the commands and for `invoke`'s own argument reading.
struct DomainSource {
    var config: String?
    var function: String?
    var environment: [String: String] = ProcessEnvironment.variables()

    func loadDomain() throws -> Domain {
        do {
            return try DomainLoader.load(configPath: config, environment: environment)
        } catch {
            throw Fatal(error.description)
        }
    }

    func endpointFunction() throws -> EndpointFunction? {
        guard let name = function ?? environment["BATON_FUNCTION"], !name.isEmpty else { return nil }
        guard let function = EndpointFunction(rawValue: name) else {
            throw Fatal("BATON_FUNCTION/--function: unknown function \"\(name)\" (token, jwks, discovery)")
        }
        return function
    }
}

/// A start-up failure: one line on stderr, exit status 1.
struct Fatal: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

enum StandardStreams {
    static func readAll(fileDescriptor: Int32 = 0) -> [UInt8] {
        var result: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(fileDescriptor, $0.baseAddress, $0.count) }
            if count <= 0 { break }
            result.append(contentsOf: buffer[0..<count])
        }
        return result
    }

    static func write(_ bytes: [UInt8], to descriptor: Int32 = 1) {
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
            if written <= 0 { return }
            offset += written
        }
    }

    static func print(_ text: String, to descriptor: Int32 = 1) {
        write(Array((text + "\n").utf8), to: descriptor)
    }

    static func error(_ text: String) { print("baton: " + text, to: 2) }
}

/// Runs a command body and turns `Fatal` into one stderr line and exit status 1.
func runReportingFatal(_ body: () async throws -> Void) async throws {
    do {
        try await body()
    } catch let fatal as Fatal {
        StandardStreams.error(fatal.description)
        throw ExitCode(1)
    }
}

func readFileBytes(_ path: String) throws -> [UInt8] {
    do {
        return try LocalFile.bytes(atPath: path)
    } catch {
        throw Fatal("cannot read \(path)")
    }
}

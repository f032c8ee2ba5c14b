import Crypto
import Foundation
import JOSE
import Testing
import _CryptoExtras

// MARK: - Keys

/// Keys generated once per test process; RSA generation is slow enough to share.
enum TestKeys {
    static let rsa: PrivateKeyMaterial = try! .generate(for: .rs256)
    static let rsaOther: PrivateKeyMaterial = try! .generate(for: .rs256)
    static let p256: PrivateKeyMaterial = .p256(P256.Signing.PrivateKey())
    static let p256Other: PrivateKeyMaterial = .p256(P256.Signing.PrivateKey())
    static let p384: PrivateKeyMaterial = .p384(P384.Signing.PrivateKey())
    static let p384Other: PrivateKeyMaterial = .p384(P384.Signing.PrivateKey())
    static let ed25519: PrivateKeyMaterial = .ed25519(Curve25519.Signing.PrivateKey())
    static let ed25519Other: PrivateKeyMaterial = .ed25519(Curve25519.Signing.PrivateKey())

    static func material(for algorithm: JWSAlgorithm) -> PrivateKeyMaterial {
        switch algorithm.keyType {
        case .rsa: rsa
        case .p256: p256
        case .p384: p384
        case .ed25519: ed25519
        }
    }

    /// A second, different key of the same type.
    static func otherMaterial(for algorithm: JWSAlgorithm) -> PrivateKeyMaterial {
        switch algorithm.keyType {
        case .rsa: rsaOther
        case .p256: p256Other
        case .p384: p384Other
        case .ed25519: ed25519Other
        }
    }

    static func signer(_ algorithm: JWSAlgorithm, kid: String = "test-kid") -> SigningKey {
        try! SigningKey(kid: kid, algorithm: algorithm, material: material(for: algorithm))
    }
}

// MARK: - Token building

func b64(_ text: String) -> String { Base64URL.encodeToString(Array(text.utf8)) }
func b64(_ bytes: [UInt8]) -> String { Base64URL.encodeToString(bytes) }

/// A token assembled from raw JSON texts and a raw signature: nothing is validated.
func compactToken(header: String, payload: String, signature: [UInt8]) -> String {
    b64(header) + "." + b64(payload) + "." + b64(signature)
}

/// A token whose header and payload are the given JSON texts, validly signed by `key` with `algorithm`.
func signedToken(header: String, payload: String, key: PrivateKeyMaterial, algorithm: JWSAlgorithm) throws -> String {
    let input = b64(header) + "." + b64(payload)
    let signature = try key.signature(for: Array(input.utf8), algorithm: algorithm)
    return input + "." + b64(signature)
}

func standardPayload(subject: String = "alice") -> [UInt8] {
    Array("{\"iss\":\"https://idp.example\",\"sub\":\"\(subject)\",\"exp\":4102444800}".utf8)
}

/// Parses and verifies; returns the JWSError if either step refused the token, records an issue if it was accepted.
@discardableResult
func expectRejected(
    _ token: String, keys: [VerificationKey], allowed: Set<JWSAlgorithm> = Set(JWSAlgorithm.allCases),
    maxLength: Int = CompactJWS.defaultMaxLength, because fragment: String? = nil,
    sourceLocation: SourceLocation = #_sourceLocation
) -> JWSError? {
    do {
        let parsed = try CompactJWS.parse(token, maxLength: maxLength)
        let key = try parsed.verify(with: keys, allowedAlgorithms: allowed)
        Issue.record("token was accepted (verified with kid \(key.kid))", sourceLocation: sourceLocation)
        return nil
    } catch {
        if let fragment {
            #expect(error.description.contains(fragment), "\(error.description) does not mention \(fragment)", sourceLocation: sourceLocation)
        }
        return error
    }
}

/// Parses and verifies, failing the test with the JWSError when either step refuses.
@discardableResult
func expectAccepted(
    _ token: String, keys: [VerificationKey], allowed: Set<JWSAlgorithm> = Set(JWSAlgorithm.allCases),
    sourceLocation: SourceLocation = #_sourceLocation
) -> (UnverifiedJWS, VerificationKey)? {
    do {
        let parsed = try CompactJWS.parse(token)
        let key = try parsed.verify(with: keys, allowedAlgorithms: allowed)
        return (parsed, key)
    } catch {
        Issue.record("token refused: \(error.description)", sourceLocation: sourceLocation)
        return nil
    }
}

func parseObject(_ bytes: [UInt8]) throws -> JSONObject {
    let value = try JSONParser.parse(bytes)
    return try #require(value.objectValue)
}

func jwkJSON(_ key: PrivateKeyMaterial, kid: String, algorithm: JWSAlgorithm) -> [UInt8] {
    var writer = JSONWriter()
    key.writePrivateJWK(kid: kid, algorithm: algorithm, into: &writer)
    return writer.bytes
}

func publicJWKJSON(_ key: PublicKeyMaterial, kid: String, algorithm: JWSAlgorithm) -> [UInt8] {
    var writer = JSONWriter()
    key.writeJWK(kid: kid, algorithm: algorithm, into: &writer)
    return writer.bytes
}

/// A JWK object built from members, for hand-crafted (often invalid) keys.
func jwkObject(_ members: [(String, JSONValue)]) -> JSONObject {
    JSONObject(members: members.map { JSONObject.Member(name: $0.0, value: $0.1) })
}

// MARK: - Temporary files and OpenSSL

final class TemporaryDirectory {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("baton-jose-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: url) }

    func path(_ name: String) -> String { url.appendingPathComponent(name).path }

    @discardableResult
    func write(_ name: String, _ data: Data) throws -> String {
        let path = path(name)
        try data.write(to: URL(fileURLWithPath: path))
        return path
    }

    @discardableResult
    func write(_ name: String, _ text: String) throws -> String { try write(name, Data(text.utf8)) }

    func read(_ name: String) throws -> String {
        String(decoding: try Data(contentsOf: URL(fileURLWithPath: path(name))), as: UTF8.self)
    }
}

struct CommandFailure: Error, CustomStringConvertible {
    var description: String
}

enum OpenSSL {
    /// Runs `openssl` with `arguments`; returns stdout, throws with stderr on a non-zero exit.
    @discardableResult
    static func run(_ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["openssl"] + arguments
        let errorFile = FileManager.default.temporaryDirectory.appendingPathComponent("openssl-stderr-\(UUID().uuidString)")
        _ = FileManager.default.createFile(atPath: errorFile.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: errorFile) }
        let errorHandle = try FileHandle(forWritingTo: errorFile)
        defer { try? errorHandle.close() }
        let output = Pipe()
        process.standardOutput = output
        process.standardError = errorHandle
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            let stderr = (try? String(contentsOf: errorFile, encoding: .utf8)) ?? ""
            throw CommandFailure(description: "openssl \(arguments.joined(separator: " ")) failed: \(stderr)")
        }
        return String(decoding: data, as: UTF8.self)
    }

    /// `openssl genpkey` into `directory/name`, returning the PEM text (PKCS#8).
    static func generate(_ arguments: [String], in directory: TemporaryDirectory, name: String) throws -> String {
        try run(["genpkey"] + arguments + ["-out", directory.path(name)])
        return try directory.read(name)
    }

    /// Components printed by `openssl pkey -text`, as unsigned big-endian bytes without leading zeros
    /// (use `fixedLength` for curve scalars and coordinates).
    static func textComponents(ofPrivateKey path: String) throws -> [String: [UInt8]] {
        let text = try run(["pkey", "-in", path, "-noout", "-text"])
        var components: [String: [UInt8]] = [:]
        var currentName: String?
        var currentHex = ""
        func flush() {
            guard let name = currentName else { return }
            var bytes: [UInt8] = []
            var index = currentHex.startIndex
            while index < currentHex.endIndex {
                let next = currentHex.index(index, offsetBy: 2)
                bytes.append(UInt8(currentHex[index..<next], radix: 16)!)
                index = next
            }
            components[name] = stripLeadingZeros(bytes)
            currentName = nil
            currentHex = ""
        }
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix(" ") {
                currentHex += line.filter { $0.isHexDigit }
            } else {
                flush()
                if line.hasSuffix(":") {
                    currentName = String(line.dropLast())
                } else if let colon = line.firstIndex(of: ":"), line.hasPrefix("publicExponent") {
                    // "publicExponent: 65537 (0x10001)"
                    let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
                    let decimal = UInt64(value.prefix { $0.isNumber })!
                    components["publicExponent"] = stripLeadingZeros(withUnsafeBytes(of: decimal.bigEndian, Array.init))
                }
            }
        }
        flush()
        return components
    }
}

func stripLeadingZeros(_ bytes: [UInt8]) -> [UInt8] {
    var bytes = bytes
    while bytes.count > 1, bytes.first == 0 { bytes.removeFirst() }
    return bytes
}

func fixedLength(_ bytes: [UInt8], _ length: Int) -> [UInt8] {
    let stripped = stripLeadingZeros(bytes)
    return [UInt8](repeating: 0, count: max(0, length - stripped.count)) + stripped
}

extension PublicKeyMaterial {
    /// The RFC 7638 members as a dictionary, for comparing two keys.
    var members: [String: String] { Dictionary(uniqueKeysWithValues: publicMembers()) }
}

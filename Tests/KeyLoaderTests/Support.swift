import Crypto
import Foundation
import Handlers
import JOSE
import KeyLoader
import Testing
import _CryptoExtras

// MARK: - Keys and key documents

/// Keys generated once per test process.
enum TestKeys {
    static let rsa: PrivateKeyMaterial = try! .generate(for: .rs256)
    static let p256: PrivateKeyMaterial = .p256(P256.Signing.PrivateKey())
    static let p256Second: PrivateKeyMaterial = .p256(P256.Signing.PrivateKey())
    static let p256Third: PrivateKeyMaterial = .p256(P256.Signing.PrivateKey())
    static let p384: PrivateKeyMaterial = .p384(P384.Signing.PrivateKey())
    static let ed25519: PrivateKeyMaterial = .ed25519(Curve25519.Signing.PrivateKey())
}

/// A private JWK as text; `algorithm: nil` leaves `alg` out, `extra` adds members such as `key_ops`.
func privateJWK(_ key: PrivateKeyMaterial, kid: String?, algorithm: JWSAlgorithm?, extra: [String: String] = [:]) -> String {
    var writer = JSONWriter()
    key.writePrivateJWK(kid: kid ?? "-", algorithm: algorithm ?? key.keyType.defaultAlgorithm, into: &writer)
    return edit(writer.bytes, dropping: (kid == nil ? ["kid"] : []) + (algorithm == nil ? ["alg"] : []), extra: extra)
}

func publicJWK(_ key: PublicKeyMaterial, kid: String?, algorithm: JWSAlgorithm?, extra: [String: String] = [:]) -> String {
    var writer = JSONWriter()
    key.writeJWK(kid: kid ?? "-", algorithm: algorithm ?? key.keyType.defaultAlgorithm, into: &writer)
    return edit(writer.bytes, dropping: (kid == nil ? ["kid"] : []) + (algorithm == nil ? ["alg"] : []), extra: extra)
}

/// Re-serialises a JWK without some members and with extra raw-JSON members (replacing members of the same name).
private func edit(_ bytes: [UInt8], dropping: [String], extra: [String: String]) -> String {
    let object = try! JSONParser.parse(bytes).objectValue!
    var writer = JSONWriter()
    writer.beginObject()
    for member in object.members where !dropping.contains(member.name) && extra[member.name] == nil { writer.member(named: member.name, member.value) }
    for (name, json) in extra.sorted(by: { $0.key < $1.key }) { writer.member(named: name, try! JSONParser.parse(json)) }
    writer.endObject()
    return String(decoding: writer.bytes, as: UTF8.self)
}

func jwks(_ keys: String...) -> String { "{\"keys\":[" + keys.joined(separator: ",") + "]}" }

/// Every base64url value of a private member in a JWK text: what messages must never contain.
func privateValues(inJWKS text: String) -> [String] {
    guard let keys = (try? JSONParser.parse(text))?.objectValue?["keys"]?.arrayValue else { return [] }
    return keys.flatMap { key -> [String] in
        ["d", "p", "q", "dp", "dq", "qi"].compactMap { key.objectValue?[$0]?.stringValue }
    }
}

/// Body lines of every PEM block in `text`.
func pemBodyLines(_ text: String) -> [String] {
    guard text.contains("-----BEGIN ") else { return [] }
    return text.split(separator: "\n").map(String.init).filter { !$0.hasPrefix("-----") && $0.count > 8 && !$0.contains(" ") }
}

func expectNoSecrets(in message: String, from document: String, sourceLocation: SourceLocation = #_sourceLocation) {
    for value in privateValues(inJWKS: document) {
        #expect(!message.contains(value), "message contains a private member", sourceLocation: sourceLocation)
        #expect(!message.contains(String(value.prefix(16))), "message contains part of a private member", sourceLocation: sourceLocation)
    }
    for line in pemBodyLines(document) {
        #expect(!message.contains(line), "message contains a PEM body line", sourceLocation: sourceLocation)
        #expect(!message.contains(String(line.prefix(24))), "message contains part of a PEM body line", sourceLocation: sourceLocation)
    }
}

/// Loads signing keys expecting a ConfigurationError; returns its message.
func signingKeyRefusal(_ text: String, source: String = "BATON_SIGNING_KEYS", sourceLocation: SourceLocation = #_sourceLocation) -> String {
    do {
        let keys = try SigningKeyLoader.load(text, source: source)
        Issue.record("loaded \(keys.published.count) keys", sourceLocation: sourceLocation)
        return ""
    } catch {
        #expect(error.description.hasPrefix("\(source): "), "\(error.description)", sourceLocation: sourceLocation)
        expectNoSecrets(in: error.description, from: text, sourceLocation: sourceLocation)
        return error.description
    }
}

// MARK: - Temporary files and OpenSSL

final class TemporaryDirectory {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("baton-keyloader-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: url) }

    var path: String { url.path }

    func path(_ name: String) -> String { url.appendingPathComponent(name).path }

    @discardableResult
    func write(_ name: String, _ text: String) throws -> String {
        let path = path(name)
        try FileManager.default.createDirectory(
            at: URL(fileURLWithPath: path).deletingLastPathComponent(), withIntermediateDirectories: true
        )
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    func read(_ name: String) throws -> String {
        String(decoding: try Data(contentsOf: URL(fileURLWithPath: path(name))), as: UTF8.self)
    }
}

struct CommandFailure: Error, CustomStringConvertible {
    var description: String
}

enum OpenSSL {
    @discardableResult
    static func run(_ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["openssl"] + arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw CommandFailure(description: "openssl \(arguments.joined(separator: " ")) exited with \(process.terminationStatus)")
        }
        return String(decoding: data, as: UTF8.self)
    }

    /// `openssl genpkey` into a temporary file; returns the PKCS#8 PEM text.
    static func generate(_ arguments: [String], in directory: TemporaryDirectory, name: String) throws -> String {
        try run(["genpkey"] + arguments + ["-out", directory.path(name)])
        return try directory.read(name)
    }

    static func publicPEM(of name: String, in directory: TemporaryDirectory) throws -> String {
        try run(["pkey", "-in", directory.path(name), "-pubout", "-out", directory.path(name + ".pub")])
        return try directory.read(name + ".pub")
    }

    /// Hex components of `openssl pkey -text` (RSA: modulus, privateExponent, prime1, prime2 ...).
    static func rsaComponents(of name: String, in directory: TemporaryDirectory) throws -> [String: [UInt8]] {
        let text = try run(["pkey", "-in", directory.path(name), "-noout", "-text"])
        var components: [String: [UInt8]] = [:]
        var current: String?
        var hex = ""
        func flush() {
            guard let name = current else { return }
            var bytes: [UInt8] = []
            var index = hex.startIndex
            while index < hex.endIndex {
                let next = hex.index(index, offsetBy: 2)
                bytes.append(UInt8(hex[index..<next], radix: 16)!)
                index = next
            }
            while bytes.count > 1, bytes.first == 0 { bytes.removeFirst() }
            components[name] = bytes
            current = nil
            hex = ""
        }
        for line in text.split(separator: "\n") {
            if line.hasPrefix(" ") {
                hex += line.filter(\.isHexDigit)
            } else {
                flush()
                if line.hasSuffix(":") { current = String(line.dropLast()) }
            }
        }
        flush()
        return components
    }
}

// MARK: - Configuration fixtures

/// A configuration directory with a config file and the files it names.
final class ConfigFixture {
    let directory: TemporaryDirectory
    static let signingKID = "sig-1"
    /// One active ES256 signer, the default signing_alg.
    static let signingKeys = jwks(privateJWK(TestKeys.p256, kid: signingKID, algorithm: .es256))
    static let validSecretHash = SecretHash(secret: String(repeating: "s", count: 40), salt: [UInt8](repeating: 7, count: 16)).encoded

    init() throws { directory = try TemporaryDirectory() }

    @discardableResult
    func write(_ name: String, _ text: String) throws -> String { try directory.write(name, text) }

    /// Writes `config` as `name` and loads it with `environment` (signing keys added unless given).
    func load(_ config: String, name: String = "config.json", environment: [String: String]? = nil) throws(ConfigurationError) -> Domain {
        let path: String
        do {
            path = try write(name, config)
        } catch {
            throw ConfigurationError("test fixture: cannot write \(name)")
        }
        return try DomainLoader.load(configPath: path, environment: environment ?? ["BATON_SIGNING_KEYS": Self.signingKeys])
    }

    /// Loads expecting a ConfigurationError; returns the message.
    func refusal(_ config: String, environment: [String: String]? = nil, sourceLocation: SourceLocation = #_sourceLocation) -> String {
        do {
            _ = try load(config, environment: environment)
            Issue.record("configuration loaded", sourceLocation: sourceLocation)
            return ""
        } catch {
            return error.description
        }
    }
}

/// `{"issuer": …, "token_policy": …, <extra>}` with the given extra top-level members (raw JSON text).
func minimalConfig(issuer: String = "https://sts.example", policy: String = #"{"audience":"https://api.example"}"#, _ extra: String = "") -> String {
    "{\"issuer\":\"\(issuer)\",\"token_policy\":\(policy)" + (extra.isEmpty ? "" : "," + extra) + "}"
}

/// A confidential client with a valid secret hash; `extra` adds raw members.
func secretClient(_ id: String, grants: [String] = ["client_credentials"], _ extra: String = "") -> String {
    "{\"client_id\":\"\(id)\",\"token_endpoint_auth_method\":\"client_secret_basic\",\"secret_hash\":\"\(ConfigFixture.validSecretHash)\","
        + "\"grant_types\":[" + grants.map { "\"\($0)\"" }.joined(separator: ",") + "]" + (extra.isEmpty ? "" : "," + extra) + "}"
}

/// A trusted issuer with one inline public P-256 key; `extra` adds raw members.
func inlineIssuer(_ issuer: String = "https://idp.example", _ extra: String = "") -> String {
    "{\"issuer\":\"\(issuer)\",\"jwks\":" + jwks(publicJWK(TestKeys.p256Second.publicKey, kid: "idp-1", algorithm: .es256))
        + (extra.isEmpty ? "" : "," + extra) + "}"
}

let jwtBearer = "urn:ietf:params:oauth:grant-type:jwt-bearer"
let tokenExchange = "urn:ietf:params:oauth:grant-type:token-exchange"

extension PublicKeyMaterial {
    /// The RFC 7638 members as a dictionary, for comparing two keys.
    var members: [String: String] { Dictionary(uniqueKeysWithValues: publicMembers()) }
}

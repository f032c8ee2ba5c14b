#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import ArgumentParser
import Handlers
import JOSE
import KeyLoader
import Runtime

/// `baton assertion`: mint a signed JWT by hand, for building token events and testing trust set-ups.
/// Development and test tool: the key file is a private key, so keep it out of production hosts.
struct Assertion: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Mint a signed assertion (JWT) from a private key file, for tests and hand-made events."
    )

    @Option(help: "Private key file: a JWKS or PEM, as BATON_SIGNING_KEYS accepts.")
    var key: String

    @Option(help: "Issuer (iss).")
    var iss: String

    @Option(help: "Subject (sub).")
    var sub: String

    @Option(help: "Audience (aud); repeat for several.")
    var aud: [String] = []

    @Option(help: "Lifetime in seconds (exp = iat + lifetime).")
    var lifetime: Int = 60

    @Option(help: "Extra claim as name=value; the value is read as JSON when it parses, else as a string. Repeatable.")
    var claim: [String] = []

    @Option(help: "Signing algorithm, when the key file holds keys for several.")
    var alg: String?

    @Option(help: "The kid header (default: the key's kid, or its RFC 7638 thumbprint for PEM).")
    var kid: String?

    @Option(help: "The typ header (JWT by default; oauth-id-jag+jwt for an ID-JAG).")
    var typ: String = "JWT"

    @Flag(help: "Leave out jti.")
    var noJti = false

    @Flag(help: "Leave out iat.")
    var noIat = false

    func run() async throws {
        try await runReportingFatal {
            let text = String(decoding: try readFileBytes(key), as: UTF8.self)
            let keys: KeySet
            do {
                keys = try SigningKeyLoader.load(text, source: key)
            } catch {
                throw Fatal("\(error)")
            }
            var signer: SigningKey
            if let alg {
                guard let algorithm = JWSAlgorithm(rawValue: alg), let match = keys.activeSigners[algorithm] else {
                    throw Fatal("--alg: \(key) has no private \(alg) key")
                }
                signer = match
            } else {
                guard keys.activeSigners.count == 1, let only = keys.activeSigners.values.first else {
                    throw Fatal("\(key) holds \(keys.activeSigners.count) signing keys; choose one with --alg")
                }
                signer = only
            }
            if let kid { signer = try SigningKey(kid: kid, algorithm: signer.algorithm, material: signer.material, publicMaterial: signer.publicMaterial) }
            let now = Int64(Date().timeIntervalSince1970)
            var writer = JSONWriter(capacity: 512)
            writer.beginObject()
            writer.member("iss", iss)
            writer.member("sub", sub)
            if aud.count == 1 { writer.member("aud", aud[0]) } else if !aud.isEmpty { writer.member("aud", strings: aud) }
            if !noIat { writer.member("iat", now) }
            writer.member("exp", now + Int64(lifetime))
            if !noJti { writer.member("jti", LiveEnvironment.randomTokenID()) }
            for item in claim {
                guard let equals = item.firstIndex(of: "="), equals != item.startIndex else {
                    throw Fatal("--claim: expected name=value, got \"\(item)\"")
                }
                let name = String(item[..<equals])
                let raw = String(item[item.index(after: equals)...])
                writer.member(named: name, (try? JSONParser.parse(raw)) ?? .string(raw))
            }
            writer.endObject()
            StandardStreams.print(try signer.sign(type: typ, payload: writer.bytes))
        }
    }
}

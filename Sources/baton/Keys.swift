import ArgumentParser
import Handlers
import JOSE

/// `baton keys generate`: a new private key in the form `BATON_SIGNING_KEYS` accepts.
struct Keys: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Generate and inspect signing keys.",
        subcommands: [Generate.self, Public.self]
    )

    struct Generate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print a new private signing key as a JWKS (or PEM).")

        @Option(help: "Algorithm: RS256, PS256, ES256, ES384 or EdDSA.")
        var alg: String = "ES256"

        @Option(help: "Key id (default: the RFC 7638 thumbprint).")
        var kid: String?

        @Option(help: "Output: jwks or pem. PEM carries no alg, so RSA keys load as RS256.")
        var format: String = "jwks"

        func run() async throws {
            try await runReportingFatal {
                guard let algorithm = JWSAlgorithm(rawValue: alg) else {
                    throw Fatal("--alg: unsupported algorithm \"\(alg)\" (\(JWSAlgorithm.allCases.map(\.rawValue).joined(separator: ", ")))")
                }
                let key = try PrivateKeyMaterial.generate(for: algorithm)
                switch format {
                case "jwks":
                    var writer = JSONWriter(capacity: 4096)
                    writer.beginObject()
                    writer.key("keys")
                    writer.beginArray()
                    key.writePrivateJWK(kid: kid ?? key.publicKey.thumbprint(), algorithm: algorithm, into: &writer)
                    writer.endArray()
                    writer.endObject()
                    StandardStreams.write(writer.bytes + [0x0A])
                case "pem":
                    if algorithm == .ps256 { throw Fatal("--format pem cannot carry PS256; use --format jwks") }
                    StandardStreams.write(Array(PEM.encode(key).utf8))
                default:
                    throw Fatal("--format: expected jwks or pem")
                }
            }
        }
    }

    /// `baton keys public`: the public JWKS of the keys in the environment, for a peer's trusted_issuers.
    struct Public: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the public JWKS of a domain's signing keys.")

        @OptionGroup var domainOptions: DomainOptions

        func run() async throws {
            try await runReportingFatal {
                let domain = try domainOptions.source.loadDomain()
                StandardStreams.write(domain.keys.jwksDocument() + [0x0A])
            }
        }
    }
}

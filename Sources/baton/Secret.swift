import ArgumentParser
import Handlers
import KeyLoader

/// `baton secret hash`: the `secret_hash` value for a client secret read from standard input.
struct Secret: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Hash client secrets for the configuration.", subcommands: [Hash.self])

    struct Hash: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Read a secret from standard input and print its secret_hash.")

        func run() async throws {
            try await runReportingFatal {
                var secret = String(decoding: StandardStreams.readAll(), as: UTF8.self)
                while secret.hasSuffix("\n") || secret.hasSuffix("\r") { secret.removeLast() }
                guard secret.count >= SecretHash.minimumSecretLength else {
                    throw Fatal("client secrets must be at least \(SecretHash.minimumSecretLength) characters of random data")
                }
                StandardStreams.print(SecretHash(secret: secret, salt: SecretSalt.fresh()).encoded)
            }
        }
    }
}

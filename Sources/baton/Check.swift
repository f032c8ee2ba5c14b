import ArgumentParser
import Handlers
import JOSE
import Runtime

/// `baton check`: load configuration and keys exactly as start-up does, and say what was loaded.
struct Check: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Validate a configuration and its keys, then exit.")

    @OptionGroup var domainOptions: DomainOptions

    func run() async throws {
        try await runReportingFatal {
            let source = domainOptions.source
            let domain = try source.loadDomain()
            let function = try source.endpointFunction()
            let snapshot = domain.snapshot
            StandardStreams.print("ok: \(snapshot.issuer)")
            StandardStreams.print("  signing: \(domain.signer.algorithm.rawValue) kid \(domain.signer.kid); \(domain.keys.published.count) key(s) published")
            StandardStreams.print("  serves: \(function.map(\.rawValue) ?? "token, jwks, discovery"); replay store: \(Self.describe(snapshot.replayStore))")
            StandardStreams.print("  clients: \(snapshot.clients.count), trusted issuers: \(snapshot.trustedIssuers.count), exchange targets: \(snapshot.exchangeTargets.count)")
        }
    }

    /// The store without any credential a URL may carry.
    static func describe(_ setting: ReplayStoreSetting) -> String {
        switch setting {
        case .automatic: "automatic (memory for serve, SQLite for invoke)"
        case .memory: "memory"
        case .sqlite(let path): "sqlite \(path)"
        case .postgres: "postgres"
        }
    }
}

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import ArgumentParser
import Handlers
import Runtime

/// `baton serve`: the HTTP server for containers and local chains.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Serve the token, JWKS and discovery endpoints over HTTP.")

    @OptionGroup var domainOptions: DomainOptions

    @Option(help: "Port to listen on (default: $PORT, else 8080; 0 picks a free port).")
    var port: Int?

    @Option(help: "Address to bind.")
    var host: String = "0.0.0.0"

    @Flag(name: .customLong("bench-echo"), help: .hidden)
    var benchEcho = false

    func run() async throws {
        try await runReportingFatal {
            let domain = try domainOptions.loadDomain()
            let routes = RouteTable(domain: domain, only: try domainOptions.endpointFunction())
            let environment = ProcessInfo.processInfo.environment
            let chosenPort: Int
            if let port {
                chosenPort = port
            } else if let text = environment["PORT"] {
                guard let value = Int(text), (0...65535).contains(value) else { throw Fatal("PORT: \"\(text)\" is not a port number") }
                chosenPort = value
            } else {
                chosenPort = 8080
            }
            let store = try ReplayStores.make(domain.snapshot.replayStore)
            let server = HTTPServer(
                host: host, port: chosenPort, routes: routes, environment: LiveEnvironment(replayStore: store),
                maxBodyBytes: domain.snapshot.limits.maxBodyBytes, enableBenchEcho: benchEcho
            )
            let host = self.host
            try await server.run { port in
                StandardStreams.error("listening on \(host):\(port) for \(domain.snapshot.issuer)")
            }
        }
    }
}

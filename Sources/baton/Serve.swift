import ArgumentParser
import Handlers
import ReplayStores
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
            let source = domainOptions.source
            let domain = try source.loadDomain()
            let routes = RouteTable(domain: domain, only: try source.endpointFunction())
            let environment = source.environment
            let chosenPort: Int
            if let port {
                guard (0...65535).contains(port) else { throw Fatal("--port: \"\(port)\" is not a port number") }
                chosenPort = port
            } else if let text = environment["PORT"] {
                guard let value = Int(text), (0...65535).contains(value) else { throw Fatal("PORT: \"\(text)\" is not a port number") }
                chosenPort = value
            } else {
                chosenPort = 8080
            }
            let store = try await ReplayStoreSetup.make(for: domain, adapter: .serve, environment: environment)
            let server = HTTPServer(
                host: host, port: chosenPort, routes: routes, environment: LiveEnvironment(replayStore: store),
                maxBodyBytes: domain.snapshot.limits.maxBodyBytes, enableBenchEcho: benchEcho
            )
            let host = self.host
            do {
                try await ReplayStoreSetup.prepareForServe(store)
                try await server.run { port in
                    StandardStreams.error("listening on \(host):\(port) for \(domain.snapshot.issuer)")
                }
            } catch let fatal as Fatal {
                await ReplayStoreFactory.close(store)
                throw fatal
            } catch {
                // Typically the address cannot be bound (in use, or not an address of this host).
                await ReplayStoreFactory.close(store)
                throw Fatal("cannot serve on \(host):\(chosenPort): \(error)")
            }
            // Graceful shutdown: in-flight requests have finished; release the store's connections.
            await ReplayStoreFactory.close(store)
        }
    }
}

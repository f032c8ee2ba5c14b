import ArgumentParser
import Handlers
import ReplayStores
import Runtime

/// `baton invoke EVENT`: one API Gateway payload 2.0 event in, one response out, as a function would.
struct Invoke: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run one API Gateway HTTP API (payload 2.0) event and print the response JSON."
    )

    @OptionGroup var domainOptions: DomainOptions

    @Argument(help: "Event file, or - for standard input.")
    var event: String = "-"

    func run() async throws {
        try await Invocation(domain: domainOptions.source, event: event).run()
    }
}

/// One `baton invoke`, whether ArgumentParser or `Invocation(plainArguments:)` read its arguments.
struct Invocation {
    var domain: DomainSource
    /// A file path, or - for standard input.
    var event: String

    func run() async throws {
        try await runReportingFatal {
            let loaded = try domain.loadDomain()
            let routes = RouteTable(domain: loaded, only: try domain.endpointFunction())
            let bytes = event == "-" ? StandardStreams.readAll() : try readFileBytes(event)
            // Opened only if the event needs it (a token request with a jti), closed before exiting.
            let store = try await ReplayStoreSetup.make(for: loaded, adapter: .invoke, environment: domain.environment)
            let output: [UInt8]
            do {
                output = try await InvokeAdapter.invoke(eventBytes: bytes, routes: routes, environment: LiveEnvironment(replayStore: store).make())
            } catch {
                await ReplayStoreFactory.close(store)
                throw Fatal("invalid event: \(error)")
            }
            await ReplayStoreFactory.close(store)
            StandardStreams.write(output + [0x0A])
        }
    }
}

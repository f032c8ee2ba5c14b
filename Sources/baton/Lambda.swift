import ArgumentParser
import Handlers
import ReplayStores
import Runtime

/// `baton lambda`: an AWS Lambda custom runtime (`provided.al2023`). Also what a binary named
/// `bootstrap` does when started without arguments (see `Baton.main`).
struct Lambda: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run as an AWS Lambda custom runtime on the Runtime API named by AWS_LAMBDA_RUNTIME_API.",
        discussion: """
        Configuration, keys and the replay store load once per cold start; a failure is posted to the \
        Runtime API as an init error and the process exits 1. Each invocation is an API Gateway HTTP API \
        (payload 2.0) event answered by the same handler `baton invoke` and `baton serve` run; an event \
        that is not one is posted as an invocation error and the loop goes on.
        """
    )

    @OptionGroup var domainOptions: DomainOptions

    @Option(name: .customLong("max-invocations"), help: .hidden)
    var maxInvocations: Int?

    func run() async throws {
        try await runReportingFatal {
            let source = domainOptions.source
            guard let api = source.environment[LambdaRuntimeLoop.apiVariable], !api.isEmpty else {
                throw Fatal("\(LambdaRuntimeLoop.apiVariable) is not set: `baton lambda` runs inside AWS Lambda (or `sam local`)")
            }
            let endpoint: LambdaRuntimeLoop.Endpoint
            do { endpoint = try LambdaRuntimeLoop.Endpoint(parsing: api) } catch { throw Fatal("\(error)") }
            let loop = LambdaRuntimeLoop(endpoint: endpoint, log: { StandardStreams.error($0) })
            do {
                try await loop.run(maxInvocations: maxInvocations) {
                    let domain = try source.loadDomain()
                    let routes = RouteTable(domain: domain, only: try source.endpointFunction())
                    // An execution environment lives for many invocations, like `baton serve`: the store
                    // is built once. Memory protects one environment only; see docs/deploy.md.
                    let store = try await ReplayStoreSetup.make(for: domain, adapter: .serve, environment: source.environment)
                    try await ReplayStoreSetup.prepareForServe(store)
                    if store is MemoryReplayStore {
                        StandardStreams.error(
                            "warning: replay store memory: protects this execution environment only; set BATON_REPLAY_STORE=postgres://... to share it"
                        )
                    }
                    let live = LiveEnvironment(replayStore: store)
                    return LambdaRuntimeLoop.eventHandler(routes: routes, environment: { live.make() })
                }
            } catch is LambdaRuntimeLoop.InitializationFailed {
                // Already logged by the loop, and posted to init/error when the Runtime API took it.
                throw ExitCode(1)
            } catch let failure as LambdaRuntimeLoop.RuntimeAPIError {
                throw Fatal("runtime API: \(failure.description)")
            }
        }
    }
}

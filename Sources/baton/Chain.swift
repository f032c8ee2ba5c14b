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

/// `baton chain`: the whole cross-domain chain on the bundled example domains, step by step, showing
/// every request and every token that crosses a boundary.
struct Chain: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the identity-chaining demo on the example domains (development keys only).",
        discussion: """
        Plain chain: IdP assertion -> domain A jwt-bearer -> domain A token exchange (audience B) ->
        domain B jwt-bearer -> verify with domain B's JWKS. With --id-jag: IdP ID token -> domain A token
        exchange for an ID-JAG -> domain B redeems it. With --over-http, the requests go to two running
        `baton serve` processes instead of this process.
        """
    )

    @Option(help: "Directory holding domain-a.json, domain-b.json and keys/.")
    var examples: String = "examples"

    @Flag(help: "Run the ID-JAG variant (cross-app access) instead of the chaining grant.")
    var idJag = false

    @Option(name: .customLong("over-http"), parsing: .upToNextOption, help: "Base URLs of domain A and domain B servers, e.g. http://127.0.0.1:18081 http://127.0.0.1:18082.")
    var overHTTP: [String] = []

    func run() async throws {
        try await runReportingFatal {
            // Development-only secrets matching the secret_hash values in the example configurations.
            let secretA = ProcessInfo.processInfo.environment["BATON_DEMO_SECRET_A"] ?? "dev-only-secret-agent-app-at-a-0123456789"
            let secretB = ProcessInfo.processInfo.environment["BATON_DEMO_SECRET_B"] ?? "dev-only-secret-agent-app-at-b-0123456789"
            let domainA = try load("\(examples)/domain-a.json")
            let domainB = try load("\(examples)/domain-b.json")
            let transport: any ChainTransport
            if overHTTP.isEmpty {
                transport = InProcessTransport(
                    routesA: RouteTable(domain: domainA), routesB: RouteTable(domain: domainB),
                    environmentA: LiveEnvironment(replayStore: MemoryReplayStore()),
                    environmentB: LiveEnvironment(replayStore: MemoryReplayStore())
                )
            } else {
                guard overHTTP.count == 2 else { throw Fatal("--over-http takes two base URLs: domain A's, then domain B's") }
                transport = HTTPTransport(a: try HTTPTransport.parse(overHTTP[0]), b: try HTTPTransport.parse(overHTTP[1]))
            }
            let demo = ChainDemo(
                transport: transport, domainA: domainA.snapshot, domainB: domainB.snapshot,
                idpKeyFile: "\(examples)/keys/idp.DEV-ONLY.private.pem", clientA: ("agent-app", secretA), clientB: ("agent-app-at-b", secretB)
            )
            if idJag { try await demo.runIDJAG() } else { try await demo.runChainingGrant() }
        }
    }

    private func load(_ path: String) throws -> Domain {
        do {
            // The demo always runs on the example keys, whatever the environment says.
            var environment = ProcessInfo.processInfo.environment
            environment[DomainLoader.keysVariable] = nil
            environment[DomainLoader.keysFileVariable] = nil
            environment["BATON_REPLAY_STORE"] = nil
            return try DomainLoader.load(configPath: path, environment: environment)
        } catch {
            throw Fatal("\(error)")
        }
    }
}

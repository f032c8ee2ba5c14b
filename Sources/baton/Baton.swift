import ArgumentParser
import CRuntimeSupport
import Runtime

@main
struct Baton: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "baton",
        abstract: "A security token service for identity and authorization chaining across trust domains.",
        subcommands: [
            Chain.self, Invoke.self, Serve.self, Check.self, Keys.self, Secret.self, Assertion.self, Lambda.self,
        ]
    )

    /// A Lambda custom runtime starts the file named `bootstrap` without arguments: the same binary under
    /// that name is `baton lambda`. A plain `baton invoke` bypasses ArgumentParser and the async main's
    /// threads (see `Invocation(plainArguments:)`). Everything else goes to ArgumentParser as usual.
    static func main() async {
        // Before anything else grows the resident set, so its peak does not include the table either.
        _ = baton_release_relocation_table(nil)
        let arguments = Array(CommandLine.arguments.dropFirst())
        if let invocation = Invocation(plainArguments: arguments) { invocation.runOnMainThreadAndExit() }
        if arguments.first == "serve" { HTTPServer.runTasksOnEventLoops() }
        let name = CommandLine.arguments.first.map { $0.split(separator: "/").last.map(String.init) ?? $0 } ?? ""
        await main(arguments.isEmpty && name == "bootstrap" ? ["lambda"] : arguments)
    }
}

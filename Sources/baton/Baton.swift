import ArgumentParser

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
    /// that name is `baton lambda`. Everything else goes to ArgumentParser as usual.
    static func main() async {
        let arguments = Array(CommandLine.arguments.dropFirst())
        let name = CommandLine.arguments.first.map { $0.split(separator: "/").last.map(String.init) ?? $0 } ?? ""
        await main(arguments.isEmpty && name == "bootstrap" ? ["lambda"] : arguments)
    }
}

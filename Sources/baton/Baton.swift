import ArgumentParser

@main
struct Baton: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "baton",
        abstract: "A security token service for identity and authorization chaining across trust domains.",
        subcommands: [
            Chain.self, Invoke.self, Serve.self, Check.self, Keys.self, Secret.self, Assertion.self,
        ]
    )
}

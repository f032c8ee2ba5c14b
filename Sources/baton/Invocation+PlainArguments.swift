extension Invocation {
    /// `invoke [--config PATH] [--function NAME] [EVENT]`, options also as `--name=value`, each at most
    /// once. A cold `baton invoke` exists to answer one event, and ArgumentParser's reflection over the
    /// command tree costs it several milliseconds; so these plain forms are read here, and anything else
    /// (help, a completion request, a mistake) returns nil for ArgumentParser, which answers as it always has.
    init?(plainArguments arguments: [String]) {
        guard arguments.first == "invoke" else { return nil }
        var config: String?
        var function: String?
        var event: String?
        var rest = arguments.dropFirst()
        while let argument = rest.popFirst() {
            guard argument.hasPrefix("--") else {
                guard event == nil, argument == "-" || !argument.hasPrefix("-") else { return nil }
                event = argument
                continue
            }
            let name: Substring
            let value: String
            if let equals = argument.firstIndex(of: "=") {
                name = argument[..<equals]
                value = String(argument[argument.index(after: equals)...])
            } else {
                guard let next = rest.popFirst() else { return nil }
                name = argument[...]
                value = next
            }
            guard !value.isEmpty, !value.hasPrefix("-") else { return nil }
            switch name {
            case "--config" where config == nil: config = value
            case "--function" where function == nil: function = value
            default: return nil
            }
        }
        self.init(domain: DomainSource(config: config, function: function), event: event ?? "-")
    }
}

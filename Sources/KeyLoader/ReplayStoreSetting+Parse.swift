import Handlers

extension ReplayStoreSetting {
    /// `memory:`, `sqlite:/path/replay.db`, `postgres://user@host:port/db`. The URL may carry a password;
    /// messages never repeat it.
    static func parse(_ text: String, field: String) throws(ConfigurationError) -> ReplayStoreSetting {
        if text == "memory:" || text == "memory" { return .memory }
        if text.hasPrefix("sqlite:") {
            let path = String(text.dropFirst("sqlite:".count))
            guard !path.isEmpty else { throw ConfigurationError("\(field): sqlite: needs a file path, e.g. sqlite:/var/lib/baton/replay.db") }
            return .sqlite(path: path)
        }
        if text.hasPrefix("postgres://") || text.hasPrefix("postgresql://") { return .postgres(url: text) }
        let scheme = text.prefix { $0 != ":" }
        throw ConfigurationError("\(field): unknown replay store \"\(scheme)\" (memory:, sqlite:PATH, postgres://…)")
    }
}

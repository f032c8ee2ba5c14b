import Handlers
import JOSE

/// The one entry point adapters call at start-up: configuration file + environment -> `Domain`.
/// Every failure is a `ConfigurationError` whose message names the variable or field; none prints a secret.
public enum DomainLoader {
    public static let configVariable = "BATON_CONFIG"
    public static let keysVariable = "BATON_SIGNING_KEYS"
    public static let keysFileVariable = "BATON_SIGNING_KEYS_FILE"

    public static func load(configPath: String?, environment: [String: String]) throws(ConfigurationError) -> Domain {
        guard let path = configPath ?? environment[configVariable] else {
            throw ConfigurationError("no configuration: pass --config PATH or set \(configVariable)")
        }
        let text: String
        do {
            text = try readText(path)
        } catch {
            throw ConfigurationError("cannot read the configuration file \(path)")
        }
        let directory = path.contains("/") ? String(path[..<path.lastIndex(of: "/")!]) : "."
        let loader = SnapshotLoader(readFile: readText, environment: environment, baseDirectory: directory)
        let loaded = try loader.load(text)
        let keys = try signingKeys(environment: environment, configFile: loaded.signingKeysFile)
        return try domain(snapshot: loaded.snapshot, keys: keys)
    }

    /// Keys come from the environment when it names any, else from the config's `signing_keys_file`
    /// (development only): the environment always wins.
    static func signingKeys(environment: [String: String], configFile: String?) throws(ConfigurationError) -> KeySet {
        let inline = environment[keysVariable].flatMap { $0.isEmpty ? nil : $0 }
        let file = environment[keysFileVariable].flatMap { $0.isEmpty ? nil : $0 }
        switch (inline, file) {
        case (.some, .some):
            throw ConfigurationError("set only one of \(keysVariable) and \(keysFileVariable)")
        case (let text?, nil):
            return try SigningKeyLoader.load(text, source: keysVariable)
        case (nil, let path?):
            return try SigningKeyLoader.load(try read(path, source: keysFileVariable), source: "\(keysFileVariable) (\(path))")
        case (nil, nil):
            guard let configFile else {
                throw ConfigurationError("no signing keys: set \(keysVariable) or \(keysFileVariable) (`baton keys generate` makes one)")
            }
            return try SigningKeyLoader.load(try read(configFile, source: "signing_keys_file"), source: "signing_keys_file (\(configFile))")
        }
    }

    static func domain(snapshot: Snapshot, keys: KeySet) throws(ConfigurationError) -> Domain {
        let algorithm = snapshot.tokenPolicy.signingAlgorithm
        guard keys.activeSigners[algorithm] != nil else {
            let hasPublic = keys.published.contains { $0.algorithm == algorithm }
            throw ConfigurationError(
                "token_policy.signing_alg: no private \(algorithm.rawValue) key to sign with"
                    + (hasPublic ? " (the \(algorithm.rawValue) keys loaded are public or verify-only)" : "")
            )
        }
        return try Domain(snapshot: snapshot, keys: keys)
    }

    private static func read(_ path: String, source: String) throws(ConfigurationError) -> String {
        do {
            return try readText(path)
        } catch {
            throw ConfigurationError("\(source): cannot read \(path)")
        }
    }

    static func readText(_ path: String) throws -> String {
        guard let text = try LocalFile.text(atPath: path) else { throw ConfigurationError("\(path) is not UTF-8") }
        return text
    }
}

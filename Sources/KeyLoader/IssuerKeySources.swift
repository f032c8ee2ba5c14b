import Handlers
import JOSE

/// Where a trusted issuer's keys come from. Each source resolves to verification keys at load time, so
/// the request path never reads a file. Fetching a `jwks_uri` (cached, refreshed on an unknown kid) is a
/// later source behind the same seam.
protocol IssuerKeySource {
    func keys(allowedAlgorithms: Set<JWSAlgorithm>?, loader: SnapshotLoader) throws(ConfigurationError) -> [VerificationKey]
}

/// `"jwks": {"keys": [...]}` inline in the configuration.
struct InlineJWKS: IssuerKeySource {
    var document: JSONValue
    var path: String

    func keys(allowedAlgorithms: Set<JWSAlgorithm>?, loader: SnapshotLoader) throws(ConfigurationError) -> [VerificationKey] {
        let parsed = try KeyDocument.parseJWKS(document, source: path)
        return try KeyDocument.verificationKeys(parsed, allowedAlgorithms: allowedAlgorithms, source: path)
    }
}

/// `"jwks_file": "keys/idp.jwks.json"`, relative to the configuration.
struct JWKSFile: IssuerKeySource {
    var file: String
    var path: String

    func keys(allowedAlgorithms: Set<JWSAlgorithm>?, loader: SnapshotLoader) throws(ConfigurationError) -> [VerificationKey] {
        let text = try loader.read(loader.resolve(file), field: path)
        let parsed = try KeyDocument.parse(text, source: "\(path) (\(file))")
        return try KeyDocument.verificationKeys(parsed, allowedAlgorithms: allowedAlgorithms, source: "\(path) (\(file))")
    }
}

/// `"pem_file": "keys/idp.pem", "kid": "2024-1"`: one public key with a fixed kid. A token without a kid
/// still verifies when it is the issuer's only key for the algorithm.
struct PEMFile: IssuerKeySource {
    var file: String
    var kid: String?
    var path: String

    func keys(allowedAlgorithms: Set<JWSAlgorithm>?, loader: SnapshotLoader) throws(ConfigurationError) -> [VerificationKey] {
        let text = try loader.read(loader.resolve(file), field: path)
        let parsed = try KeyDocument.parse(text, source: "\(path) (\(file))")
        guard parsed.count == 1 else { throw ConfigurationError("\(path): \(file) must hold exactly one public key, found \(parsed.count)") }
        return try KeyDocument.verificationKeys(parsed, allowedAlgorithms: allowedAlgorithms, fixedKid: kid, source: "\(path) (\(file))")
    }
}

enum IssuerKeySources {
    /// Exactly one of `jwks`, `jwks_file`, `pem_file` per issuer.
    static func load(_ reader: ConfigReader, allowedAlgorithms: Set<JWSAlgorithm>?, loader: SnapshotLoader) throws(ConfigurationError) -> [VerificationKey] {
        var sources: [any IssuerKeySource] = []
        if let document = reader.value("jwks") { sources.append(InlineJWKS(document: document, path: reader.childPath("jwks"))) }
        if let file = try reader.string("jwks_file") { sources.append(JWKSFile(file: file, path: reader.childPath("jwks_file"))) }
        let kid = try reader.string("kid")
        if let file = try reader.string("pem_file") {
            sources.append(PEMFile(file: file, kid: kid, path: reader.childPath("pem_file")))
        } else if kid != nil {
            throw reader.error("kid", "a fixed kid goes with \"pem_file\"")
        }
        if reader.has("jwks_uri") {
            _ = reader.value("jwks_uri")
            throw reader.error("jwks_uri", "fetching keys from a URL is not supported yet; download the JWKS and name it with \"jwks_file\"")
        }
        guard sources.count == 1, let source = sources.first else {
            throw reader.error("jwks", sources.isEmpty ? "an issuer needs keys: \"jwks\", \"jwks_file\" or \"pem_file\"" : "use only one of \"jwks\", \"jwks_file\", \"pem_file\"")
        }
        return try source.keys(allowedAlgorithms: allowedAlgorithms, loader: loader)
    }
}

extension SnapshotLoader {
    func read(_ file: String, field: String) throws(ConfigurationError) -> String {
        do {
            return try readFile(file)
        } catch {
            throw ConfigurationError("\(field): cannot read \(file)")
        }
    }
}

import Handlers
import JOSE

/// Reads one domain's JSON configuration into a validated `Snapshot`. Every message starts with the
/// field path (`clients[2].grant_types[0]: unknown grant type "foo"`).
public struct SnapshotLoader {
    /// Reads files named by the configuration (relative to its directory) and environment variables.
    public var readFile: (String) throws -> String
    public var environment: [String: String]
    /// Directory of the configuration file, for relative paths.
    public var baseDirectory: String

    public init(readFile: @escaping (String) throws -> String, environment: [String: String], baseDirectory: String) {
        self.readFile = readFile
        self.environment = environment
        self.baseDirectory = baseDirectory
    }

    public struct Loaded {
        public var snapshot: Snapshot
        /// `signing_keys_file` from the config, resolved; used only when the environment gives no keys.
        public var signingKeysFile: String?
    }

    public func load(_ text: String) throws(ConfigurationError) -> Loaded {
        let document: JSONValue
        do {
            document = try JSONParser.parse(text)
        } catch {
            throw ConfigurationError("the configuration is not valid JSON: \(error.description)")
        }
        let root = try ConfigReader(document, path: "")
        _ = root.value("$schema")
        _ = root.value("description")

        let issuer = try root.requiredString("issuer")
        try URLRules.check(issuer, field: "issuer")
        let tokenEndpoint = try root.string("token_endpoint")
        if let tokenEndpoint { try URLRules.check(tokenEndpoint, field: "token_endpoint") }
        let jwksURI = try root.string("jwks_uri")
        if let jwksURI { try URLRules.check(jwksURI, field: "jwks_uri") }
        let signingKeysFile = try root.string("signing_keys_file").map(resolve)

        guard let policyReader = try root.object("token_policy") else { throw root.error("token_policy", "is required") }
        let policy = try tokenPolicy(policyReader)
        let limits = try self.limits(try root.object("limits"))

        let provisional = Snapshot(issuer: issuer, tokenEndpoint: tokenEndpoint, jwksURI: jwksURI, tokenPolicy: policy)
        var issuers: [TrustedIssuer] = []
        for reader in try root.objects("trusted_issuers") {
            let parsed = try trustedIssuer(reader, defaultAudiences: [issuer, provisional.tokenEndpoint])
            guard !issuers.contains(where: { $0.issuer == parsed.issuer }) else {
                throw reader.error("issuer", "\"\(parsed.issuer)\" is configured twice")
            }
            issuers.append(parsed)
        }
        var clients: [ClientConfig] = []
        for reader in try root.objects("clients") {
            let parsed = try client(reader, knownIssuers: Set(issuers.map(\.issuer)))
            guard !clients.contains(where: { $0.clientID == parsed.clientID }) else {
                throw reader.error("client_id", "\"\(parsed.clientID)\" is configured twice")
            }
            clients.append(parsed)
        }
        var targets: [ExchangeTarget] = []
        for reader in try root.objects("exchange_targets") {
            let parsed = try exchangeTarget(reader, clients: clients)
            for other in targets {
                if let audience = parsed.audience, audience == other.audience {
                    throw reader.error("audience", "\"\(audience)\" already selects target \"\(other.name)\"")
                }
                if let shared = parsed.resources.first(where: other.resources.contains) {
                    throw reader.error("resources", "\"\(shared)\" already selects target \"\(other.name)\"")
                }
                if parsed.name == other.name { throw reader.error("name", "\"\(parsed.name)\" is used twice") }
            }
            targets.append(parsed)
        }
        let replayStore = try self.replayStore(try root.string("replay_store"))
        try root.finish()

        let snapshot = Snapshot(
            issuer: issuer, tokenEndpoint: tokenEndpoint, jwksURI: jwksURI, tokenPolicy: policy, clients: clients,
            trustedIssuers: issuers, exchangeTargets: targets, replayStore: replayStore, limits: limits
        )
        return Loaded(snapshot: snapshot, signingKeysFile: signingKeysFile)
    }

    func resolve(_ path: String) -> String {
        path.hasPrefix("/") ? path : baseDirectory + "/" + path
    }

    // MARK: - Sections

    func tokenPolicy(_ reader: ConfigReader) throws(ConfigurationError) -> TokenPolicy {
        let lifetime = try reader.integer("access_token_lifetime", default: 300, range: 1...86_400)
        let algorithmName = try reader.string("signing_alg") ?? "ES256"
        guard let algorithm = JWSAlgorithm(rawValue: algorithmName) else {
            throw reader.error("signing_alg", "unsupported algorithm \"\(algorithmName)\" (supported: \(JWSAlgorithm.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        guard let audience = try reader.strings("audience", allowSingle: true), !audience.isEmpty else {
            throw reader.error("audience", "is required: the default \"aud\" of access tokens")
        }
        try reader.finish()
        return TokenPolicy(accessTokenLifetime: lifetime, signingAlgorithm: algorithm, audience: audience)
    }

    func limits(_ reader: ConfigReader?) throws(ConfigurationError) -> Limits {
        guard let reader else { return Limits() }
        let body = try reader.integer("max_body_bytes", default: 64 * 1024, range: 1024...1_048_576)
        let token = try reader.integer("max_token_bytes", default: 16 * 1024, range: 1024...262_144)
        try reader.finish()
        return Limits(maxBodyBytes: Int(body), maxTokenBytes: Int(token))
    }

    func replayStore(_ value: String?) throws(ConfigurationError) -> ReplayStoreSetting {
        guard let setting = environment["BATON_REPLAY_STORE"] ?? value else { return .automatic }
        let field = environment["BATON_REPLAY_STORE"] != nil ? "BATON_REPLAY_STORE" : "replay_store"
        return try ReplayStoreSetting.parse(setting, field: field)
    }

    func trustedIssuer(_ reader: ConfigReader, defaultAudiences: [String]) throws(ConfigurationError) -> TrustedIssuer {
        let issuer = try reader.requiredString("issuer")
        var allowed: Set<JWSAlgorithm>?
        if let names = try reader.strings("algorithms") {
            var set = Set<JWSAlgorithm>()
            for (index, name) in names.enumerated() {
                guard let algorithm = JWSAlgorithm(rawValue: name) else {
                    throw reader.error("algorithms[\(index)]", "unsupported algorithm \"\(name)\" (asymmetric only: \(JWSAlgorithm.allCases.map(\.rawValue).joined(separator: ", ")))")
                }
                set.insert(algorithm)
            }
            guard !set.isEmpty else { throw reader.error("algorithms", "must list at least one algorithm") }
            allowed = set
        }
        let keys = try IssuerKeySources.load(reader, allowedAlgorithms: allowed, loader: self)
        guard !keys.isEmpty else { throw reader.error("keys", "the key source holds no keys") }
        let audiences = try reader.strings("audiences") ?? defaultAudiences
        guard !audiences.isEmpty else { throw reader.error("audiences", "must list at least one audience") }
        let maxLifetime = try reader.integer("max_assertion_lifetime", default: 300, range: 1...86_400)
        let skew = try reader.integer("clock_skew", default: 30, range: 0...300)
        let reuse = try reader.bool("allow_jti_reuse", default: false)
        let cap = try reader.bool("cap_token_expiry", default: true)
        let subject = try subjectMapping(try reader.object("subject"))
        let pattern = try self.pattern(reader, "subject_pattern")
        let rules = try claimRules(reader)
        let scopes = try reader.strings("scopes").map(Set.init)
        var profiles = Set<TrustedIssuer.GrantProfile>()
        for (index, name) in (try reader.strings("grant_profiles") ?? TrustedIssuer.GrantProfile.allCases.map(\.rawValue)).enumerated() {
            guard let profile = TrustedIssuer.GrantProfile(rawValue: name) else {
                throw reader.error("grant_profiles[\(index)]", "unknown grant profile \"\(name)\" (jwt, id-jag)")
            }
            profiles.insert(profile)
        }
        guard !profiles.isEmpty else { throw reader.error("grant_profiles", "must list at least one profile") }
        try reader.finish()
        return TrustedIssuer(
            issuer: issuer, keys: keys, allowedAlgorithms: allowed ?? Set(keys.map(\.algorithm)), audiences: audiences,
            maxAssertionLifetime: maxLifetime, clockSkew: skew, allowJTIReuse: reuse, capTokenExpiryAtAssertion: cap,
            subjectMapping: subject, subjectPattern: pattern, claimRules: rules, allowedScopes: scopes,
            grantProfiles: profiles
        )
    }

    func pattern(_ reader: ConfigReader, _ name: String) throws(ConfigurationError) -> Pattern? {
        guard let source = try reader.string(name) else { return nil }
        do {
            return try Pattern(source)
        } catch {
            throw reader.error(name, "not a valid regular expression")
        }
    }

    func subjectMapping(_ reader: ConfigReader?) throws(ConfigurationError) -> SubjectMapping {
        guard let reader else { return .passthrough }
        let mode = try reader.requiredString("mode")
        let mapping: SubjectMapping
        switch mode {
        case "passthrough":
            mapping = .passthrough
        case "qualified":
            mapping = .qualified(separator: try reader.string("separator") ?? "#")
        case "pairwise":
            let variable = try reader.requiredString("secret_env")
            guard let secret = environment[variable] else {
                throw reader.error("secret_env", "environment variable \(variable) is not set")
            }
            guard secret.utf8.count >= 32 else {
                throw reader.error("secret_env", "environment variable \(variable) must hold at least 32 bytes")
            }
            mapping = .pairwise(key: SymmetricKeyBytes(Array(secret.utf8)))
        case "linked":
            guard let links = reader.value("links")?.objectValue else { throw reader.error("links", "is required: an object mapping foreign subjects to local ones") }
            var table: [String: String] = [:]
            for member in links.members {
                guard let local = member.value.stringValue, !local.isEmpty else {
                    throw reader.error("links.\(member.name)", "expected a non-empty string")
                }
                table[member.name] = local
            }
            mapping = .linked(table)
        default:
            throw reader.error("mode", "unknown subject mode \"\(mode)\" (passthrough, qualified, pairwise, linked)")
        }
        try reader.finish()
        return mapping
    }

    func claimRules(_ reader: ConfigReader) throws(ConfigurationError) -> ClaimRules {
        var required: [ClaimCondition] = []
        for condition in try reader.objects("required_claims") {
            let claim = try condition.requiredString("claim")
            let hasEquals = condition.has("equals")
            let hasPattern = condition.has("pattern")
            if hasEquals && hasPattern { throw condition.error("pattern", "use either \"equals\" or \"pattern\", not both") }
            let requirement: ClaimCondition.Requirement
            if hasEquals {
                requirement = .equals(condition.value("equals")!)
            } else if let pattern = try pattern(condition, "pattern") {
                requirement = .matches(pattern)
            } else {
                requirement = .present
            }
            try condition.finish()
            required.append(ClaimCondition(claim: claim, requirement: requirement))
        }
        var copied: [ClaimCopy] = []
        if let value = reader.value("copy_claims") {
            guard let items = value.arrayValue else { throw reader.error("copy_claims", "expected an array") }
            for (index, item) in items.enumerated() {
                let path = "copy_claims[\(index)]"
                let copy: ClaimCopy
                if let name = item.stringValue {
                    guard !name.isEmpty else { throw reader.error(path, "must not be empty") }
                    copy = ClaimCopy(from: name)
                } else {
                    let entry = try ConfigReader(item, path: reader.childPath(path))
                    copy = ClaimCopy(from: try entry.requiredString("from"), to: try entry.string("to"))
                    try entry.finish()
                }
                guard !ClaimRules.reservedNames.contains(copy.to) else {
                    throw reader.error(path, "\"\(copy.to)\" is set by Baton itself and cannot be copied into")
                }
                guard !copied.contains(where: { $0.to == copy.to }) else { throw reader.error(path, "\"\(copy.to)\" is written twice") }
                copied.append(copy)
            }
        }
        return ClaimRules(required: required, copied: copied)
    }

    func client(_ reader: ConfigReader, knownIssuers: Set<String>) throws(ConfigurationError) -> ClientConfig {
        let clientID = try reader.requiredString("client_id")
        let methodName = try reader.requiredString("token_endpoint_auth_method")
        guard let method = ClientAuthMethod(rawValue: methodName) else {
            throw reader.error("token_endpoint_auth_method", "unknown method \"\(methodName)\" (\(ClientAuthMethod.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        let credential = try clientCredential(reader, method: method)

        guard let grantNames = try reader.strings("grant_types"), !grantNames.isEmpty else {
            throw reader.error("grant_types", "is required: list the grants this client may use")
        }
        var grants = Set<GrantType>()
        for (index, name) in grantNames.enumerated() {
            guard let grant = GrantType(rawValue: name) else {
                throw reader.error("grant_types[\(index)]", "unknown grant type \"\(name)\"")
            }
            grants.insert(grant)
        }
        let scopes = try reader.strings("scopes") ?? []
        for (index, scope) in scopes.enumerated() where !ScopeRules.isValidToken(Substring(scope)) {
            throw reader.error("scopes[\(index)]", "\"\(scope)\" has characters a scope may not contain")
        }
        let defaults = try reader.strings("default_scopes") ?? []
        for (index, scope) in defaults.enumerated() where !scopes.contains(scope) {
            throw reader.error("default_scopes[\(index)]", "\"\(scope)\" is not in this client's scopes")
        }
        let issuers = try reader.strings("trusted_issuers") ?? []
        for (index, issuer) in issuers.enumerated() where !knownIssuers.contains(issuer) {
            throw reader.error("trusted_issuers[\(index)]", "\"\(issuer)\" is not configured in trusted_issuers")
        }
        let audience = try reader.strings("access_token_audience", allowSingle: true)
        let allowUnauthenticated = try reader.bool("allow_unauthenticated_grants", default: false)
        if method == .none, !allowUnauthenticated, let grant = grants.first(where: { $0 == .jwtBearer || $0 == .tokenExchange }) {
            throw reader.error("grant_types", "a public client may use \(grant.rawValue) only with \"allow_unauthenticated_grants\": true")
        }
        if method == .none, grants.contains(.clientCredentials) {
            throw reader.error("grant_types", "a public client cannot use client_credentials")
        }
        try reader.finish()
        return ClientConfig(
            clientID: clientID, authMethod: method, credential: credential, grantTypes: grants,
            allowedScopes: Set(scopes), defaultScopes: defaults, allowedIssuers: Set(issuers),
            accessTokenAudience: audience, allowUnauthenticatedGrants: allowUnauthenticated
        )
    }

    func clientCredential(_ reader: ConfigReader, method: ClientAuthMethod) throws(ConfigurationError) -> ClientConfig.Credential {
        let hash = try reader.string("secret_hash")
        let variable = try reader.string("secret_env")
        let jwks = reader.value("jwks")
        switch method {
        case .clientSecretBasic, .clientSecretPost:
            guard jwks == nil else { throw reader.error("jwks", "only private_key_jwt clients have keys") }
            switch (hash, variable) {
            case (let hash?, nil):
                guard let parsed = SecretHash(encoded: hash) else {
                    throw reader.error("secret_hash", "expected sha256$<salt>$<digest> as printed by `baton secret hash`")
                }
                return .secret(parsed)
            case (nil, let variable?):
                guard let secret = environment[variable] else { throw reader.error("secret_env", "environment variable \(variable) is not set") }
                guard secret.count >= SecretHash.minimumSecretLength else {
                    throw reader.error("secret_env", "environment variable \(variable) must hold at least \(SecretHash.minimumSecretLength) characters")
                }
                return .secret(SecretHash(secret: secret, salt: SecretSalt.fresh()))
            case (nil, nil):
                throw reader.error("secret_hash", "a \(method.rawValue) client needs \"secret_hash\" or \"secret_env\"")
            case (.some, .some):
                throw reader.error("secret_env", "use either \"secret_hash\" or \"secret_env\", not both")
            }
        case .privateKeyJWT:
            guard hash == nil, variable == nil else { throw reader.error("secret_hash", "a private_key_jwt client has keys, not a secret") }
            guard let jwks else { throw reader.error("jwks", "a private_key_jwt client needs its public keys as a JWKS") }
            let keys = try KeyDocument.parseJWKS(jwks, source: reader.childPath("jwks"))
            let verification = try KeyDocument.verificationKeys(keys, allowedAlgorithms: nil, source: reader.childPath("jwks"))
            guard !verification.isEmpty else { throw reader.error("jwks", "holds no keys") }
            return .keys(verification)
        case .none:
            guard hash == nil, variable == nil, jwks == nil else { throw reader.error("token_endpoint_auth_method", "a public client (none) has no credentials") }
            return .none
        }
    }

    func exchangeTarget(_ reader: ConfigReader, clients: [ClientConfig]) throws(ConfigurationError) -> ExchangeTarget {
        let name = try reader.requiredString("name")
        let audience = try reader.string("audience")
        let resources = try reader.strings("resources") ?? []
        for (index, resource) in resources.enumerated() where !ExchangeTargetResolver.isAbsoluteURIWithoutFragment(resource) {
            throw reader.error("resources[\(index)]", "\"\(resource)\" is not an absolute URI without a fragment")
        }
        guard audience != nil || !resources.isEmpty else {
            throw reader.error("audience", "a target needs an \"audience\" or at least one of \"resources\"")
        }
        let issuer = try reader.requiredString("issuer")
        let allowedClients = try reader.strings("clients") ?? []
        let known = Set(clients.map(\.clientID))
        for (index, client) in allowedClients.enumerated() where !known.contains(client) {
            throw reader.error("clients[\(index)]", "\"\(client)\" is not a configured client")
        }
        var kinds: [ExchangeTarget.TokenKind] = []
        for (index, kindName) in (try reader.strings("token_types") ?? ["jwt"]).enumerated() {
            guard let kind = ExchangeTarget.TokenKind.allCases.first(where: { $0.shortName == kindName || $0.rawValue == kindName }) else {
                throw reader.error("token_types[\(index)]", "unknown token type \"\(kindName)\" (jwt, id-jag, access_token)")
            }
            kinds.append(kind)
        }
        guard !kinds.isEmpty else { throw reader.error("token_types", "must list at least one token type") }
        let lifetime = try reader.integer("lifetime", default: 60, range: 1...3600)
        let subject = try subjectMapping(try reader.object("subject"))
        let rules = try claimRules(reader)
        let scopes = try reader.strings("scopes") ?? []
        var clientIDs: [String: String] = [:]
        if let mapping = reader.value("client_ids") {
            guard let object = mapping.objectValue else { throw reader.error("client_ids", "expected an object mapping local client ids to ids at the target") }
            for member in object.members {
                guard known.contains(member.name) else { throw reader.error("client_ids.\(member.name)", "not a configured client") }
                guard let remote = member.value.stringValue, !remote.isEmpty else { throw reader.error("client_ids.\(member.name)", "expected a non-empty string") }
                clientIDs[member.name] = remote
            }
        }
        if kinds.contains(.idJAG) {
            for client in allowedClients where clientIDs[client] == nil {
                throw reader.error("client_ids", "an id-jag target needs the target's client id for \"\(client)\"")
            }
        }
        try reader.finish()
        return ExchangeTarget(
            name: name, audience: audience, resources: resources, issuer: issuer, allowedClients: Set(allowedClients),
            tokenKinds: kinds, lifetime: lifetime, subjectMapping: subject, claimRules: rules, allowedScopes: Set(scopes),
            clientIDs: clientIDs
        )
    }
}

import Handlers
import JOSE
import Runtime

/// One signature operation a grant performs.
struct CryptoOp: Hashable {
    enum Kind: String { case sign, verify }
    var kind: Kind
    var algorithm: JWSAlgorithm
    var label: String { "\(kind.rawValue) \(algorithm.rawValue)" }
}

/// One benchmarked request shape: what the client sends and which signatures the server computes.
struct Scenario {
    enum Kind: String {
        case clientCredentials = "client_credentials"
        case clientCredentialsKeyJWT = "client_credentials+private_key_jwt"
        case jwtBearer = "jwt-bearer"
        case tokenExchange = "token-exchange"
        case jwks
        case discovery
        case echo
    }

    var kind: Kind
    /// The domain's signing algorithm (which `domain-<ALG>.json` serves it).
    var tokenAlgorithm: JWSAlgorithm
    /// jwt-bearer: the upstream assertion's algorithm.
    var assertionAlgorithm: JWSAlgorithm?

    var name: String {
        switch kind {
        case .clientCredentials: "client_credentials \(tokenAlgorithm.rawValue)"
        case .clientCredentialsKeyJWT: "client_credentials pk_jwt ES256 -> \(tokenAlgorithm.rawValue)"
        case .jwtBearer: "jwt-bearer \(assertionAlgorithm!.rawValue) -> \(tokenAlgorithm.rawValue)"
        case .tokenExchange: "token-exchange \(tokenAlgorithm.rawValue) -> \(tokenAlgorithm.rawValue)"
        case .jwks: "JWKS"
        case .discovery: "discovery"
        case .echo: "HTTP echo (floor)"
        }
    }

    var id: String {
        name.lowercased().replacingOccurrences(" -> ", "-").replacingOccurrences(" ", "-").replacingOccurrences("(", "").replacingOccurrences(")", "")
    }

    /// The signatures the server computes: the ceiling is 1 / sum(1 / rate).
    var operations: [CryptoOp] {
        switch kind {
        case .clientCredentials: [CryptoOp(kind: .sign, algorithm: tokenAlgorithm)]
        case .clientCredentialsKeyJWT: [CryptoOp(kind: .verify, algorithm: .es256), CryptoOp(kind: .sign, algorithm: tokenAlgorithm)]
        case .jwtBearer: [CryptoOp(kind: .verify, algorithm: assertionAlgorithm!), CryptoOp(kind: .sign, algorithm: tokenAlgorithm)]
        case .tokenExchange: [CryptoOp(kind: .verify, algorithm: tokenAlgorithm), CryptoOp(kind: .sign, algorithm: tokenAlgorithm)]
        case .jwks, .discovery, .echo: []
        }
    }

    /// Whether every request spends a jti (so bodies must be distinct).
    var spendsJTI: Bool { kind == .jwtBearer || kind == .clientCredentialsKeyJWT }

    var method: String { kind == .jwks || kind == .discovery ? "GET" : "POST" }

    var path: String {
        switch kind {
        case .jwks: "/jwks"
        case .discovery: "/.well-known/oauth-authorization-server"
        case .echo: "/_bench/echo"
        default: "/token"
        }
    }

    var usesBasicAuth: Bool { kind != .clientCredentialsKeyJWT && kind != .jwks && kind != .discovery }

    var headers: [(name: String, value: String)] {
        method == "GET" ? [] : Fixture.headers(basic: usesBasicAuth)
    }

    /// `count` request bodies; distinct (fresh jti) when the scenario spends one. Token exchange needs
    /// access tokens of the domain, minted here through the handler itself.
    func bodies(_ fixture: Fixture, domain: Domain, count: Int, run: String, now: Int64, parallel: Bool = false) async throws -> [String] {
        switch kind {
        case .jwks, .discovery:
            return [""]
        case .clientCredentials, .echo:
            return [Fixture.form([("grant_type", "client_credentials"), ("scope", "orders.read")])]
        case .clientCredentialsKeyJWT:
            return try await Self.generate(count: count, parallel: parallel) { serial in
                Fixture.form([
                    ("grant_type", "client_credentials"), ("client_assertion_type", Fixture.clientAssertionType),
                    ("client_assertion", try fixture.clientAssertion(serial: serial, run: run, now: now)),
                ])
            }
        case .jwtBearer:
            let algorithm = assertionAlgorithm!
            return try await Self.generate(count: count, parallel: parallel) { serial in
                Fixture.form([("grant_type", Fixture.jwtBearer), ("assertion", try fixture.userAssertion(algorithm, serial: serial, run: run, now: now))])
            }
        case .tokenExchange:
            // Own access tokens are not single use; a few dozen distinct ones keep the input varied.
            let routes = RouteTable(domain: domain)
            let environment = LiveEnvironment(replayStore: MemoryReplayStore())
            let cc = Scenario(kind: .clientCredentials, tokenAlgorithm: tokenAlgorithm)
            var result: [String] = []
            for _ in 0..<min(count, 64) {
                let response = await routes.respond(
                    to: EndpointRequest(method: "POST", path: "/token", headers: cc.headers, body: Array(Fixture.form([("grant_type", "client_credentials"), ("scope", "orders.read profile")]).utf8)),
                    in: environment.make()
                )
                guard response.status == 200, let token = (try? JSONParser.parse(response.body))?["access_token"]?.stringValue else {
                    throw BenchError("could not mint a subject token: \(String(decoding: response.body, as: UTF8.self))")
                }
                result.append(Fixture.form([
                    ("grant_type", Fixture.tokenExchange), ("subject_token", token), ("subject_token_type", Fixture.accessTokenType),
                    ("audience", Fixture.peerIssuer),
                ]))
            }
            return result
        }
    }

    /// Mints `count` bodies, on every core when `parallel` (the RSA assertions are the slow part).
    static func generate(count: Int, parallel: Bool, _ make: @escaping @Sendable (Int) throws -> String) async throws -> [String] {
        let workers = parallel ? max(1, Affinity.onlineCPUs) : 1
        if workers == 1 { return try (0..<count).map(make) }
        return try await withThrowingTaskGroup(of: (Int, [String]).self) { group in
            let chunk = (count + workers - 1) / workers
            for worker in 0..<workers {
                let range = (worker * chunk)..<min(count, (worker + 1) * chunk)
                group.addTask { (worker, try range.map(make)) }
            }
            var parts: [(Int, [String])] = []
            for try await part in group { parts.append(part) }
            return parts.sorted { $0.0 < $1.0 }.flatMap { $0.1 }
        }
    }

    static func handlerScenarios() -> [Scenario] {
        var list: [Scenario] = []
        for algorithm in Fixture.algorithms { list.append(Scenario(kind: .clientCredentials, tokenAlgorithm: algorithm)) }
        list.append(Scenario(kind: .clientCredentialsKeyJWT, tokenAlgorithm: .es256))
        for assertion in [JWSAlgorithm.rs256, .es256] {
            for token in [JWSAlgorithm.rs256, .es256] {
                list.append(Scenario(kind: .jwtBearer, tokenAlgorithm: token, assertionAlgorithm: assertion))
            }
        }
        list.append(Scenario(kind: .tokenExchange, tokenAlgorithm: .es256))
        list.append(Scenario(kind: .tokenExchange, tokenAlgorithm: .rs256))
        list.append(Scenario(kind: .jwks, tokenAlgorithm: .es256))
        list.append(Scenario(kind: .discovery, tokenAlgorithm: .es256))
        return list
    }

    static func httpScenarios(quick: Bool) -> [Scenario] {
        if quick {
            return [
                Scenario(kind: .echo, tokenAlgorithm: .es256),
                Scenario(kind: .clientCredentials, tokenAlgorithm: .es256),
                Scenario(kind: .jwtBearer, tokenAlgorithm: .es256, assertionAlgorithm: .es256),
            ]
        }
        return [
            Scenario(kind: .echo, tokenAlgorithm: .es256),
            Scenario(kind: .clientCredentials, tokenAlgorithm: .es256),
            Scenario(kind: .jwtBearer, tokenAlgorithm: .es256, assertionAlgorithm: .es256),
            Scenario(kind: .jwtBearer, tokenAlgorithm: .es256, assertionAlgorithm: .rs256),
            Scenario(kind: .tokenExchange, tokenAlgorithm: .es256),
            Scenario(kind: .jwks, tokenAlgorithm: .es256),
            Scenario(kind: .clientCredentials, tokenAlgorithm: .rs256),
            Scenario(kind: .jwtBearer, tokenAlgorithm: .rs256, assertionAlgorithm: .rs256),
        ]
    }
}

extension String {
    /// Plain substring replacement (no Foundation in this target).
    func replacingOccurrences(_ target: String, _ replacement: String) -> String {
        guard !target.isEmpty else { return self }
        var result = ""
        var rest = self[...]
        while let range = rest.range(of: target) {
            result += rest[..<range.lowerBound]
            result += replacement
            rest = rest[range.upperBound...]
        }
        return result + rest
    }
}

extension Substring {
    func range(of target: String) -> Range<Index>? {
        let needle = Array(target.utf8)
        var index = startIndex
        while index < endIndex {
            if self[index...].utf8.starts(with: needle) {
                return index..<self.utf8.index(index, offsetBy: needle.count)
            }
            index = self.index(after: index)
        }
        return nil
    }
}

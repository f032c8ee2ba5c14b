import Foundation
import JWTKit
import Testing

@Suite("baton CLI: invoke, check, keys, secret", .timeLimit(.minutes(2)))
struct CLITests {
    static let configA = "examples/domain-a.json"
    static let configB = "examples/domain-b.json"

    // MARK: invoke: JWKS and discovery

    @Test("invoke events/jwks.json: a payload 2.0 response whose body is a public JWKS")
    func invokeJWKS() async throws {
        let response = try await invoke(config: Self.configB, event: "events/jwks.json")
        #expect(response.statusCode == 200)
        #expect(response.isBase64Encoded == false)
        #expect(response.headers["content-type"] == "application/json")
        #expect(response.headers["cache-control"]?.hasPrefix("public, max-age=") == true)
        for name in response.headers.keys { #expect(name == name.lowercased()) }

        // An independent JOSE implementation accepts the document.
        _ = try await JWTKeyCollection().add(jwksJSON: response.body)

        let keys = try #require(try response.bodyJSON()["keys"] as? [[String: Any]])
        #expect(!keys.isEmpty)
        for key in keys {
            for member in privateJWKMembers { #expect(key[member] == nil, "published key \(key["kid"] ?? "?") has private member \(member)") }
            #expect(key["kid"] is String)
        }
        #expect(keys.contains { $0["kid"] as? String == "domain-b-2026-11" })
    }

    @Test("invoke reads the event from standard input with -")
    func invokeFromStdin() async throws {
        let fromFile = try await invoke(config: Self.configB, event: "events/jwks.json")
        let fromStdin = try await invoke(config: Self.configB, event: "-", stdin: try Package.read(Package.event("jwks.json")))
        #expect(fromStdin.statusCode == 200)
        #expect(fromStdin.body == fromFile.body)
        #expect(fromStdin.headers == fromFile.headers)
    }

    @Test("discovery.json and openid-configuration.json: one document matching the configuration", arguments: [configA, configB])
    func invokeDiscovery(config: String) async throws {
        let rfc8414 = try await invoke(config: config, event: "events/discovery.json")
        let openid = try await invoke(config: config, event: "events/openid-configuration.json")
        #expect(rfc8414.statusCode == 200)
        #expect(openid.statusCode == 200)
        #expect(rfc8414.body == openid.body)
        #expect(rfc8414.headers["cache-control"]?.hasPrefix("public, max-age=") == true)

        let configuration = try jsonObject(try Package.read(Package.root.appendingPathComponent(config).path))
        let document = try openid.bodyJSON()
        let issuer = try #require(configuration["issuer"] as? String)
        #expect(document["issuer"] as? String == issuer)
        #expect(document["token_endpoint"] as? String == issuer + "/token")
        #expect(document["jwks_uri"] as? String == issuer + "/jwks")

        // grant_types_supported lists exactly the grants some client may use.
        let clients = try #require(configuration["clients"] as? [[String: Any]])
        let enabled = Set(clients.flatMap { $0["grant_types"] as? [String] ?? [] })
        let advertised = try #require(document["grant_types_supported"] as? [String])
        #expect(Set(advertised) == enabled)
        #expect(advertised.count == enabled.count, "no duplicates")
        let scopes = Set(clients.flatMap { $0["scopes"] as? [String] ?? [] })
        #expect(Set(document["scopes_supported"] as? [String] ?? []) == scopes)
    }

    // MARK: invoke: the token endpoint

    @Test("client credentials at domain A: an RFC 9068 access token that JWTKit verifies with A's JWKS")
    func clientCredentials() async throws {
        let response = try await invoke(config: Self.configA, event: "events/token-client-credentials.json")
        #expect(response.statusCode == 200)
        #expect(response.headers["cache-control"] == "no-store")
        #expect(response.headers["pragma"] == "no-cache")
        #expect(response.headers["content-type"] == "application/json")
        let body = try response.bodyJSON()
        #expect(body["token_type"] as? String == "Bearer")
        #expect(body["expires_in"] as? Int == 300)
        #expect(body["scope"] as? String == "orders.read")
        #expect(body["refresh_token"] == nil)
        let token = try #require(body["access_token"] as? String)

        let jwks = try await invoke(config: Self.configA, event: "events/jwks.json")
        let claims = try await verifyAccessToken(token, jwks: jwks.body)
        #expect(try joseHeader(token)["typ"] as? String == "at+jwt")
        #expect(try joseHeader(token)["kid"] as? String == "domain-a-2026-11")
        #expect(claims.iss.value == Package.issuerA)
        #expect(claims.sub.value == "agent-app")
        #expect(claims.aud.value == ["https://api.a.baton.example"])
        #expect(claims.client_id == "agent-app")
        #expect(claims.scope == "orders.read")
        #expect(!claims.jti.value.isEmpty)
        let lifetime = claims.exp.value.timeIntervalSince(claims.iat.value)
        #expect(lifetime == 300)
        #expect(abs(claims.iat.value.timeIntervalSinceNow) < 60)

        // Domain B's keys must not verify domain A's token.
        let jwksB = try await invoke(config: Self.configB, event: "events/jwks.json")
        await #expect(throws: (any Error).self) { _ = try await verifyAccessToken(token, jwks: jwksB.body) }
    }

    @Test("two client-credentials tokens carry different jti values")
    func distinctTokenIDs() async throws {
        async let first = invoke(config: Self.configA, event: "events/token-client-credentials.json")
        async let second = invoke(config: Self.configA, event: "events/token-client-credentials-base64.json")
        let tokens = try await [first, second].map { try #require($0.bodyJSON()["access_token"] as? String) }
        let jwks = try await invoke(config: Self.configA, event: "events/jwks.json")
        let one = try await verifyAccessToken(tokens[0], jwks: jwks.body)
        let two = try await verifyAccessToken(tokens[1], jwks: jwks.body)
        #expect(one.jti.value != two.jti.value)
    }

    static let refusals: [(event: String, config: String, status: Int, error: String)] = [
        ("token-wrong-method.json", configB, 405, "invalid_request"),
        ("token-wrong-content-type.json", configB, 400, "invalid_request"),
        ("token-unsupported-grant-type.json", configB, 400, "unsupported_grant_type"),
        ("token-client-credentials-bad-secret.json", configA, 401, "invalid_client"),
        ("token-jwt-bearer-forged.json", configB, 400, "invalid_grant"),
    ]

    @Test("refused token requests: status, error code and no-store headers", arguments: refusals)
    func refusedTokenRequest(event: String, config: String, status: Int, error: String) async throws {
        let response = try await invoke(config: config, event: "events/\(event)")
        #expect(response.statusCode == status)
        let body = try response.bodyJSON()
        #expect(body["error"] as? String == error)
        #expect(body["error_description"] is String)
        #expect(body["access_token"] == nil)
        #expect(response.headers["cache-control"] == "no-store")
        #expect(response.headers["pragma"] == "no-cache")
        if status == 405 { #expect(response.headers["allow"] == "POST") }
        if status == 401 { #expect(response.headers["www-authenticate"]?.hasPrefix("Basic") == true) }
    }

    @Test("the jwt-bearer template, filled with a fresh IdP assertion, is redeemed once at domain B")
    func filledTemplate() async throws {
        let assertion = try await mintAssertion(audience: Package.issuerB, claims: ["email=alice@example.com"])
        let template = String(decoding: try Package.read(Package.event("token-jwt-bearer.template.json")), as: UTF8.self)
        let event = Array(template.replacingOccurrences(of: "ASSERTION", with: assertion).utf8)
        let response = try await invoke(config: Self.configB, event: "-", stdin: event)
        #expect(response.statusCode == 200)
        let token = try #require(try response.bodyJSON()["access_token"] as? String)
        let jwks = try await invoke(config: Self.configB, event: "events/jwks.json")
        let claims = try await verifyAccessToken(token, jwks: jwks.body)
        #expect(claims.iss.value == Package.issuerB)
        #expect(claims.sub.value == "https://idp.example#alice", "domain B qualifies IdP subjects with #")
        #expect(claims.client_id == "agent-app-at-b")
        #expect(claims.scope == "profile")
        #expect(claims.email == "alice@example.com")
    }

    @Test("invoke refuses a replayed event: invocations on one host share the default SQLite replay store")
    func invokeReplay() async throws {
        let directory = try TempDir()
        defer { directory.remove() }
        let assertion = try await mintAssertion(audience: Package.issuerB, claims: ["email=alice@example.com"])
        let template = String(decoding: try Package.read(Package.event("token-jwt-bearer.template.json")), as: UTF8.self)
        let event = Array(template.replacingOccurrences(of: "ASSERTION", with: assertion).utf8)
        let environment = ["TMPDIR": directory.path]
        let first = try await invoke(config: Self.configB, event: "-", environment: environment, stdin: event)
        #expect(first.statusCode == 200)
        let second = try await invoke(config: Self.configB, event: "-", environment: environment, stdin: event)
        #expect(second.statusCode == 400)
        #expect(try second.bodyJSON()["error"] as? String == "invalid_grant")
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        #expect(files.contains { $0.hasPrefix("baton-replay-") && $0.hasSuffix(".db") }, "\(files)")
    }

    @Test("invoke refuses a malformed event with one stderr line")
    func invokeMalformedEvent() async throws {
        for input in ["[1,2]", "not json", #"{"version":"1.0","requestContext":{"http":{"method":"GET"}},"rawPath":"/jwks"}"#] {
            let result = try await baton(["invoke", "--config", Self.configB, "-"], stdin: Array(input.utf8))
            #expect(result.exitedNormally && result.status != 0, "\(input)")
            #expect(result.stderrLines.count == 1, "\(result.stderr)")
            #expect(result.stderrLines.first?.hasPrefix("baton:") == true)
            #expect(result.stdout.isEmpty)
        }
    }

    // MARK: start-up failures

    enum StartupFailure: String, CaseIterable, Sendable {
        case unknownField, missingIssuer, rsa1024, garbledPEM, unknownFunction, mismatchedAlgorithm, missingConfig
    }

    /// Arguments (after the command) and environment that must make start-up fail.
    static func setUp(_ failure: StartupFailure, in directory: TempDir) async throws -> (config: String, environment: [String: String], mustNotLeak: String?) {
        let exampleB = String(decoding: try Package.read(Package.example("domain-b.json")), as: UTF8.self)
            .replacingOccurrences(of: "\"keys/", with: "\"\(Package.example("keys"))/")
        switch failure {
        case .unknownField:
            // A misspelt extra member at the top level: a typo in a security setting must stop start-up.
            let text = "{\"token_polcy\": {\"signing_alg\": \"RS256\"}," + exampleB.drop { $0 != "{" }.dropFirst()
            #expect(text != exampleB, "the fixture edit applied")
            return (try directory.write("unknown-field.json", text), [:], nil)
        case .missingIssuer:
            let text = exampleB.replacingOccurrences(of: "\"issuer\": \"https://b.baton.example\",\n  \"signing_keys_file\"", with: "\"signing_keys_file\"")
            #expect(text != exampleB, "the fixture edit applied")
            return (try directory.write("no-issuer.json", text), [:], nil)
        case .rsa1024:
            let keyPath = directory.url.appendingPathComponent("rsa1024.pem").path
            let openssl = try await run("/usr/bin/env", ["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:1024", "-out", keyPath])
            try #require(openssl.succeeded, "openssl: \(openssl.stderr)")
            let pem = String(decoding: try Package.read(keyPath), as: UTF8.self)
            let config = try directory.write("rs256.json", minimalConfig(algorithm: "RS256"))
            return (config, ["BATON_SIGNING_KEYS": pem], pem.split(separator: "\n").dropFirst().first.map(String.init))
        case .garbledPEM:
            let secret = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC!!!garbled***"
            let pem = "-----BEGIN PRIVATE KEY-----\n\(secret)\n-----END PRIVATE KEY-----\n"
            return (try directory.write("es256.json", minimalConfig(algorithm: "ES256")), ["BATON_SIGNING_KEYS": pem], secret)
        case .unknownFunction:
            return (Self.configB, ["BATON_FUNCTION": "bogus"], nil)
        case .mismatchedAlgorithm:
            let generated = try await baton("keys", "generate", "--alg", "ES256")
            try #require(generated.succeeded)
            return (try directory.write("rs256.json", minimalConfig(algorithm: "RS256")), ["BATON_SIGNING_KEYS": generated.stdoutText], nil)
        case .missingConfig:
            return (directory.url.appendingPathComponent("does-not-exist.json").path, [:], nil)
        }
    }

    @Test("start-up failures: one stderr line starting with baton:, non-zero exit", arguments: StartupFailure.allCases)
    func startupFailure(_ failure: StartupFailure) async throws {
        let directory = try TempDir()
        defer { directory.remove() }
        let (config, environment, secret) = try await Self.setUp(failure, in: directory)
        var commands: [[String]] = [["invoke", "--config", config, "events/jwks.json"]]
        if failure != .unknownFunction { commands += [["check", "--config", config], ["keys", "public", "--config", config]] }
        var results: [(String, CommandResult)] = []
        for command in commands {
            results.append((command[0], try await baton(command, environment: environment, timeout: .seconds(10))))
        }
        let served = try await serveExpectingFailure(["--config", config, "--host", "127.0.0.1", "--port", "0"], environment: environment)
        #expect(!served.listened, "serve started listening")
        results.append(("serve", served.result))
        for (name, result) in results {
            #expect(!result.timedOut, "\(name) kept running: \(result.stderr)")
            #expect(result.exitedNormally && result.status != 0, "\(name) exit status \(result.status)")
            #expect(result.stderrLines.count == 1, "\(name) stderr: \(result.stderr)")
            #expect(result.stderr.hasPrefix("baton: "), "\(name) stderr: \(result.stderr)")
            #expect(result.stdout.isEmpty, "\(name) stdout: \(result.stdoutText)")
            if let secret { #expect(!result.stderr.contains(secret), "the message must not echo key material") }
            switch failure {
            case .unknownField: #expect(result.stderr.contains("token_polcy"))
            case .missingIssuer: #expect(result.stderr.contains("issuer"))
            case .rsa1024, .garbledPEM: #expect(result.stderr.contains("BATON_SIGNING_KEYS"))
            case .unknownFunction: #expect(result.stderr.contains("bogus"))
            case .mismatchedAlgorithm: #expect(result.stderr.contains("RS256"))
            case .missingConfig: #expect(result.stderr.contains("does-not-exist.json"))
            }
        }
    }

    @Test("serve: an out-of-range --port is refused at start-up like an out-of-range PORT", arguments: ["70000", "-1"])
    func serveRefusesBadPortOption(port: String) async throws {
        let viaOption = try await serveExpectingFailure(["--config", Self.configB, "--host", "127.0.0.1", "--port=\(port)"])
        #expect(!viaOption.listened, "--port \(port) started a server: \(viaOption.result.stderr)")
        #expect(viaOption.result.exitedNormally && viaOption.result.status != 0)
        #expect(viaOption.result.stderrLines.count == 1, "\(viaOption.result.stderr)")
        #expect(viaOption.result.stderr.hasPrefix("baton: "), "\(viaOption.result.stderr)")

        let viaEnvironment = try await serveExpectingFailure(["--config", Self.configB, "--host", "127.0.0.1"], environment: ["PORT": port])
        #expect(!viaEnvironment.listened)
        #expect(viaEnvironment.result.stderrLines.count == 1)
        #expect(viaEnvironment.result.stderr.hasPrefix("baton: PORT: "))
    }

    @Test("serve: a port already in use is a start-up failure with one baton: line")
    func servePortInUse() async throws {
        let occupant = try await Server.start(config: Self.configA)
        defer { occupant.stop() }
        let second = try await serveExpectingFailure(["--config", Self.configB, "--host", "127.0.0.1", "--port", String(occupant.port)])
        #expect(!second.listened)
        #expect(second.result.exitedNormally && second.result.status != 0)
        #expect(second.result.stderrLines.count == 1, "\(second.result.stderr)")
        #expect(second.result.stderr.hasPrefix("baton: "), "\(second.result.stderr)")
        #expect(await occupant.terminate())
    }

    @Test("invoke honours BATON_FUNCTION: a token event at a jwks-only function is 404")
    func invokeFunctionRestriction() async throws {
        let token = try await invoke(config: Self.configA, event: "events/token-client-credentials.json", environment: ["BATON_FUNCTION": "jwks"])
        #expect(token.statusCode == 404)
        #expect(try token.bodyJSON()["error"] as? String == "not_found")
        let jwks = try await invoke(config: Self.configA, event: "events/jwks.json", environment: ["BATON_FUNCTION": "jwks"])
        #expect(jwks.statusCode == 200)
        let viaFlag = try await baton(["invoke", "--config", Self.configA, "--function", "discovery", "events/jwks.json"])
        #expect(try InvokeResponse(viaFlag.stdout).statusCode == 404)
    }

    @Test("invoke's own argument reading accepts what ArgumentParser accepts and leaves the rest to it")
    func invokeArgumentForms() async throws {
        let forms: [[String]] = [
            ["invoke", "--config", Self.configB, "events/jwks.json"],
            ["invoke", "--config=\(Self.configB)", "events/jwks.json"],
            ["invoke", "events/jwks.json", "--config", Self.configB],
            ["invoke", "--config", Self.configB, "--function=jwks", "events/jwks.json"],
        ]
        for arguments in forms {
            let result = try await baton(arguments)
            #expect(result.status == 0, "\(arguments)")
            #expect(try InvokeResponse(result.stdout).statusCode == 200, "\(arguments)")
        }
        // Left to ArgumentParser: its usage errors and help, exactly as before.
        let missingValue = try await baton(["invoke", "events/jwks.json", "--config"])
        #expect(missingValue.status != 0)
        #expect(missingValue.stderr.contains("--config"))
        let repeated = try await baton(["invoke", "--config", Self.configB, "--config", Self.configA, "events/jwks.json"])
        let lastWins = try InvokeResponse(repeated.stdout)
        #expect(lastWins.statusCode == 200)
        #expect(!lastWins.body.contains("domain-b-2026-11"), "ArgumentParser keeps the last --config (domain A)")
        let unknown = try await baton(["invoke", "--verbose", "events/jwks.json"])
        #expect(unknown.status != 0)
        #expect(unknown.stderr.contains("--verbose"))
        let help = try await baton(["invoke", "--help"])
        #expect(help.status == 0)
        #expect(help.stdoutText.contains("USAGE"))
    }

    @Test("check validates BATON_FUNCTION as start-up does (it says ok for a value serve and invoke refuse)")
    func checkValidatesFunction() async throws {
        let result = try await baton(["check", "--config", Self.configB], environment: ["BATON_FUNCTION": "bogus"])
        #expect(result.exitedNormally && result.status != 0, "check exited \(result.status) and printed: \(result.stdoutText)")
        #expect(result.stderr.hasPrefix("baton: "))
        let valid = try await baton(["check", "--config", Self.configB], environment: ["BATON_FUNCTION": "jwks"])
        #expect(valid.succeeded)
    }

    // MARK: keys and secrets

    static func minimalConfig(algorithm: String) -> String {
        #"{"issuer": "https://t.baton.example", "token_policy": {"signing_alg": "\#(algorithm)", "audience": "https://api.t.baton.example"}}"#
    }

    @Test("keys generate output works as BATON_SIGNING_KEYS for check", arguments: ["ES256", "RS256", "PS256", "ES384", "EdDSA"])
    func generatedKeys(algorithm: String) async throws {
        let directory = try TempDir()
        defer { directory.remove() }
        let generated = try await baton("keys", "generate", "--alg", algorithm, "--kid", "k-\(algorithm)")
        #expect(generated.succeeded, "\(generated.stderr)")
        let jwks = try jsonObject(generated.stdout)
        let key = try #require((jwks["keys"] as? [[String: Any]])?.first)
        #expect(key["alg"] as? String == algorithm)
        #expect(key["kid"] as? String == "k-\(algorithm)")
        #expect(key["d"] is String, "a private key")

        let config = try directory.write("config.json", Self.minimalConfig(algorithm: algorithm))
        let check = try await baton("check", "--config", config, environment: ["BATON_SIGNING_KEYS": generated.stdoutText])
        #expect(check.succeeded, "\(check.stderr)")
        #expect(check.stdoutText.hasPrefix("ok: https://t.baton.example\n"))
        #expect(check.stdoutText.contains("signing: \(algorithm) kid k-\(algorithm)"))

        // The published side of the same key: no private members, and JWTKit reads it.
        let published = try await baton("keys", "public", "--config", config, environment: ["BATON_SIGNING_KEYS": generated.stdoutText])
        #expect(published.succeeded, "\(published.stderr)")
        let publicKeys = try #require(try jsonObject(published.stdout)["keys"] as? [[String: Any]])
        #expect(publicKeys.count == 1)
        for member in privateJWKMembers { #expect(publicKeys[0][member] == nil, "\(member)") }
        _ = try await JWTKeyCollection().add(jwksJSON: published.stdoutText)
    }

    @Test("secret hash: a 40-character secret gives sha256$salt$digest with a fresh salt")
    func secretHash() async throws {
        let secret = "0123456789abcdefghijABCDEFGHIJ0123456789"
        #expect(secret.count == 40)
        let first = try await baton(["secret", "hash"], stdin: Array((secret + "\n").utf8))
        let second = try await baton(["secret", "hash"], stdin: Array(secret.utf8))
        for result in [first, second] {
            #expect(result.succeeded, "\(result.stderr)")
            let line = result.stdoutText
            #expect(line.hasSuffix("\n"))
            let parts = line.dropLast().split(separator: "$", omittingEmptySubsequences: false)
            #expect(parts.count == 3, "\(line)")
            #expect(parts.first == "sha256")
            let base64url = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
            for part in parts.dropFirst() { #expect(!part.isEmpty && part.allSatisfy(base64url.contains), "\(part)") }
        }
        #expect(first.stdoutText != second.stdoutText, "each hash has its own salt")
    }

    @Test("secret hash refuses a short secret")
    func secretHashShort() async throws {
        for short in ["", "short", "0123456789abcdefghijABCDEFGHIJ0"] {
            let result = try await baton(["secret", "hash"], stdin: Array((short + "\n").utf8))
            #expect(result.exitedNormally && result.status != 0)
            #expect(result.stdout.isEmpty)
            #expect(result.stderrLines.count == 1)
            #expect(result.stderr.hasPrefix("baton: "))
        }
    }

    @Test("a secret_hash from secret hash authenticates its client at the token endpoint")
    func hashedSecretAuthenticates() async throws {
        let directory = try TempDir()
        defer { directory.remove() }
        let secret = "fresh-secret-for-the-runtime-tests-0123456789"
        let hashed = try await baton(["secret", "hash"], stdin: Array(secret.utf8))
        try #require(hashed.succeeded)
        let hash = hashed.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
        let config = try directory.write("config.json", """
        {"issuer": "https://t.baton.example", "signing_keys_file": "\(Package.example("keys/domain-b.DEV-ONLY.jwks.json"))",
         "token_policy": {"signing_alg": "ES256", "audience": "https://api.t.baton.example"},
         "clients": [{"client_id": "svc", "token_endpoint_auth_method": "client_secret_basic", "secret_hash": "\(hash)",
                      "grant_types": ["client_credentials"], "scopes": ["a"], "default_scopes": ["a"]}]}
        """)
        func event(secret: String) -> [UInt8] {
            Array("""
            {"version":"2.0","rawPath":"/token","requestContext":{"http":{"method":"POST"}},
             "headers":{"content-type":"application/x-www-form-urlencoded","authorization":"\(basicAuthorization("svc", secret))"},
             "body":"grant_type=client_credentials","isBase64Encoded":false}
            """.utf8)
        }
        let accepted = try await invoke(config: config, event: "-", stdin: event(secret: secret))
        #expect(accepted.statusCode == 200)
        let refused = try await invoke(config: config, event: "-", stdin: event(secret: secret + "x"))
        #expect(refused.statusCode == 401)
    }
}

/// `baton assertion` with the IdP's development key, as the chain's first hop.
func mintAssertion(audience: String, subject: String = "alice", claims: [String]) async throws -> String {
    var arguments = ["assertion", "--key", Package.idpKey, "--kid", "idp-2026", "--iss", "https://idp.example", "--sub", subject, "--aud", audience]
    for claim in claims { arguments += ["--claim", claim] }
    let result = try await baton(arguments)
    guard result.succeeded else { throw TestFailure("baton assertion failed: \(result.stderr)") }
    let token = result.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
    #expect(token.split(separator: ".").count == 3)
    return token
}

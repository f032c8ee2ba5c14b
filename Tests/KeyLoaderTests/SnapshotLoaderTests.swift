import Foundation
import Handlers
import JOSE
import KeyLoader
import Testing

@Suite("SnapshotLoader and DomainLoader")
struct SnapshotLoaderTests {
    // MARK: Valid configurations

    @Test("a minimal configuration loads with defaults")
    func minimal() throws {
        let domain = try ConfigFixture().load(minimalConfig())
        let snapshot = domain.snapshot
        #expect(snapshot.issuer == "https://sts.example")
        #expect(snapshot.tokenEndpoint == "https://sts.example/token")
        #expect(snapshot.jwksURI == "https://sts.example/jwks")
        #expect(snapshot.tokenPolicy.signingAlgorithm == .es256)
        #expect(snapshot.tokenPolicy.accessTokenLifetime == 300)
        #expect(snapshot.tokenPolicy.audience == ["https://api.example"])
        #expect(snapshot.clients.isEmpty && snapshot.trustedIssuers.isEmpty && snapshot.exchangeTargets.isEmpty)
        #expect(domain.signer.kid == ConfigFixture.signingKID)
        #expect(domain.signer.algorithm == .es256)
        #expect(domain.keys.published.map(\.kid) == [ConfigFixture.signingKID])
    }

    @Test("a configuration using every section loads, with files resolved next to the config")
    func fullConfiguration() throws {
        let fixture = try ConfigFixture()
        try fixture.write("keys/idp.jwks.json", jwks(publicJWK(TestKeys.ed25519.publicKey, kid: "idp-ed", algorithm: nil)))
        try fixture.write("keys/partner.pem", PEM.encode(TestKeys.rsa.publicKey))
        let secret = String(repeating: "x", count: 48)
        let config = minimalConfig(policy: #"{"audience":["https://api.example","https://api2.example"],"signing_alg":"ES256","access_token_lifetime":600}"#, """
        "token_endpoint":"https://sts.example/oauth/token",
        "limits":{"max_body_bytes":2048,"max_token_bytes":4096},
        "trusted_issuers":[
          {"issuer":"https://idp.example","jwks_file":"keys/idp.jwks.json","subject":{"mode":"qualified","separator":"|"},
           "required_claims":[{"claim":"email"},{"claim":"email_verified","equals":true},{"claim":"tid","pattern":"[a-z]+"}],
           "copy_claims":["email",{"from":"tid","to":"tenant"}],"scopes":["read"],"clock_skew":10},
          {"issuer":"https://partner.example","pem_file":"keys/partner.pem","kid":"partner-2026","algorithms":["PS256"],
           "subject":{"mode":"pairwise","secret_env":"PAIRWISE_SECRET"}}
        ],
        "clients":[
          \(secretClient("confidential", grants: ["client_credentials", jwtBearer], #""scopes":["read","write"],"default_scopes":["read"],"trusted_issuers":["https://idp.example"]"#)),
          {"client_id":"env-secret","token_endpoint_auth_method":"client_secret_post","secret_env":"CLIENT_SECRET","grant_types":["client_credentials"]},
          {"client_id":"keyed","token_endpoint_auth_method":"private_key_jwt","jwks":\(jwks(publicJWK(TestKeys.p384.publicKey, kid: "client-key", algorithm: .es384))),"grant_types":["client_credentials"]},
          {"client_id":"public","token_endpoint_auth_method":"none","grant_types":["\(tokenExchange)"],"allow_unauthenticated_grants":true,"trusted_issuers":["https://partner.example"]}
        ],
        "exchange_targets":[{"name":"b","audience":"https://b.example","issuer":"https://b.example","clients":["confidential"]}],
        "replay_store":"sqlite:/var/lib/baton/replay.db"
        """)
        let domain = try fixture.load(config, environment: [
            "BATON_SIGNING_KEYS": ConfigFixture.signingKeys,
            "PAIRWISE_SECRET": String(repeating: "p", count: 32),
            "CLIENT_SECRET": secret,
        ])
        let snapshot = domain.snapshot
        #expect(snapshot.tokenEndpoint == "https://sts.example/oauth/token")
        #expect(snapshot.tokenPolicy.accessTokenLifetime == 600)
        #expect(snapshot.tokenPolicy.audience == ["https://api.example", "https://api2.example"])
        #expect(snapshot.limits.maxBodyBytes == 2048 && snapshot.limits.maxTokenBytes == 4096)
        #expect(snapshot.replayStore == .sqlite(path: "/var/lib/baton/replay.db"))

        let idp = try #require(snapshot.trustedIssuers["https://idp.example"])
        #expect(idp.keys.map(\.kid) == ["idp-ed"])
        #expect(idp.keys.first?.algorithm == .edDSA)
        #expect(idp.allowedAlgorithms == [.edDSA])
        #expect(idp.clockSkew == 10)
        #expect(idp.audiences == ["https://sts.example", "https://sts.example/oauth/token"])
        #expect(idp.allowedScopes == ["read"])
        let partner = try #require(snapshot.trustedIssuers["https://partner.example"])
        #expect(partner.keys.map(\.kid) == ["partner-2026"])
        #expect(partner.keys.first?.algorithm == .ps256)
        #expect(partner.keys.first?.material.members == TestKeys.rsa.publicKey.members)

        #expect(snapshot.clients.count == 4)
        let confidential = try #require(snapshot.clients["confidential"])
        #expect(confidential.grantTypes == [.clientCredentials, .jwtBearer])
        #expect(confidential.defaultScopes == ["read"])
        #expect(confidential.allowedIssuers == ["https://idp.example"])
        if case .secret(let hash) = confidential.credential {
            #expect(hash.matches(String(repeating: "s", count: 40)))
            #expect(!hash.matches(String(repeating: "s", count: 41)))
        } else {
            Issue.record("confidential client has no secret")
        }
        if case .secret(let hash) = try #require(snapshot.clients["env-secret"]).credential {
            #expect(hash.matches(secret))
            #expect(!hash.matches(secret + "x"))
        } else {
            Issue.record("env-secret client has no secret")
        }
        if case .keys(let keys) = try #require(snapshot.clients["keyed"]).credential {
            #expect(keys.map(\.kid) == ["client-key"])
        } else {
            Issue.record("keyed client has no keys")
        }
        #expect(try #require(snapshot.clients["public"]).isPublic)
        #expect(snapshot.exchangeTargets.map(\.name) == ["b"])
    }

    @Test("the example domains load with an empty environment", arguments: ["domain-a.json", "domain-b.json"])
    func examples(name: String) throws {
        let examples = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("examples")
        let domain = try DomainLoader.load(configPath: examples.appendingPathComponent(name).path, environment: [:])
        #expect(domain.signer.algorithm == .es256)
        #expect(domain.snapshot.trustedIssuers["https://idp.example"]?.keys.map(\.kid) == ["idp-2026"])
        #expect(domain.snapshot.trustedIssuers["https://idp.example"]?.keys.first?.algorithm == .rs256)
        if name == "domain-a.json" {
            #expect(domain.snapshot.issuer == "https://a.baton.example")
            #expect(domain.snapshot.clients["agent-app"]?.grantTypes.count == 3)
            #expect(domain.snapshot.exchangeTargets.first?.name == "domain-b")
        } else {
            #expect(domain.snapshot.issuer == "https://b.baton.example")
            // Domain B trusts domain A's published key: it is the key domain A signs with.
            let a = try DomainLoader.load(configPath: examples.appendingPathComponent("domain-a.json").path, environment: [:])
            let trustedA = try #require(domain.snapshot.trustedIssuers["https://a.baton.example"])
            #expect(trustedA.keys.contains { $0.kid == a.signer.kid && $0.material.members == a.signer.material.publicKey.members })
        }
    }

    @Test("a configuration saved with a UTF-8 byte-order mark loads like one without")
    func byteOrderMark() throws {
        let examples = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("examples")
        let original = try Data(contentsOf: examples.appendingPathComponent("domain-a.json"))
        let directory = try TemporaryDirectory()
        let copy = directory.path("domain-a.json")
        try (Data([0xEF, 0xBB, 0xBF]) + original).write(to: URL(fileURLWithPath: copy))
        for file in try FileManager.default.contentsOfDirectory(atPath: examples.appendingPathComponent("keys").path) {
            try FileManager.default.createDirectory(atPath: directory.path("keys"), withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: examples.appendingPathComponent("keys/" + file).path, toPath: directory.path("keys/" + file))
        }
        let domain = try DomainLoader.load(configPath: copy, environment: [:])
        #expect(domain.snapshot.issuer == "https://a.baton.example")
    }

    // MARK: Unknown fields

    @Test("an unknown field anywhere is refused with its path first", arguments: [
        (minimalConfig(#""token_polcy":{}"#), #"token_polcy: unknown field (did you mean "token_policy"?)"#),
        (minimalConfig(#""colour":"blue""#), "colour: unknown field"),
        (minimalConfig(policy: #"{"audience":"https://api.example","audiences":["x"]}"#), #"token_policy.audiences: unknown field (did you mean "audience"?)"#),
        (minimalConfig(policy: #"{"audience":"https://api.example","signing_algo":"ES256"}"#), #"token_policy.signing_algo: unknown field (did you mean "signing_alg"?)"#),
        (minimalConfig(#""clients":[\#(secretClient("c", #""grant_type":"client_credentials""#))]"#), #"clients[0].grant_type: unknown field (did you mean "grant_types"?)"#),
        (minimalConfig(#""clients":[\#(secretClient("c", #""default_scope":["a"]"#))]"#), #"clients[0].default_scope: unknown field (did you mean "default_scopes"?)"#),
        (minimalConfig(#""trusted_issuers":[\#(inlineIssuer("https://idp.example", #""algorithm":["ES256"]"#))]"#), #"trusted_issuers[0].algorithm: unknown field (did you mean "algorithms"?)"#),
        (minimalConfig(#""trusted_issuers":[\#(inlineIssuer("https://idp.example", #""subject":{"mode":"qualified","seperator":"|"}"#))]"#), #"trusted_issuers[0].subject.seperator: unknown field (did you mean "separator"?)"#),
        (minimalConfig(#""trusted_issuers":[\#(inlineIssuer("https://idp.example", #""subject":{"mode":"passthrough","extra":1}"#))]"#), "trusted_issuers[0].subject.extra: unknown field"),
        (minimalConfig(#""trusted_issuers":[\#(inlineIssuer("https://idp.example", #""copy_claims":[{"from":"a","too":"b"}]"#))]"#), #"trusted_issuers[0].copy_claims[0].too: unknown field (did you mean "to"?)"#),
        (minimalConfig(#""trusted_issuers":[\#(inlineIssuer("https://idp.example", #""required_claims":[{"claim":"a","equal":1}]"#))]"#), "trusted_issuers[0].required_claims[0].equal: unknown field"),
        (minimalConfig(#""limits":{"max_body_bytes":2048,"max_token":1}"#), "limits.max_token: unknown field"),
        (minimalConfig(#""clients":[\#(secretClient("c"))],"exchange_targets":[{"name":"t","audience":"https://t.example","issuer":"https://t.example","lifetme":5}]"#), #"exchange_targets[0].lifetme: unknown field (did you mean "lifetime"?)"#),
    ])
    func unknownFields(config: String, expected: String) throws {
        let message = try ConfigFixture().refusal(config)
        #expect(message.hasPrefix(expected), "\(message)")
        if expected.contains("did you mean") { #expect(message == expected) }
    }

    @Test("a misspelt required field is reported as the unknown field it is")
    func misspeltRequiredField() throws {
        // Only "grant_type" is present: the operator's typo must be named, not just the missing "grant_types".
        let client = #"{"client_id":"c","token_endpoint_auth_method":"client_secret_basic","secret_hash":"\#(ConfigFixture.validSecretHash)","grant_type":["client_credentials"]}"#
        let message = try ConfigFixture().refusal(minimalConfig(#""clients":[\#(client)]"#))
        #expect(message == #"clients[0].grant_type: unknown field (did you mean "grant_types"?)"#)
    }

    @Test("an unknown grant type names the client and the list index")
    func unknownGrantType() throws {
        let config = minimalConfig(#""clients":[\#(secretClient("a")),\#(secretClient("b")),\#(secretClient("c", grants: ["foo"]))]"#)
        #expect(try ConfigFixture().refusal(config) == #"clients[2].grant_types[0]: unknown grant type "foo""#)
        let second = minimalConfig(#""clients":[\#(secretClient("a", grants: ["client_credentials", "password"]))]"#)
        #expect(try ConfigFixture().refusal(second) == #"clients[0].grant_types[1]: unknown grant type "password""#)
    }

    // MARK: Top-level rules

    @Test("issuer and token_policy are required")
    func requiredTopLevel() throws {
        let fixture = try ConfigFixture()
        #expect(fixture.refusal(#"{"token_policy":{"audience":"https://api.example"}}"#) == "issuer: is required")
        #expect(fixture.refusal(#"{"issuer":"","token_policy":{"audience":"https://api.example"}}"#) == "issuer: must not be empty")
        #expect(fixture.refusal(#"{"issuer":7,"token_policy":{"audience":"https://api.example"}}"#).hasPrefix("issuer: expected a string"))
        #expect(fixture.refusal(#"{"issuer":"https://sts.example"}"#) == "token_policy: is required")
        #expect(fixture.refusal(minimalConfig(policy: "{}")).hasPrefix("token_policy.audience: is required"))
        #expect(fixture.refusal("[]").hasPrefix("the document: expected an object"))
        let duplicate = fixture.refusal(#"{"issuer":"https://a.example","issuer":"https://b.example","token_policy":{"audience":"x"}}"#)
        #expect(duplicate.hasPrefix("the configuration is not valid JSON") && duplicate.contains("duplicate member \"issuer\""))
    }

    @Test("plain http is refused except for loopback hosts", arguments: [
        "http://sts.example", "http://localhost.evil.example", "http://127.0.0.1.evil.example/",
        "http://evil.example/localhost", "http://LOCALHOST.evil.example", "http://127.0.0.2", "http://[::2]:8080",
    ])
    func httpIssuerRefused(issuer: String) throws {
        let message = try ConfigFixture().refusal(minimalConfig(issuer: issuer))
        #expect(message == "issuer: \"\(issuer)\" must use https (http is allowed only for localhost)")
    }

    @Test("userinfo cannot disguise a remote host as loopback", arguments: [
        "http://localhost@evil.example/", "http://[::1].evil.example/", "http://localhost:secret@evil.example/", "http://127.0.0.1:80@evil.example", "http://[::1]@evil.example/", "http://[::1]:x@evil.example/",
    ])
    func httpUserinfo(issuer: String) throws {
        // RFC 3986 3.2.1: everything before '@' in the authority is userinfo; the host is evil.example.
        let message = try ConfigFixture().refusal(minimalConfig(issuer: issuer))
        #expect(message.hasPrefix("issuer: \"\(issuer)\" "), "\(message)")
        #expect(message.hasSuffix("must not contain user information") || message.hasSuffix("has an invalid port"), "\(message)")
    }

    @Test("other malformed issuers are refused", arguments: [
        ("ftp://sts.example", "must be an https URL"), ("sts.example", "must be an https URL"), ("https://", "has no host"),
        ("https:///path", "has no host"), ("https://sts.example?tenant=a", "must not have a query or fragment"),
        ("https://sts.example#top", "must not have a query or fragment"), ("https://sts.example/a b", "contains white space"),
    ])
    func malformedIssuer(issuer: String, fragment: String) throws {
        let message = try ConfigFixture().refusal(minimalConfig(issuer: issuer))
        #expect(message.hasPrefix("issuer: ") && message.contains(fragment), "\(message)")
    }

    @Test("loopback http and https issuers with paths are accepted", arguments: [
        "http://localhost:8080", "http://127.0.0.1:9000/base", "http://localhost", "http://[::1]:8080", "HTTPS://sts.example/tenant-a", "https://sts.example/",
    ])
    func acceptedIssuers(issuer: String) throws {
        let domain = try ConfigFixture().load(minimalConfig(issuer: issuer))
        #expect(domain.snapshot.issuer == issuer)
    }

    @Test("token_endpoint and jwks_uri follow the same URL rules")
    func endpointURLs() throws {
        let fixture = try ConfigFixture()
        #expect(fixture.refusal(minimalConfig(#""token_endpoint":"http://sts.example/token""#)).hasPrefix("token_endpoint: "))
        #expect(fixture.refusal(minimalConfig(#""jwks_uri":"https://sts.example/jwks?x""#)).hasPrefix("jwks_uri: "))
    }

    @Test("an unknown signing_alg is refused", arguments: ["HS256", "none", "RS512", "es256", "ES512"])
    func unknownSigningAlgorithm(alg: String) throws {
        let message = try ConfigFixture().refusal(minimalConfig(policy: #"{"audience":"https://api.example","signing_alg":"\#(alg)"}"#))
        #expect(message.hasPrefix("token_policy.signing_alg: unsupported algorithm \"\(alg)\""), "\(message)")
    }

    @Test("out-of-range numbers are refused with their path")
    func numbers() throws {
        let fixture = try ConfigFixture()
        #expect(fixture.refusal(minimalConfig(policy: #"{"audience":"a","access_token_lifetime":0}"#)) == "token_policy.access_token_lifetime: must be between 1 and 86400")
        #expect(fixture.refusal(minimalConfig(policy: #"{"audience":"a","access_token_lifetime":"300"}"#)).hasPrefix("token_policy.access_token_lifetime: expected a whole number"))
        #expect(fixture.refusal(minimalConfig(policy: #"{"audience":"a","access_token_lifetime":1.5}"#)).hasPrefix("token_policy.access_token_lifetime: expected a whole number"))
    }

    // MARK: Clients

    @Test("a public client needs allow_unauthenticated_grants for jwt-bearer and token exchange")
    func publicClients() throws {
        let fixture = try ConfigFixture()
        for grant in [jwtBearer, tokenExchange] {
            let client = #"{"client_id":"p","token_endpoint_auth_method":"none","grant_types":["\#(grant)"]}"#
            #expect(fixture.refusal(minimalConfig(#""clients":[\#(client)]"#)) == "clients[0].grant_types: a public client may use \(grant) only with \"allow_unauthenticated_grants\": true")
            let allowed = #"{"client_id":"p","token_endpoint_auth_method":"none","grant_types":["\#(grant)"],"allow_unauthenticated_grants":true}"#
            let domain = try fixture.load(minimalConfig(#""clients":[\#(allowed)]"#))
            #expect(domain.snapshot.clients["p"]?.allowUnauthenticatedGrants == true)
        }
        let credentials = #"{"client_id":"p","token_endpoint_auth_method":"none","grant_types":["client_credentials"],"allow_unauthenticated_grants":true}"#
        #expect(fixture.refusal(minimalConfig(#""clients":[\#(credentials)]"#)) == "clients[0].grant_types: a public client cannot use client_credentials")
        let withSecret = #"{"client_id":"p","token_endpoint_auth_method":"none","secret_hash":"\#(ConfigFixture.validSecretHash)","grant_types":["\#(jwtBearer)"],"allow_unauthenticated_grants":true}"#
        #expect(fixture.refusal(minimalConfig(#""clients":[\#(withSecret)]"#)).hasPrefix("clients[0].token_endpoint_auth_method: a public client (none) has no credentials"))
    }

    @Test("default_scopes must be among the client's scopes")
    func defaultScopes() throws {
        let client = secretClient("c", #""scopes":["read"],"default_scopes":["read","admin"]"#)
        #expect(try ConfigFixture().refusal(minimalConfig(#""clients":[\#(client)]"#)) == #"clients[0].default_scopes[1]: "admin" is not in this client's scopes"#)
        let noScopes = secretClient("c", #""default_scopes":["read"]"#)
        #expect(try ConfigFixture().refusal(minimalConfig(#""clients":[\#(noScopes)]"#)) == #"clients[0].default_scopes[0]: "read" is not in this client's scopes"#)
    }

    @Test("a client's trusted_issuers must be configured issuers")
    func clientIssuers() throws {
        let client = secretClient("c", grants: [jwtBearer], #""trusted_issuers":["https://idp.example","https://other.example"]"#)
        let message = try ConfigFixture().refusal(minimalConfig(#""trusted_issuers":[\#(inlineIssuer())],"clients":[\#(client)]"#))
        #expect(message == #"clients[0].trusted_issuers[1]: "https://other.example" is not configured in trusted_issuers"#)
        let unconfigured = secretClient("c", grants: [jwtBearer], #""trusted_issuers":["https://idp.example"]"#)
        #expect(try ConfigFixture().refusal(minimalConfig(#""clients":[\#(unconfigured)]"#)) == #"clients[0].trusted_issuers[0]: "https://idp.example" is not configured in trusted_issuers"#)
    }

    @Test("secret_env must name a set variable holding at least 32 characters; the secret never appears in messages")
    func secretEnvironment() throws {
        let fixture = try ConfigFixture()
        let client = #"{"client_id":"c","token_endpoint_auth_method":"client_secret_basic","secret_env":"C_SECRET","grant_types":["client_credentials"]}"#
        let config = minimalConfig(#""clients":[\#(client)]"#)
        #expect(fixture.refusal(config) == "clients[0].secret_env: environment variable C_SECRET is not set")
        let short = "short-secret-of-31-characters!!"
        #expect(short.count == 31)
        let message = fixture.refusal(config, environment: ["BATON_SIGNING_KEYS": ConfigFixture.signingKeys, "C_SECRET": short])
        #expect(message == "clients[0].secret_env: environment variable C_SECRET must hold at least 32 characters")
        #expect(!message.contains(short))
        let exact = String(repeating: "z", count: 32)
        let domain = try fixture.load(config, environment: ["BATON_SIGNING_KEYS": ConfigFixture.signingKeys, "C_SECRET": exact])
        guard case .secret(let hash) = domain.snapshot.clients["c"]?.credential else {
            Issue.record("no secret")
            return
        }
        #expect(hash.matches(exact))
        #expect(!hash.matches(short))
    }

    @Test("malformed secret_hash values are refused", arguments: [
        "sha256$abc", "sha256$$", "sha256", "md5$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "sha256$AAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",     // 15-byte salt
        "sha256$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",     // 31-byte digest
        "sha256$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", // padded salt
        "sha256$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA$x",
        "SHA256$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "plain-text-secret-that-is-long-enough-000000",
    ])
    func malformedSecretHash(hash: String) throws {
        let client = #"{"client_id":"c","token_endpoint_auth_method":"client_secret_basic","secret_hash":"\#(hash)","grant_types":["client_credentials"]}"#
        let message = try ConfigFixture().refusal(minimalConfig(#""clients":[\#(client)]"#))
        #expect(message == "clients[0].secret_hash: expected sha256$<salt>$<digest> as printed by `baton secret hash`")
    }

    @Test("a well-formed secret_hash is accepted (sanity check of the malformed cases)")
    func wellFormedSecretHash() throws {
        let hash = "sha256$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
        let client = #"{"client_id":"c","token_endpoint_auth_method":"client_secret_basic","secret_hash":"\#(hash)","grant_types":["client_credentials"]}"#
        _ = try ConfigFixture().load(minimalConfig(#""clients":[\#(client)]"#))
        let both = #"{"client_id":"c","token_endpoint_auth_method":"client_secret_basic","secret_hash":"\#(hash)","secret_env":"X","grant_types":["client_credentials"]}"#
        #expect(try ConfigFixture().refusal(minimalConfig(#""clients":[\#(both)]"#)).hasPrefix("clients[0].secret_env: use either"))
        let neither = #"{"client_id":"c","token_endpoint_auth_method":"client_secret_basic","grant_types":["client_credentials"]}"#
        #expect(try ConfigFixture().refusal(minimalConfig(#""clients":[\#(neither)]"#)).hasPrefix("clients[0].secret_hash: a client_secret_basic client needs"))
    }

    // MARK: Trusted issuers

    @Test("a trusted issuer needs exactly one supported key source")
    func issuerKeySources() throws {
        let fixture = try ConfigFixture()
        try fixture.write("idp.jwks.json", jwks(publicJWK(TestKeys.p256Second.publicKey, kid: "idp-1", algorithm: .es256)))
        let none = #"{"issuer":"https://idp.example"}"#
        #expect(fixture.refusal(minimalConfig(#""trusted_issuers":[\#(none)]"#)) == #"trusted_issuers[0].jwks: an issuer needs keys: "jwks", "jwks_file" or "pem_file""#)
        let two = inlineIssuer("https://idp.example", #""jwks_file":"idp.jwks.json""#)
        #expect(fixture.refusal(minimalConfig(#""trusted_issuers":[\#(two)]"#)) == #"trusted_issuers[0].jwks: use only one of "jwks", "jwks_file", "pem_file""#)
        let uri = #"{"issuer":"https://idp.example","jwks_uri":"https://idp.example/jwks"}"#
        #expect(fixture.refusal(minimalConfig(#""trusted_issuers":[\#(uri)]"#)).hasPrefix("trusted_issuers[0].jwks_uri: fetching keys from a URL is not supported yet"))
        let uriAndFile = #"{"issuer":"https://idp.example","jwks_uri":"https://idp.example/jwks","jwks_file":"idp.jwks.json"}"#
        #expect(fixture.refusal(minimalConfig(#""trusted_issuers":[\#(uriAndFile)]"#)).hasPrefix("trusted_issuers[0].jwks_uri: "))
        let kidWithoutPEM = inlineIssuer("https://idp.example", #""kid":"x""#)
        #expect(fixture.refusal(minimalConfig(#""trusted_issuers":[\#(kidWithoutPEM)]"#)) == #"trusted_issuers[0].kid: a fixed kid goes with "pem_file""#)
        let missingFile = #"{"issuer":"https://idp.example","jwks_file":"nope.json"}"#
        #expect(fixture.refusal(minimalConfig(#""trusted_issuers":[\#(missingFile)]"#)).hasPrefix("trusted_issuers[0].jwks_file: cannot read"))
        let empty = #"{"issuer":"https://idp.example","jwks":{"keys":[]}}"#
        #expect(fixture.refusal(minimalConfig(#""trusted_issuers":[\#(empty)]"#)).hasPrefix("trusted_issuers[0].keys: "))
        let twice = minimalConfig(#""trusted_issuers":[\#(inlineIssuer()),\#(inlineIssuer())]"#)
        #expect(fixture.refusal(twice) == #"trusted_issuers[1].issuer: "https://idp.example" is configured twice"#)
    }

    @Test("a trusted issuer's keys must be public; private members are never echoed")
    func issuerPrivateKeys() throws {
        let fixture = try ConfigFixture()
        let privateSet = jwks(privateJWK(TestKeys.p256Second, kid: "idp-1", algorithm: .es256))
        let inline = #"{"issuer":"https://idp.example","jwks":\#(privateSet)}"#
        let message = fixture.refusal(minimalConfig(#""trusted_issuers":[\#(inline)]"#))
        #expect(message == #"trusted_issuers[0].jwks: key 1 (kid "idp-1"): holds private key material; configure public keys only"#)
        expectNoSecrets(in: message, from: privateSet)

        try fixture.write("private.jwks.json", privateSet)
        let file = #"{"issuer":"https://idp.example","jwks_file":"private.jwks.json"}"#
        let fileMessage = fixture.refusal(minimalConfig(#""trusted_issuers":[\#(file)]"#))
        #expect(fileMessage.hasPrefix("trusted_issuers[0].jwks_file (private.jwks.json): key 1 (kid \"idp-1\"): holds private key material"))
        expectNoSecrets(in: fileMessage, from: privateSet)

        let pem = PEM.encode(TestKeys.rsa)
        try fixture.write("private.pem", pem)
        let pemIssuer = #"{"issuer":"https://idp.example","pem_file":"private.pem","kid":"k"}"#
        let pemMessage = fixture.refusal(minimalConfig(#""trusted_issuers":[\#(pemIssuer)]"#))
        #expect(pemMessage.contains("holds private key material"))
        expectNoSecrets(in: pemMessage, from: pem)

        // A private key for a client's private_key_jwt is refused the same way.
        let client = #"{"client_id":"c","token_endpoint_auth_method":"private_key_jwt","jwks":\#(privateSet),"grant_types":["client_credentials"]}"#
        let clientMessage = fixture.refusal(minimalConfig(#""clients":[\#(client)]"#))
        #expect(clientMessage.hasPrefix("clients[0].jwks: key 1 (kid \"idp-1\"): holds private key material"))
        expectNoSecrets(in: clientMessage, from: privateSet)
    }

    @Test("an RSA key without alg is refused where both RS256 and PS256 are allowed")
    func rsaWithoutAlgorithm() throws {
        let fixture = try ConfigFixture()
        let set = jwks(publicJWK(TestKeys.rsa.publicKey, kid: "r", algorithm: nil))
        let both = #"{"issuer":"https://idp.example","algorithms":["RS256","PS256"],"jwks":\#(set)}"#
        let message = fixture.refusal(minimalConfig(#""trusted_issuers":[\#(both)]"#))
        #expect(message.hasPrefix(#"trusted_issuers[0].jwks: key 1 (kid "r"): has no "alg" and could serve PS256 or RS256"#), "\(message)")

        try fixture.write("rsa.pem", PEM.encode(TestKeys.rsa.publicKey))
        let pem = #"{"issuer":"https://idp.example","algorithms":["PS256","RS256"],"pem_file":"rsa.pem"}"#
        #expect(fixture.refusal(minimalConfig(#""trusted_issuers":[\#(pem)]"#)).contains("could serve PS256 or RS256"))

        // With one RSA algorithm allowed, the key takes it; with none listed, the type default.
        let one = #"{"issuer":"https://idp.example","algorithms":["PS256","ES256"],"jwks":\#(set)}"#
        let domain = try fixture.load(minimalConfig(#""trusted_issuers":[\#(one)]"#))
        #expect(domain.snapshot.trustedIssuers["https://idp.example"]?.keys.first?.algorithm == .ps256)
        let unlisted = #"{"issuer":"https://idp.example","jwks":\#(set)}"#
        let defaulted = try fixture.load(minimalConfig(#""trusted_issuers":[\#(unlisted)]"#))
        #expect(defaulted.snapshot.trustedIssuers["https://idp.example"]?.keys.first?.algorithm == .rs256)
        #expect(defaulted.snapshot.trustedIssuers["https://idp.example"]?.allowedAlgorithms == [.rs256])

        // A declared alg outside the allowed list, and a key type no allowed algorithm fits.
        let declared = jwks(publicJWK(TestKeys.rsa.publicKey, kid: "r", algorithm: .ps256))
        let mismatch = #"{"issuer":"https://idp.example","algorithms":["RS256"],"jwks":\#(declared)}"#
        #expect(fixture.refusal(minimalConfig(#""trusted_issuers":[\#(mismatch)]"#)).contains("alg PS256 is not in the allowed algorithms"))
        let unfit = #"{"issuer":"https://idp.example","algorithms":["ES256"],"jwks":\#(set)}"#
        #expect(fixture.refusal(minimalConfig(#""trusted_issuers":[\#(unfit)]"#)).contains("an RSA key fits none of the allowed algorithms"))
        let badAlgorithm = #"{"issuer":"https://idp.example","algorithms":["HS256"],"jwks":\#(set)}"#
        #expect(fixture.refusal(minimalConfig(#""trusted_issuers":[\#(badAlgorithm)]"#)).hasPrefix(#"trusted_issuers[0].algorithms[0]: unsupported algorithm "HS256""#))
    }

    @Test("a weak RSA key for a trusted issuer is refused")
    func weakIssuerKey() throws {
        let fixture = try ConfigFixture()
        _ = try OpenSSL.generate(["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:1024"], in: fixture.directory, name: "weak.pem")
        try fixture.write("weak.pub.pem", try OpenSSL.publicPEM(of: "weak.pem", in: fixture.directory))
        let issuer = #"{"issuer":"https://idp.example","pem_file":"weak.pub.pem","algorithms":["RS256"]}"#
        let message = fixture.refusal(minimalConfig(#""trusted_issuers":[\#(issuer)]"#))
        #expect(message.contains("RSA key of 1024 bits; at least 2048 are required"), "\(message)")
    }

    @Test("pairwise subjects need a set secret of at least 32 bytes")
    func pairwiseSecret() throws {
        let fixture = try ConfigFixture()
        let issuer = inlineIssuer("https://idp.example", #""subject":{"mode":"pairwise","secret_env":"PW"}"#)
        let config = minimalConfig(#""trusted_issuers":[\#(issuer)]"#)
        #expect(fixture.refusal(config) == "trusted_issuers[0].subject.secret_env: environment variable PW is not set")
        let short = String(repeating: "q", count: 31)
        let message = fixture.refusal(config, environment: ["BATON_SIGNING_KEYS": ConfigFixture.signingKeys, "PW": short])
        #expect(message == "trusted_issuers[0].subject.secret_env: environment variable PW must hold at least 32 bytes")
        _ = try fixture.load(config, environment: ["BATON_SIGNING_KEYS": ConfigFixture.signingKeys, "PW": short + "q"])
    }

    // MARK: Signing keys from the environment and files

    @Test("BATON_SIGNING_KEYS and BATON_SIGNING_KEYS_FILE together are refused")
    func bothKeySources() throws {
        let fixture = try ConfigFixture()
        let path = try fixture.write("keys.json", ConfigFixture.signingKeys)
        let message = fixture.refusal(minimalConfig(), environment: ["BATON_SIGNING_KEYS": ConfigFixture.signingKeys, "BATON_SIGNING_KEYS_FILE": path])
        #expect(message == "set only one of BATON_SIGNING_KEYS and BATON_SIGNING_KEYS_FILE")
        // An empty variable counts as unset.
        let domain = try fixture.load(minimalConfig(), environment: ["BATON_SIGNING_KEYS": "", "BATON_SIGNING_KEYS_FILE": path])
        #expect(domain.signer.kid == ConfigFixture.signingKID)
    }

    @Test("no keys anywhere, or an unreadable key file, is refused")
    func missingKeys() throws {
        let fixture = try ConfigFixture()
        #expect(fixture.refusal(minimalConfig(), environment: [:]).hasPrefix("no signing keys: set BATON_SIGNING_KEYS or BATON_SIGNING_KEYS_FILE"))
        let missing = fixture.directory.path("absent.json")
        #expect(fixture.refusal(minimalConfig(), environment: ["BATON_SIGNING_KEYS_FILE": missing]) == "BATON_SIGNING_KEYS_FILE: cannot read \(missing)")
        let garbled = try fixture.write("garbled.json", "{\"keys\":[{\"kty\":\"EC\"}]}")
        #expect(fixture.refusal(minimalConfig(), environment: ["BATON_SIGNING_KEYS_FILE": garbled]).hasPrefix("BATON_SIGNING_KEYS_FILE (\(garbled)): key 1"))
    }

    @Test("environment keys override signing_keys_file, which is resolved next to the config file")
    func keyPrecedence() throws {
        let fixture = try ConfigFixture()
        try fixture.write("conf/keys/dev.jwks.json", jwks(privateJWK(TestKeys.p256Second, kid: "file-key", algorithm: .es256)))
        let envFile = try fixture.write("elsewhere/env.jwks.json", jwks(privateJWK(TestKeys.p256Third, kid: "env-file-key", algorithm: .es256)))
        let config = minimalConfig(#""signing_keys_file":"keys/dev.jwks.json""#)
        let envKeys = jwks(privateJWK(TestKeys.p256, kid: "env-key", algorithm: .es256))

        let fromFile = try fixture.load(config, name: "conf/config.json", environment: [:])
        #expect(fromFile.signer.kid == "file-key")
        let fromEnvironment = try fixture.load(config, name: "conf/config.json", environment: ["BATON_SIGNING_KEYS": envKeys])
        #expect(fromEnvironment.signer.kid == "env-key")
        #expect(fromEnvironment.keys.published.map(\.kid) == ["env-key"])
        let fromEnvironmentFile = try fixture.load(config, name: "conf/config.json", environment: ["BATON_SIGNING_KEYS_FILE": envFile])
        #expect(fromEnvironmentFile.signer.kid == "env-file-key")

        // The relative path is resolved against the config's directory, not the working directory.
        let missing = minimalConfig(#""signing_keys_file":"keys/missing.jwks.json""#)
        do {
            _ = try fixture.load(missing, name: "conf/config.json", environment: [:])
            Issue.record("loaded")
        } catch {
            #expect(error.description == "signing_keys_file: cannot read \(fixture.directory.path("conf"))/keys/missing.jwks.json")
        }
        // An absolute signing_keys_file is used as is.
        let absolute = minimalConfig(#""signing_keys_file":"\#(envFile)""#)
        #expect(try fixture.load(absolute, environment: [:]).signer.kid == "env-file-key")
        // BATON_CONFIG names the file when no path is passed.
        let configPath = try fixture.write("conf/config.json", config)
        #expect(try DomainLoader.load(configPath: nil, environment: ["BATON_CONFIG": configPath]).signer.kid == "file-key")
        #expect(throws: ConfigurationError.self) { try DomainLoader.load(configPath: nil, environment: [:]) }
        #expect(throws: ConfigurationError.self) { try DomainLoader.load(configPath: fixture.directory.path("nope.json"), environment: [:]) }
    }

    @Test("without a private key for token_policy.signing_alg the message names signing_alg")
    func noSigningKeyForAlgorithm() throws {
        let fixture = try ConfigFixture()
        let publicOnly = jwks(publicJWK(TestKeys.p256.publicKey, kid: "pub", algorithm: .es256))
        #expect(fixture.refusal(minimalConfig(), environment: ["BATON_SIGNING_KEYS": publicOnly])
            == "token_policy.signing_alg: no private ES256 key to sign with (the ES256 keys loaded are public or verify-only)")
        let verifyOnly = jwks(privateJWK(TestKeys.p256, kid: "old", algorithm: .es256, extra: ["key_ops": #"["verify"]"#]))
        #expect(fixture.refusal(minimalConfig(), environment: ["BATON_SIGNING_KEYS": verifyOnly]).hasPrefix("token_policy.signing_alg: no private ES256 key"))
        let edPolicy = minimalConfig(policy: #"{"audience":"https://api.example","signing_alg":"EdDSA"}"#)
        #expect(fixture.refusal(edPolicy) == "token_policy.signing_alg: no private EdDSA key to sign with")
        let edKeys = jwks(privateJWK(TestKeys.ed25519, kid: "ed", algorithm: nil), privateJWK(TestKeys.p256, kid: "es", algorithm: .es256))
        let domain = try fixture.load(edPolicy, environment: ["BATON_SIGNING_KEYS": edKeys])
        #expect(domain.signer.kid == "ed")
        #expect(domain.signer.algorithm == .edDSA)
    }

    // MARK: Replay store

    @Test("BATON_REPLAY_STORE overrides replay_store and is parsed", arguments: [
        ("memory:", ReplayStoreSetting.memory), ("memory", .memory), ("sqlite:/x", .sqlite(path: "/x")),
        ("sqlite:relative/replay.db", .sqlite(path: "relative/replay.db")),
        ("postgres://baton:pw@db.internal:5432/baton", .postgres(url: "postgres://baton:pw@db.internal:5432/baton")),
        ("postgresql://db/baton", .postgres(url: "postgresql://db/baton")),
    ])
    func replayStoreOverride(value: String, expected: ReplayStoreSetting) throws {
        let fixture = try ConfigFixture()
        let config = minimalConfig(#""replay_store":"sqlite:/from-config.db""#)
        #expect(try fixture.load(config).snapshot.replayStore == .sqlite(path: "/from-config.db"))
        let domain = try fixture.load(config, environment: ["BATON_SIGNING_KEYS": ConfigFixture.signingKeys, "BATON_REPLAY_STORE": value])
        #expect(domain.snapshot.replayStore == expected)
    }

    @Test("unknown replay stores are refused without repeating credentials", arguments: [
        ("bogus:", #"BATON_REPLAY_STORE: unknown replay store "bogus""#),
        ("bogus://admin:hunter2@db/x", #"BATON_REPLAY_STORE: unknown replay store "bogus""#),
        ("mysql://admin:hunter2@db/x", #"BATON_REPLAY_STORE: unknown replay store "mysql""#),
        ("sqlite:", "BATON_REPLAY_STORE: sqlite: needs a file path"),
        ("redis", #"BATON_REPLAY_STORE: unknown replay store "redis""#),
    ])
    func replayStoreErrors(value: String, prefix: String) throws {
        let message = try ConfigFixture().refusal(minimalConfig(), environment: ["BATON_SIGNING_KEYS": ConfigFixture.signingKeys, "BATON_REPLAY_STORE": value])
        #expect(message.hasPrefix(prefix), "\(message)")
        #expect(!message.contains("hunter2"))
        let fromConfig = try ConfigFixture().refusal(minimalConfig(#""replay_store":"\#(value)""#))
        #expect(fromConfig.hasPrefix(prefix.replacingOccurrences(of: "BATON_REPLAY_STORE", with: "replay_store")), "\(fromConfig)")
    }
}

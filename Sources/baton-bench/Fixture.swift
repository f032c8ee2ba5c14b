import Handlers
import JOSE
import KeyLoader
import Runtime

/// The benchmark domain: generated keys and configurations on disk, so that the in-process handlers and
/// `baton serve` load exactly the same thing through the same loader.
///
/// - `keys/domain-<ALG>.DEV-ONLY.jwks.json`: the domain's signing key for each algorithm (RS256, PS256,
///   ES256, ES384, EdDSA); `domain-<ALG>.json` differ only in that key and `token_policy.signing_alg`.
/// - `keys/idp.DEV-ONLY.jwks.json`: the upstream IdP's RS256 and ES256 keys (assertions are minted with
///   them); the domain trusts their public half.
/// - `keys/client.DEV-ONLY.jwks.json`: the `private_key_jwt` client's ES256 key.
struct Fixture {
    static let issuer = "https://bench.baton.example"
    static let idpIssuer = "https://idp.bench.example"
    static let peerIssuer = "https://peer.bench.example"
    static let tokenEndpoint = issuer + "/token"
    static let secretClient = "bench-app"
    static let keyClient = "bench-signer"
    static let clientSecret = "bench-client-secret-DEV-ONLY-0123456789abcdef"
    static let jwtBearer = "urn:ietf:params:oauth:grant-type:jwt-bearer"
    static let tokenExchange = "urn:ietf:params:oauth:grant-type:token-exchange"
    static let clientAssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
    static let accessTokenType = "urn:ietf:params:oauth:token-type:access_token"
    static let algorithms: [JWSAlgorithm] = [.rs256, .ps256, .es256, .es384, .edDSA]

    let directory: String
    let idpKeys: [JWSAlgorithm: SigningKey]
    let clientKey: SigningKey

    static func configPath(_ directory: String, _ algorithm: JWSAlgorithm) -> String { "\(directory)/domain-\(algorithm.rawValue).json" }
    func configPath(_ algorithm: JWSAlgorithm) -> String { Self.configPath(directory, algorithm) }
    /// The ES256 domain without `replay_store`: each adapter's default store (section 4).
    var defaultStoreConfigPath: String { "\(directory)/domain-ES256-default-store.json" }

    /// Writes fresh keys and configurations into `directory`.
    static func create(in directory: String) throws -> Fixture {
        Files.makeDirectory(directory + "/keys")
        var domainKeys: [(JWSAlgorithm, PrivateKeyMaterial)] = []
        for algorithm in algorithms { domainKeys.append((algorithm, try PrivateKeyMaterial.generate(for: algorithm))) }
        let idpRSA = try PrivateKeyMaterial.generate(for: .rs256)
        let idpEC = try PrivateKeyMaterial.generate(for: .es256)
        let client = try PrivateKeyMaterial.generate(for: .es256)

        for (algorithm, key) in domainKeys {
            try Files.write(directory + "/keys/domain-\(algorithm.rawValue).DEV-ONLY.jwks.json", privateJWKS([("bench-\(algorithm.rawValue.lowercased())", algorithm, key)]))
        }
        try Files.write(directory + "/keys/idp.DEV-ONLY.jwks.json", privateJWKS([("idp-rs256", .rs256, idpRSA), ("idp-es256", .es256, idpEC)]))
        try Files.write(directory + "/keys/idp.public.jwks.json", publicJWKS([("idp-rs256", .rs256, idpRSA.publicKey), ("idp-es256", .es256, idpEC.publicKey)]))
        try Files.write(directory + "/keys/client.DEV-ONLY.jwks.json", privateJWKS([("client-es256", .es256, client)]))
        let clientJWKS = String(decoding: publicJWKS([("client-es256", .es256, client.publicKey)]), as: UTF8.self)
        let secretHash = SecretHash(secret: clientSecret, salt: Array(repeating: 0x42, count: 16)).encoded
        for algorithm in algorithms {
            try Files.write(configPath(directory, algorithm), config(signing: algorithm, secretHash: secretHash, clientJWKS: clientJWKS))
        }
        let fixture = try load(from: directory)
        try Files.write(
            fixture.defaultStoreConfigPath, config(signing: .es256, secretHash: secretHash, clientJWKS: clientJWKS, replayStore: nil)
        )
        return fixture
    }

    static func load(from directory: String) throws -> Fixture {
        let idp = try SigningKeyLoader.load(try Files.readText(directory + "/keys/idp.DEV-ONLY.jwks.json"), source: "idp")
        let client = try SigningKeyLoader.load(try Files.readText(directory + "/keys/client.DEV-ONLY.jwks.json"), source: "client")
        return Fixture(directory: directory, idpKeys: idp.activeSigners, clientKey: client.activeSigners[.es256]!)
    }

    func domain(_ algorithm: JWSAlgorithm) throws -> Domain {
        try DomainLoader.load(configPath: configPath(algorithm), environment: [:])
    }

    private static func privateJWKS(_ keys: [(String, JWSAlgorithm, PrivateKeyMaterial)]) -> [UInt8] {
        var writer = JSONWriter(capacity: 8192)
        writer.beginObject()
        writer.key("keys")
        writer.beginArray()
        for (kid, algorithm, key) in keys { key.writePrivateJWK(kid: kid, algorithm: algorithm, into: &writer) }
        writer.endArray()
        writer.endObject()
        return writer.bytes
    }

    private static func publicJWKS(_ keys: [(String, JWSAlgorithm, PublicKeyMaterial)]) -> [UInt8] {
        var writer = JSONWriter(capacity: 4096)
        writer.beginObject()
        writer.key("keys")
        writer.beginArray()
        for (kid, algorithm, key) in keys { key.writeJWK(kid: kid, algorithm: algorithm, into: &writer) }
        writer.endArray()
        writer.endObject()
        return writer.bytes
    }

    /// `replayStore`: the `replay_store` member; nil leaves it out.
    private static func config(signing algorithm: JWSAlgorithm, secretHash: String, clientJWKS: String, replayStore: String? = "memory:") -> String {
        """
        {
          "description": "Benchmark domain (bench/run); generated keys, development only.",
          "issuer": "\(issuer)",
          "signing_keys_file": "keys/domain-\(algorithm.rawValue).DEV-ONLY.jwks.json",
          "token_policy": {"access_token_lifetime": 300, "signing_alg": "\(algorithm.rawValue)", "audience": "https://api.bench.baton.example"},
          "trusted_issuers": [
            {
              "issuer": "\(idpIssuer)",
              "jwks_file": "keys/idp.public.jwks.json",
              "algorithms": ["RS256", "ES256"],
              "max_assertion_lifetime": 300,
              "subject": {"mode": "passthrough"},
              "required_claims": [{"claim": "email"}],
              "copy_claims": ["email"]
            }
          ],
          "clients": [
            {
              "client_id": "\(secretClient)",
              "token_endpoint_auth_method": "client_secret_basic",
              "secret_hash": "\(secretHash)",
              "grant_types": ["client_credentials", "\(jwtBearer)", "\(tokenExchange)"],
              "scopes": ["orders.read", "orders.write", "profile"],
              "default_scopes": ["orders.read"],
              "trusted_issuers": ["\(idpIssuer)"]
            },
            {
              "client_id": "\(keyClient)",
              "token_endpoint_auth_method": "private_key_jwt",
              "jwks": \(clientJWKS),
              "grant_types": ["client_credentials", "\(jwtBearer)"],
              "scopes": ["orders.read"],
              "default_scopes": ["orders.read"],
              "trusted_issuers": ["\(idpIssuer)"]
            }
          ],
          "exchange_targets": [
            {
              "name": "peer",
              "audience": "\(peerIssuer)",
              "issuer": "\(peerIssuer)",
              "clients": ["\(secretClient)"],
              "token_types": ["jwt"],
              "lifetime": 60,
              "scopes": ["orders.read", "profile"]
            }
          ]\(replayStore.map { ",\n  \"replay_store\": \"\($0)\"" } ?? "")
        }

        """
    }

    // MARK: Requests

    static var basicAuthorization: String {
        "Basic " + Base64Standard.encode(Array("\(secretClient):\(clientSecret)".utf8))
    }

    /// Headers of every token request; client_secret_basic unless the body carries a client assertion.
    static func headers(basic: Bool) -> [(name: String, value: String)] {
        var headers: [(name: String, value: String)] = [("content-type", "application/x-www-form-urlencoded")]
        if basic { headers.append(("authorization", basicAuthorization)) }
        return headers
    }

    /// An upstream user assertion (RFC 7523) with a fresh jti, valid from `now` for `lifetime` seconds.
    func userAssertion(_ algorithm: JWSAlgorithm, serial: Int, run: String, now: Int64, lifetime: Int64 = 290) throws -> String {
        var claims = JSONWriter(capacity: 256)
        claims.beginObject()
        claims.member("iss", Self.idpIssuer)
        claims.member("sub", "user-\(serial % 997)")
        claims.member("aud", Self.issuer)
        claims.member("iat", now)
        claims.member("exp", now + lifetime)
        claims.member("jti", "\(run)-\(serial)")
        claims.member("email", "user-\(serial % 997)@example.com")
        claims.endObject()
        return try idpKeys[algorithm]!.sign(type: "JWT", payload: claims.bytes)
    }

    /// A `private_key_jwt` client assertion with a fresh jti.
    func clientAssertion(serial: Int, run: String, now: Int64) throws -> String {
        var claims = JSONWriter(capacity: 256)
        claims.beginObject()
        claims.member("iss", Self.keyClient)
        claims.member("sub", Self.keyClient)
        claims.member("aud", Self.tokenEndpoint)
        claims.member("iat", now)
        claims.member("exp", now + 290)
        claims.member("jti", "\(run)-c\(serial)")
        claims.endObject()
        return try clientKey.sign(type: "JWT", payload: claims.bytes)
    }

    static func form(_ pairs: [(String, String)]) -> String {
        pairs.map { "\(formEncode($0.0))=\(formEncode($0.1))" }.joined(separator: "&")
    }

    static func formEncode(_ text: String) -> String {
        var output: [UInt8] = []
        let hex = Array("0123456789ABCDEF".utf8)
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"):
                output.append(byte)
            default:
                output.append(UInt8(ascii: "%"))
                output.append(hex[Int(byte >> 4)])
                output.append(hex[Int(byte & 0x0F)])
            }
        }
        return String(decoding: output, as: UTF8.self)
    }
}

import Crypto
import Handlers
import JOSE
import JWTKit
import Synchronization
import Testing
import _CryptoExtras

/// A fixed clock: every test runs at the same instant.
let now: Int64 = 1_800_000_000

let domainIssuer = "https://b.example"
let idpIssuer = "https://idp.example"
let otherIssuer = "https://other.example"
let jwtBearer = "urn:ietf:params:oauth:grant-type:jwt-bearer"
let tokenExchange = "urn:ietf:params:oauth:grant-type:token-exchange"
let clientSecret = "client-secret-of-at-least-thirty-two-characters"

/// Keys generated once per test process; RSA generation is slow.
enum TestKeys {
    static let domainSigner = try! SigningKey(kid: "b-1", algorithm: .es256, material: .p256(P256.Signing.PrivateKey()))
    static let idpRSA = try! SigningKey(kid: "idp-rsa", algorithm: .rs256, material: .rsa(try! _RSA.Signing.PrivateKey(keySize: .bits2048)))
    static let idpEC = try! SigningKey(kid: "idp-ec", algorithm: .es256, material: .p256(P256.Signing.PrivateKey()))
    static let otherEC = try! SigningKey(kid: "other-ec", algorithm: .es256, material: .p256(P256.Signing.PrivateKey()))
    static let clientKey = try! SigningKey(kid: "client-key", algorithm: .es256, material: .p256(P256.Signing.PrivateKey()))
    static let attacker = try! SigningKey(kid: "idp-ec", algorithm: .es256, material: .p256(P256.Signing.PrivateKey()))
}

/// A deterministic environment: fixed time, counting token ids, a fresh replay store per value.
func makeEnvironment(at time: Int64 = now, store: any ReplayStore = MemoryReplayStore()) -> HandlerEnvironment {
    let counter = Counter()
    return HandlerEnvironment(now: time, makeTokenID: { "jti-\(counter.next())" }, replayStore: store)
}

final class Counter: Sendable {
    private let value = Atomic<Int>(0)
    func next() -> Int { value.add(1, ordering: .relaxed).newValue }
}

struct TestDomainBuilder {
    var issuers: [TrustedIssuer] = [
        TrustedIssuer(
            issuer: idpIssuer, keys: [TestKeys.idpRSA.verificationKey, TestKeys.idpEC.verificationKey],
            allowedAlgorithms: [.rs256, .es256], audiences: [domainIssuer, domainIssuer + "/token"]
        ),
        TrustedIssuer(
            issuer: otherIssuer, keys: [TestKeys.otherEC.verificationKey], allowedAlgorithms: [.es256],
            audiences: [domainIssuer, domainIssuer + "/token"]
        ),
    ]
    var clients: [ClientConfig] = [
        ClientConfig(
            clientID: "app", authMethod: .clientSecretBasic, credential: .secret(SecretHash(secret: clientSecret, salt: Array(repeating: 7, count: 16))),
            grantTypes: [.jwtBearer, .clientCredentials, .tokenExchange], allowedScopes: ["read", "write", "profile"],
            defaultScopes: ["read"], allowedIssuers: [idpIssuer]
        ),
        ClientConfig(
            clientID: "poster", authMethod: .clientSecretPost, credential: .secret(SecretHash(secret: clientSecret, salt: Array(repeating: 9, count: 16))),
            grantTypes: [.clientCredentials, .jwtBearer], allowedScopes: ["read"], allowedIssuers: [idpIssuer]
        ),
        ClientConfig(
            clientID: "signer", authMethod: .privateKeyJWT, credential: .keys([TestKeys.clientKey.verificationKey]),
            grantTypes: [.clientCredentials, .jwtBearer], allowedScopes: ["read"], defaultScopes: ["read"], allowedIssuers: [idpIssuer]
        ),
        ClientConfig(
            clientID: "public-app", authMethod: .none, credential: .none, grantTypes: [.jwtBearer],
            allowedScopes: ["read"], allowedIssuers: [idpIssuer]
        ),
        ClientConfig(
            clientID: "limited", authMethod: .clientSecretBasic, credential: .secret(SecretHash(secret: clientSecret, salt: Array(repeating: 3, count: 16))),
            grantTypes: [.clientCredentials], allowedScopes: ["read"], allowedIssuers: [idpIssuer]
        ),
    ]
    var targets: [ExchangeTarget] = []
    var lifetime: Int64 = 300

    func build() -> Domain {
        let snapshot = Snapshot(
            issuer: domainIssuer, tokenPolicy: TokenPolicy(accessTokenLifetime: lifetime, signingAlgorithm: .es256, audience: ["https://api.b.example"]),
            clients: clients, trustedIssuers: issuers, exchangeTargets: targets
        )
        let keys = KeySet(activeSigners: [.es256: TestKeys.domainSigner], published: [TestKeys.domainSigner.verificationKey])
        return try! Domain(snapshot: snapshot, keys: keys)
    }

    mutating func updateIssuer(_ name: String, _ change: (inout TrustedIssuer) -> Void) {
        let index = issuers.firstIndex { $0.issuer == name }!
        change(&issuers[index])
    }

    mutating func updateClient(_ id: String, _ change: (inout ClientConfig) -> Void) {
        let index = clients.firstIndex { $0.clientID == id }!
        change(&clients[index])
    }
}

/// Claims for an assertion, in order; `nil` values drop the claim.
func claims(_ members: [(String, JSONValue?)]) -> [UInt8] {
    var writer = JSONWriter()
    writer.beginObject()
    for (name, value) in members {
        if let value { writer.member(named: name, value) }
    }
    writer.endObject()
    return writer.bytes
}

/// A standard valid assertion from the IdP for domain B, with overrides.
func assertion(
    key: SigningKey = TestKeys.idpEC, type: String = "JWT", iss: String = idpIssuer, sub: String = "alice",
    aud: JSONValue? = .string(domainIssuer), iat: Int64? = now - 10, exp: Int64? = now + 60, jti: String? = "assertion-1",
    extra: [(String, JSONValue?)] = []
) -> String {
    var members: [(String, JSONValue?)] = [
        ("iss", .string(iss)), ("sub", .string(sub)), ("aud", aud),
        ("iat", iat.map { .number(Double($0)) }), ("exp", exp.map { .number(Double($0)) }), ("jti", jti.map { .string($0) }),
    ]
    members.append(contentsOf: extra)
    return try! key.sign(type: type, payload: claims(members))
}

/// Builds a compact JWS from raw header and payload JSON text, signed (or not) as the test wishes.
func rawToken(header: String, payload: String, signature: [UInt8]) -> String {
    Base64URL.encodeToString(Array(header.utf8)) + "." + Base64URL.encodeToString(Array(payload.utf8)) + "." + Base64URL.encodeToString(signature)
}

func signedRaw(header: String, payload: String, key: SigningKey) -> String {
    let input = Base64URL.encodeToString(Array(header.utf8)) + "." + Base64URL.encodeToString(Array(payload.utf8))
    let signature = try! key.material.signature(for: Array(input.utf8), algorithm: key.algorithm)
    return input + "." + Base64URL.encodeToString(signature)
}

func formBody(_ pairs: [(String, String)]) -> [UInt8] {
    Array(pairs.map { "\(formEncode($0.0))=\(formEncode($0.1))" }.joined(separator: "&").utf8)
}

func formEncode(_ text: String) -> String {
    var output = ""
    for byte in text.utf8 {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
             UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"):
            output.unicodeScalars.append(Unicode.Scalar(byte))
        default:
            let hex = String(byte, radix: 16, uppercase: true)
            output += "%" + (hex.count == 1 ? "0" + hex : hex)
        }
    }
    return output
}

func basic(_ id: String, _ secret: String) -> (String, String) {
    ("authorization", "Basic " + Base64Standard.encode(Array("\(formEncode(id)):\(formEncode(secret))".utf8)))
}

struct TokenCall {
    var domain: Domain
    var environment: HandlerEnvironment

    init(_ domain: Domain, environment: HandlerEnvironment = makeEnvironment()) {
        self.domain = domain
        self.environment = environment
    }

    func post(_ pairs: [(String, String)], headers: [(String, String)] = [basic("app", clientSecret)]) async -> Result {
        let request = EndpointRequest(
            method: "POST", path: "/token",
            headers: [("content-type", "application/x-www-form-urlencoded")] + headers.map { (name: $0.0, value: $0.1) },
            body: formBody(pairs)
        )
        let outcome = await TokenEndpoint(domain: domain).handle(request, in: environment)
        return Result(response: outcome.response, decision: outcome.decision)
    }

    func jwtBearer(_ token: String, scope: String? = nil, headers: [(String, String)] = [basic("app", clientSecret)]) async -> Result {
        var pairs = [("grant_type", HandlersTests.jwtBearer), ("assertion", token)]
        if let scope { pairs.append(("scope", scope)) }
        return await post(pairs, headers: headers)
    }
}

struct Result {
    var response: EndpointResponse
    var decision: Decision

    var json: JSONObject { (try? JSONParser.parse(response.body))?.objectValue ?? JSONObject() }
    var error: String? { json["error"]?.stringValue }
    var description: String { json["error_description"]?.stringValue ?? "" }
    var accessToken: String? { json["access_token"]?.stringValue }

    /// The issued token's claims, after checking its signature with the domain's key.
    var tokenClaims: JSONObject {
        guard let token = accessToken, let jws = try? CompactJWS.parse(token),
              (try? jws.verify(with: [TestKeys.domainSigner.verificationKey], allowedAlgorithms: [.es256])) != nil else {
            return JSONObject()
        }
        return jws.claims
    }

    var tokenHeader: JSONObject { accessToken.flatMap { try? CompactJWS.parse($0).header } ?? JSONObject() }
}

/// Asserts an OAuth error and that its description mentions `fragment`.
func expectError(_ result: Result, _ code: String, _ fragment: String? = nil, status: Int = 400, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(result.response.status == status, "status \(result.response.status): \(result.description)", sourceLocation: sourceLocation)
    #expect(result.error == code, "error \(result.error ?? "nil"): \(result.description)", sourceLocation: sourceLocation)
    if let fragment {
        #expect(result.description.contains(fragment), "description: \(result.description)", sourceLocation: sourceLocation)
    }
    #expect(result.response.header("cache-control") == "no-store", sourceLocation: sourceLocation)
    #expect(result.accessToken == nil, sourceLocation: sourceLocation)
}

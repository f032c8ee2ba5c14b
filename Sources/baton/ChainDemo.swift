#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Handlers
import JOSE
import KeyLoader
import Runtime

/// The steps of the chain demo. Each step sends a real request through the transport and prints what
/// crossed the boundary; any unexpected answer stops the demo with a non-zero exit.
struct ChainDemo {
    let transport: any ChainTransport
    let domainA: Snapshot
    let domainB: Snapshot
    let idpKeyFile: String
    let clientA: (id: String, secret: String)
    let clientB: (id: String, secret: String)

    static let idpIssuer = "https://idp.example"
    static let jwtBearer = "urn:ietf:params:oauth:grant-type:jwt-bearer"
    static let tokenExchange = "urn:ietf:params:oauth:grant-type:token-exchange"

    func runChainingGrant() async throws {
        banner("Identity chaining across domains (draft-ietf-oauth-identity-chaining), chaining grant")
        let assertion = try idpToken(audience: domainA.issuer, step: 1, title: "upstream IdP \(Self.idpIssuer) signs a user assertion for domain A")
        let accessA = try await token(
            step: 2, title: "domain A redeems the assertion (RFC 7523 jwt-bearer)", domain: .a, client: clientA,
            form: [("grant_type", Self.jwtBearer), ("assertion", assertion), ("scope", "orders.read profile")]
        )
        let grant = try await token(
            step: 3, title: "domain A exchanges its access token for a grant aimed at domain B (RFC 8693)", domain: .a, client: clientA,
            form: [("grant_type", Self.tokenExchange), ("subject_token", accessA),
                   ("subject_token_type", TokenTypeURI.accessToken), ("audience", domainB.issuer),
                   ("requested_token_type", TokenTypeURI.jwt), ("scope", "orders.read")]
        )
        let accessB = try await token(
            step: 4, title: "domain B redeems the chaining grant (RFC 7523 jwt-bearer)", domain: .b, client: clientB,
            form: [("grant_type", Self.jwtBearer), ("assertion", grant)]
        )
        try await verify(accessB, step: 5)
    }

    func runIDJAG() async throws {
        banner("Cross-app access with an ID-JAG (draft-ietf-oauth-identity-assertion-authz-grant)")
        let idToken = try idpToken(audience: clientA.id, step: 1, title: "upstream IdP \(Self.idpIssuer) signs an ID token for client \(clientA.id)")
        let idJAG = try await token(
            step: 2, title: "domain A exchanges the ID token for an ID-JAG aimed at domain B (RFC 8693)", domain: .a, client: clientA,
            form: [("grant_type", Self.tokenExchange), ("subject_token", idToken),
                   ("subject_token_type", TokenTypeURI.idToken), ("audience", domainB.issuer),
                   ("requested_token_type", TokenTypeURI.idJAG), ("scope", "orders.read")]
        )
        let accessB = try await token(
            step: 3, title: "domain B redeems the ID-JAG (jwt-bearer, typ oauth-id-jag+jwt)", domain: .b, client: clientB,
            form: [("grant_type", Self.jwtBearer), ("assertion", idJAG)]
        )
        try await verify(accessB, step: 4)
    }

    // MARK: - Steps

    private func idpToken(audience: String, step: Int, title: String) throws -> String {
        heading(step, title)
        let text = String(decoding: try readFileBytes(idpKeyFile), as: UTF8.self)
        let keys: KeySet
        do { keys = try SigningKeyLoader.load(text, source: idpKeyFile) } catch { throw Fatal("\(error)") }
        guard let rsa = keys.activeSigners[.rs256] else { throw Fatal("\(idpKeyFile) holds no RS256 key") }
        let signer = try SigningKey(kid: "idp-2026", algorithm: .rs256, material: rsa.material)
        let now = Int64(Date().timeIntervalSince1970)
        var claims = JSONWriter()
        claims.beginObject()
        claims.member("iss", Self.idpIssuer)
        claims.member("sub", "alice")
        claims.member("aud", audience)
        claims.member("iat", now)
        claims.member("exp", now + 120)
        claims.member("jti", LiveEnvironment.randomTokenID())
        claims.member("email", "alice@example.com")
        claims.key("email_verified")
        claims.bool(true)
        claims.endObject()
        let token = try signer.sign(type: "JWT", payload: claims.bytes)
        show(token: token)
        return token
    }

    private func token(
        step: Int, title: String, domain: ChainDomain, client: (id: String, secret: String), form: [(String, String)]
    ) async throws -> String {
        heading(step, title)
        let body = form.map { "\(Self.formEncode($0.0))=\(Self.formEncode($0.1))" }.joined(separator: "&")
        let basic = "Basic " + Base64Standard.encode(Array("\(Self.formEncode(client.id)):\(Self.formEncode(client.secret))".utf8))
        let tokenPath = RouteTable.path(of: domain == .a ? domainA.tokenEndpoint : domainB.tokenEndpoint)
        print("   POST \(tokenPath) at \(domain == .a ? domainA.issuer : domainB.issuer) (\(transport.describe(domain))), client \(client.id) via client_secret_basic")
        for (name, value) in form { print("     \(name) = \(Self.abbreviate(value))") }
        let request = EndpointRequest(
            method: "POST", path: tokenPath,
            headers: [("content-type", "application/x-www-form-urlencoded"), ("authorization", basic)],
            body: Array(body.utf8)
        )
        let response = try await transport.send(request, to: domain)
        let json = try? JSONParser.parse(response.body)
        guard response.status == 200, let object = json?.objectValue, let issued = object["access_token"]?.stringValue else {
            throw Fatal("step \(step) failed: HTTP \(response.status) \(String(decoding: response.body, as: UTF8.self))")
        }
        let summary = object.members.map { member in
            "\(member.name)=\(member.name == "access_token" ? Self.abbreviate(issued) : (member.value.stringValue ?? PrettyJSON.render(member.value)))"
        }
        print("   -> \(response.status) " + summary.joined(separator: " "))
        show(token: issued)
        return issued
    }

    private func verify(_ token: String, step: Int) async throws {
        heading(step, "a resource server of domain B verifies the token with domain B's JWKS")
        let jwksPath = RouteTable.path(of: domainB.jwksURI)
        let response = try await transport.send(EndpointRequest(method: "GET", path: jwksPath), to: .b)
        guard response.status == 200, let keysArray = (try? JSONParser.parse(response.body))?.objectValue?["keys"]?.arrayValue else {
            throw Fatal("step \(step) failed: GET \(jwksPath) answered \(response.status)")
        }
        var keys: [VerificationKey] = []
        for item in keysArray {
            guard let object = item.objectValue, let parsed = try? JWK.parse(object), let kid = parsed.kid, let alg = parsed.algorithm else { continue }
            keys.append(VerificationKey(kid: kid, algorithm: alg, material: parsed.publicMaterial))
        }
        print("   GET \(jwksPath) -> \(keys.count) key(s): \(keys.map(\.kid).joined(separator: ", "))")
        do {
            let jws = try CompactJWS.parse(token)
            let key = try jws.verify(with: keys, allowedAlgorithms: Set(JWSAlgorithm.allCases))
            guard CompactJWS.typeMatches(jws.type, "at+jwt"), jws.claims["iss"]?.stringValue == domainB.issuer else {
                throw Fatal("step \(step) failed: the token is not a domain B access token")
            }
            print("   signature valid (kid \(key.kid), \(key.algorithm.rawValue)); typ at+jwt; iss \(domainB.issuer); sub \(jws.claims["sub"]?.stringValue ?? "?")")
        } catch let error as JWSError {
            throw Fatal("step \(step) failed: \(error.description)")
        }
        print("\nThe identity crossed from the IdP through domain A into domain B, each hop signed and checked.")
    }

    // MARK: - Printing

    private func banner(_ text: String) { print("\n== \(text)\n") }

    private func heading(_ step: Int, _ title: String) { print("\n-- Step \(step): \(title)") }

    private func show(token: String) {
        guard let jws = try? CompactJWS.parse(token) else { return }
        print("   header: " + PrettyJSON.render(.object(jws.header), indent: "   "))
        print("   claims: " + PrettyJSON.render(.object(jws.claims), indent: "   "))
    }

    private func print(_ text: String) { StandardStreams.print(text) }

    static func abbreviate(_ value: String) -> String {
        value.count > 48 ? "\(value.prefix(24))…(\(value.utf8.count) bytes)" : value
    }

    static func formEncode(_ text: String) -> String {
        var output = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "*"):
                output.unicodeScalars.append(Unicode.Scalar(byte))
            case UInt8(ascii: " "):
                output += "+"
            default:
                output += "%" + String(byte, radix: 16, uppercase: true).leftPadded()
            }
        }
        return output
    }
}

private extension String {
    func leftPadded() -> String { count == 1 ? "0" + self : self }
}

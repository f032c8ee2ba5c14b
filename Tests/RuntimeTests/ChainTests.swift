import Foundation
import JWTKit
import Runtime
import Testing

/// The chaining grant domain A issues for domain B (identity chaining, a JWT aimed at B).
struct ChainingGrantClaims: JWTPayload {
    var iss: IssuerClaim
    var sub: SubjectClaim
    var aud: AudienceClaim
    var exp: ExpirationClaim
    var iat: IssuedAtClaim
    var jti: IDClaim
    var scope: String?
    var email: String?
    var email_verified: Bool?

    func verify(using algorithm: some JWTAlgorithm) async throws {
        try exp.verifyNotExpired()
    }
}

@Suite("The two-domain chain over HTTP", .timeLimit(.minutes(2)))
struct ChainTests {
    static let jwtBearer = "urn:ietf:params:oauth:grant-type:jwt-bearer"
    static let tokenExchange = "urn:ietf:params:oauth:grant-type:token-exchange"
    static let accessTokenType = "urn:ietf:params:oauth:token-type:access_token"
    static let jwtTokenType = "urn:ietf:params:oauth:token-type:jwt"

    @Test("baton chain --over-http and --id-jag --over-http against two baton serve processes; then the chain by hand")
    func chainOverHTTP() async throws {
        async let startA = Server.start(config: "examples/domain-a.json")
        async let startB = Server.start(config: "examples/domain-b.json")
        // If one fails to start, the other is released and its Child's deinit kills it.
        let (a, b) = try await (startA, startB)
        defer {
            a.stop()
            b.stop()
        }

        let urls = [a.baseURL, b.baseURL]
        async let plainRun = baton(["chain", "--over-http"] + urls)
        async let idJAGRun = baton(["chain", "--id-jag", "--over-http"] + urls)
        for (name, result) in [("chain", try await plainRun), ("chain --id-jag", try await idJAGRun)] {
            #expect(result.succeeded, "\(name) exited \(result.status): \(result.stderr)")
            #expect(result.stdoutText.contains("signature valid"), "\(name) output:\n\(result.stdoutText)")
            #expect(result.stdoutText.contains("sub b-user-1001"), "\(name)")
            #expect(result.stdoutText.contains(a.baseURL) && result.stdoutText.contains(b.baseURL), "\(name) went over HTTP")
        }

        try await chainByHand(a: a, b: b)

        #expect(await a.terminate())
        #expect(await b.terminate())
    }

    /// IdP assertion -> A jwt-bearer -> A token exchange (audience B, a JWT) -> B jwt-bearer -> verify with B's /jwks.
    func chainByHand(a: Server, b: Server) async throws {
        let jwksA = String(decoding: try await a.get("/jwks").body, as: UTF8.self)
        let jwksB = String(decoding: try await b.get("/jwks").body, as: UTF8.self)

        // 1. The upstream IdP's user assertion for domain A.
        let assertion = try await mintAssertion(audience: Package.issuerA, claims: ["email=alice@example.com", "email_verified=true"])

        // 2. Domain A redeems it.
        let step2 = try await a.token(
            client: "agent-app", secret: Package.secretA,
            form: [("grant_type", Self.jwtBearer), ("assertion", assertion), ("scope", "orders.read profile")]
        )
        try #require(step2.status == 200, "A jwt-bearer: \(String(decoding: step2.body, as: UTF8.self))")
        let accessA = try #require(try jsonObject(step2.body)["access_token"] as? String)
        let claimsA = try await verifyAccessToken(accessA, jwks: jwksA)
        #expect(claimsA.iss.value == Package.issuerA)
        #expect(claimsA.sub.value == "alice", "domain A passes IdP subjects through")
        #expect(claimsA.aud.value == ["https://api.a.baton.example"])
        #expect(claimsA.client_id == "agent-app")
        #expect(claimsA.email == "alice@example.com")

        // 3. Domain A exchanges its access token for a grant aimed at domain B.
        let step3 = try await a.token(
            client: "agent-app", secret: Package.secretA,
            form: [("grant_type", Self.tokenExchange), ("subject_token", accessA), ("subject_token_type", Self.accessTokenType),
                   ("audience", Package.issuerB), ("requested_token_type", Self.jwtTokenType), ("scope", "orders.read")]
        )
        try #require(step3.status == 200, "A token exchange: \(String(decoding: step3.body, as: UTF8.self))")
        #expect(step3.header("cache-control") == "no-store")
        let exchange = try jsonObject(step3.body)
        #expect(exchange["issued_token_type"] as? String == Self.jwtTokenType)
        let grant = try #require(exchange["access_token"] as? String)
        let grantClaims = try await JWTKeyCollection().add(jwksJSON: jwksA).verify(grant, as: ChainingGrantClaims.self)
        #expect(grantClaims.iss.value == Package.issuerA)
        #expect(grantClaims.aud.value == [Package.issuerB])
        #expect(grantClaims.sub.value == "alice")
        #expect(grantClaims.email_verified == true)
        #expect(try joseHeader(grant)["typ"] as? String != "at+jwt", "a chaining grant is not an access token")

        // 4. Domain B redeems the grant.
        let step4 = try await b.token(client: "agent-app-at-b", secret: Package.secretB, form: [("grant_type", Self.jwtBearer), ("assertion", grant)])
        try #require(step4.status == 200, "B jwt-bearer: \(String(decoding: step4.body, as: UTF8.self))")
        let accessB = try #require(try jsonObject(step4.body)["access_token"] as? String)

        // 5. A resource server of domain B verifies it with B's published keys.
        let claimsB = try await verifyAccessToken(accessB, jwks: jwksB)
        #expect(try joseHeader(accessB)["typ"] as? String == "at+jwt")
        #expect(claimsB.iss.value == Package.issuerB)
        #expect(claimsB.sub.value == "b-user-1001", "domain B links alice to b-user-1001")
        #expect(claimsB.aud.value == ["https://api.b.baton.example"])
        #expect(claimsB.client_id == "agent-app-at-b")
        #expect(claimsB.scope == "orders.read")
        #expect(claimsB.email == "alice@example.com")
        #expect(claimsB.exp.value <= grantClaims.exp.value.addingTimeInterval(1), "B's token does not outlive the grant")
        // Domain A's keys do not verify domain B's token.
        await #expect(throws: (any Error).self) { _ = try await verifyAccessToken(accessB, jwks: jwksA) }

        // The grant is single-use at B, and A's access token is not a grant B accepts.
        let replay = try await b.token(client: "agent-app-at-b", secret: Package.secretB, form: [("grant_type", Self.jwtBearer), ("assertion", grant)])
        #expect(replay.status == 400)
        #expect(try jsonObject(replay.body)["error"] as? String == "invalid_grant")
        let wrongToken = try await b.token(client: "agent-app-at-b", secret: Package.secretB, form: [("grant_type", Self.jwtBearer), ("assertion", accessA)])
        #expect(wrongToken.status == 400)
        #expect(try jsonObject(wrongToken.body)["error"] as? String == "invalid_grant")
    }
}

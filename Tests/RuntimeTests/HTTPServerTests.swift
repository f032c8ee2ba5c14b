import Foundation
import JWTKit
import Runtime
import Testing

@Suite("baton serve over loopback HTTP", .timeLimit(.minutes(2)))
struct HTTPServerTests {
    static let jwtBearer = "urn:ietf:params:oauth:grant-type:jwt-bearer"

    @Test("domain B: documents, health, 404, 413, jwt-bearer with replay refusal, graceful SIGTERM")
    func serveDomainB() async throws {
        let server = try await Server.start(config: "examples/domain-b.json")
        defer { server.stop() }
        #expect(server.child.stderr().hasPrefix("baton: listening on 127.0.0.1:\(server.port) for https://b.baton.example"))

        // The same documents as the function adapter, with public caching.
        async let invokedJWKS = invoke(config: "examples/domain-b.json", event: "events/jwks.json")
        async let invokedDiscovery = invoke(config: "examples/domain-b.json", event: "events/discovery.json")
        let jwks = try await server.get("/jwks")
        #expect(jwks.status == 200)
        #expect(jwks.header("content-type") == "application/json")
        #expect(jwks.header("cache-control") == "public, max-age=300")
        #expect(String(decoding: jwks.body, as: UTF8.self) == (try await invokedJWKS).body)
        let jwksText = String(decoding: jwks.body, as: UTF8.self)
        _ = try await JWTKeyCollection().add(jwksJSON: jwksText)

        let expectedDiscovery = try await invokedDiscovery.body
        for path in ["/.well-known/oauth-authorization-server", "/.well-known/openid-configuration"] {
            let document = try await server.get(path)
            #expect(document.status == 200, "\(path)")
            #expect(document.header("cache-control") == "public, max-age=3600", "\(path)")
            #expect(String(decoding: document.body, as: UTF8.self) == expectedDiscovery, "\(path)")
        }

        // HEAD: the GET headers without the body.
        let head = try await httpSend(method: "HEAD", host: "127.0.0.1", port: server.port, path: "/jwks")
        #expect(head.status == 200)
        #expect(head.body.isEmpty)
        #expect(head.header("cache-control") == "public, max-age=300")

        // Routing is on the path: a query string does not change the endpoint.
        #expect(try await server.get("/jwks?format=json").status == 200)

        let health = try await server.get("/health")
        #expect(health.status == 200)
        #expect(try jsonObject(health.body)["status"] as? String == "ok")

        let missing = try await server.get("/does-not-exist")
        #expect(missing.status == 404)
        #expect(missing.header("content-type") == "application/json")
        #expect(try jsonObject(missing.body)["error"] as? String == "not_found")

        // A body over the default 64 KiB limit is refused before any handler runs.
        let form = [("Content-Type", "application/x-www-form-urlencoded"), ("Authorization", basicAuthorization("agent-app-at-b", Package.secretB))]
        let tooLarge = try await server.post("/token", headers: form, body: Array("grant_type=client_credentials&pad=".utf8) + [UInt8](repeating: 0x61, count: 64 * 1024))
        #expect(tooLarge.status == 413)
        #expect(try jsonObject(tooLarge.body)["error"] as? String == "invalid_request")
        #expect(tooLarge.header("cache-control") == "no-store")
        // Exactly at the limit is not "too large".
        let atLimit = try await server.post("/token", headers: form, body: Self.padded("grant_type=client_credentials&pad=", to: 64 * 1024))
        #expect(atLimit.status != 413)
        #expect(atLimit.status == 400)
        #expect(try jsonObject(atLimit.body)["error"] as? String == "unauthorized_client", "agent-app-at-b may not use client_credentials")

        // A user assertion from the upstream IdP, redeemed once.
        let assertion = try await mintAssertion(audience: Package.issuerB, claims: ["email=alice@example.com"])
        let grant = [("grant_type", Self.jwtBearer), ("assertion", assertion)]
        let issued = try await server.token(client: "agent-app-at-b", secret: Package.secretB, form: grant)
        #expect(issued.status == 200, "\(String(decoding: issued.body, as: UTF8.self))")
        #expect(issued.header("cache-control") == "no-store")
        #expect(issued.header("pragma") == "no-cache")
        let body = try jsonObject(issued.body)
        let token = try #require(body["access_token"] as? String)
        #expect(body["token_type"] as? String == "Bearer")
        #expect(body["scope"] as? String == "orders.read", "default_scopes of agent-app-at-b")
        let claims = try await verifyAccessToken(token, jwks: jwksText)
        #expect(try joseHeader(token)["typ"] as? String == "at+jwt")
        #expect(claims.iss.value == Package.issuerB)
        #expect(claims.sub.value == "https://idp.example#alice")
        #expect(claims.aud.value == ["https://api.b.baton.example"])
        #expect(claims.client_id == "agent-app-at-b")
        #expect(claims.email == "alice@example.com")

        let replayed = try await server.token(client: "agent-app-at-b", secret: Package.secretB, form: grant)
        #expect(replayed.status == 400)
        #expect(try jsonObject(replayed.body)["error"] as? String == "invalid_grant")
        #expect(replayed.header("cache-control") == "no-store")
        #expect(replayed.header("pragma") == "no-cache")

        // Wrong secret: 401 with a Basic challenge.
        let fresh = try await mintAssertion(audience: Package.issuerB, claims: ["email=alice@example.com"])
        let badSecret = try await server.token(client: "agent-app-at-b", secret: "wrong", form: [("grant_type", Self.jwtBearer), ("assertion", fresh)])
        #expect(badSecret.status == 401)
        #expect(badSecret.header("www-authenticate")?.hasPrefix("Basic") == true)

        // Graceful shutdown on SIGTERM: the process exits by itself, not by the signal's default action.
        let exited = await server.terminate(timeout: .seconds(5))
        #expect(exited, "baton serve still running 5 s after SIGTERM")
        if exited {
            #expect(server.child.process.terminationReason == .exit, "baton serve died of the signal instead of shutting down")
            #expect(server.child.process.terminationStatus == 0)
        }
    }

    static func padded(_ prefix: String, to size: Int) -> [UInt8] {
        Array(prefix.utf8) + [UInt8](repeating: 0x61, count: size - prefix.utf8.count)
    }

    @Test("concurrent requests are all answered")
    func concurrentRequests() async throws {
        let server = try await Server.start(config: "examples/domain-a.json")
        defer { server.stop() }
        let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
            for index in 0..<24 {
                group.addTask { try await server.get(index.isMultiple(of: 2) ? "/health" : "/jwks").status }
            }
            return try await group.reduce(into: [Int]()) { $0.append($1) }
        }
        #expect(statuses.count == 24)
        #expect(statuses.allSatisfy { $0 == 200 })
        // SIGINT shuts down as gracefully as SIGTERM.
        server.child.signal(SIGINT)
        #expect(await server.child.waitForExit(timeout: .seconds(5)))
        #expect(server.child.process.terminationReason == .exit)
    }

    @Test("BATON_FUNCTION=jwks: /jwks answers, the token endpoint and discovery are 404, health answers")
    func functionRestriction() async throws {
        let server = try await Server.start(config: "examples/domain-b.json", environment: ["BATON_FUNCTION": "jwks"])
        defer { server.stop() }
        let jwks = try await server.get("/jwks")
        #expect(jwks.status == 200)
        _ = try await JWTKeyCollection().add(jwksJSON: String(decoding: jwks.body, as: UTF8.self))

        let assertion = try await mintAssertion(audience: Package.issuerB, claims: ["email=alice@example.com"])
        let token = try await server.token(client: "agent-app-at-b", secret: Package.secretB, form: [("grant_type", Self.jwtBearer), ("assertion", assertion)])
        #expect(token.status == 404)
        #expect(try jsonObject(token.body)["error"] as? String == "not_found")
        #expect(try await server.get("/.well-known/openid-configuration").status == 404)
        #expect(try await server.get("/.well-known/oauth-authorization-server").status == 404)
        #expect(try await server.get("/health").status == 200)
        #expect(await server.terminate())
    }

    @Test("--function token serves only the token endpoint")
    func functionFlag() async throws {
        let server = try await Server.start(config: "examples/domain-a.json", extraArguments: ["--function", "token"])
        defer { server.stop() }
        #expect(try await server.get("/jwks").status == 404)
        #expect(try await server.get("/.well-known/openid-configuration").status == 404)
        let issued = try await server.token(client: "agent-app", secret: Package.secretA, form: [("grant_type", "client_credentials")])
        #expect(issued.status == 200)
        #expect(try await server.get("/health").status == 200)
        #expect(await server.terminate())
    }
}

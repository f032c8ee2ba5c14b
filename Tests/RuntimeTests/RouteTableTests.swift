import Foundation
import Handlers
import KeyLoader
import Runtime
import Testing

@Suite("RouteTable: paths from the configuration")
struct RouteTableTests {
    static func environment() -> HandlerEnvironment { LiveEnvironment(replayStore: MemoryReplayStore()).make() }

    /// A configuration written to a temporary directory, signing with domain B's development key.
    static func domain(_ fields: String, in directory: TempDir) throws -> Domain {
        let keys = Package.example("keys/domain-b.DEV-ONLY.jwks.json")
        let config = """
        {\(fields), "signing_keys_file": "\(keys)",
         "token_policy": {"signing_alg": "ES256", "audience": "https://api.example"}}
        """
        let path = try directory.write("config-\(UUID().uuidString).json", config)
        return try DomainLoader.load(configPath: path, environment: [:])
    }

    @Test("the example domain's routes: token, jwks, both well-known documents, health")
    func exampleRoutes() throws {
        let routes = RouteTable(domain: try Package.domain("domain-b.json"))
        #expect(routes.route(for: "/token") == .endpoint(.token))
        #expect(routes.route(for: "/jwks") == .endpoint(.jwks))
        #expect(routes.route(for: "/.well-known/oauth-authorization-server") == .endpoint(.discovery))
        #expect(routes.route(for: "/.well-known/openid-configuration") == .endpoint(.discovery))
        #expect(routes.route(for: "/health") == .health)
        for path in ["/", "", "/nope", "/token/extra", "/TOKEN", "/.well-known", "/.well-known/jwks.json", "/jwks.json", "token"] {
            #expect(routes.route(for: path) == .notFound, "\(path)")
        }
    }

    @Test("an issuer with a path: RFC 8414 inserts the well-known segment, OpenID Discovery appends it")
    func issuerWithPath() throws {
        let directory = try TempDir()
        defer { directory.remove() }
        let routes = RouteTable(domain: try Self.domain(#""issuer": "https://login.example/tenant-1""#, in: directory))
        #expect(routes.route(for: "/tenant-1/token") == .endpoint(.token))
        #expect(routes.route(for: "/tenant-1/jwks") == .endpoint(.jwks))
        #expect(routes.route(for: "/.well-known/oauth-authorization-server/tenant-1") == .endpoint(.discovery))
        #expect(routes.route(for: "/tenant-1/.well-known/openid-configuration") == .endpoint(.discovery))
        #expect(routes.route(for: "/.well-known/openid-configuration/tenant-1") == .endpoint(.discovery))
        #expect(routes.route(for: "/health") == .health)
        // The root documents belong to whoever owns the host's root issuer, not to this tenant.
        #expect(routes.route(for: "/.well-known/oauth-authorization-server") == .notFound)
        #expect(routes.route(for: "/.well-known/openid-configuration") == .notFound)
        #expect(routes.route(for: "/token") == .notFound)
        #expect(routes.route(for: "/jwks") == .notFound)
    }

    @Test("an issuer with a trailing slash serves the root documents")
    func issuerWithTrailingSlash() throws {
        let directory = try TempDir()
        defer { directory.remove() }
        let routes = RouteTable(domain: try Self.domain(#""issuer": "https://login.example/""#, in: directory))
        #expect(routes.route(for: "/token") == .endpoint(.token))
        #expect(routes.route(for: "/jwks") == .endpoint(.jwks))
        #expect(routes.route(for: "/.well-known/oauth-authorization-server") == .endpoint(.discovery))
        #expect(routes.route(for: "/.well-known/openid-configuration") == .endpoint(.discovery))
    }

    @Test("explicit token_endpoint and jwks_uri decide the paths")
    func explicitEndpoints() async throws {
        let directory = try TempDir()
        defer { directory.remove() }
        let domain = try Self.domain(
            #""issuer": "https://login.example/t", "token_endpoint": "https://login.example/oauth2/v1/token", "jwks_uri": "https://keys.example/t/keys.json""#,
            in: directory
        )
        let routes = RouteTable(domain: domain)
        #expect(routes.route(for: "/oauth2/v1/token") == .endpoint(.token))
        #expect(routes.route(for: "/t/keys.json") == .endpoint(.jwks))
        #expect(routes.route(for: "/t/token") == .notFound)
        #expect(routes.route(for: "/t/jwks") == .notFound)

        // What is advertised is what is served.
        let metadata = await routes.respond(to: EndpointRequest(method: "GET", path: "/t/.well-known/openid-configuration"), in: Self.environment())
        #expect(metadata.status == 200)
        let document = try jsonObject(metadata.body)
        #expect(document["issuer"] as? String == "https://login.example/t")
        #expect(document["token_endpoint"] as? String == "https://login.example/oauth2/v1/token")
        #expect(document["jwks_uri"] as? String == "https://keys.example/t/keys.json")
        let jwks = await routes.respond(to: EndpointRequest(method: "GET", path: "/t/keys.json"), in: Self.environment())
        #expect(jwks.status == 200)
        #expect((try jsonObject(jwks.body))["keys"] is [Any])
    }

    @Test("health answers 200 JSON that is never cached")
    func health() async throws {
        let routes = RouteTable(domain: try Package.domain("domain-a.json"))
        let response = await routes.respond(to: EndpointRequest(method: "GET", path: "/health"), in: Self.environment())
        #expect(response.status == 200)
        #expect(response.header("content-type") == "application/json")
        #expect(response.header("cache-control") == "no-store")
        #expect(try jsonObject(response.body)["status"] as? String == "ok")
    }

    @Test("unknown paths answer 404 JSON", arguments: ["/", "/nope", "/token/", "/jwks/x", "/.well-known/webfinger"])
    func unknownPath(path: String) async throws {
        let routes = RouteTable(domain: try Package.domain("domain-b.json"))
        for method in ["GET", "POST"] {
            let response = await routes.respond(
                to: EndpointRequest(method: method, path: path, headers: [("content-type", "application/x-www-form-urlencoded")], body: Array("grant_type=client_credentials".utf8)),
                in: Self.environment()
            )
            #expect(response.status == 404)
            #expect(response.header("content-type") == "application/json")
            #expect(try jsonObject(response.body)["error"] as? String == "not_found")
        }
    }

    static let paths: [(path: String, function: EndpointFunction)] = [
        ("/token", .token), ("/jwks", .jwks),
        ("/.well-known/oauth-authorization-server", .discovery), ("/.well-known/openid-configuration", .discovery),
    ]

    @Test("only: (BATON_FUNCTION) serves one endpoint; the others answer 404, health still answers", arguments: EndpointFunction.allCases)
    func onlyRestriction(function: EndpointFunction) async throws {
        let routes = RouteTable(domain: try Package.domain("domain-b.json"), only: function)
        for (path, owner) in Self.paths {
            let method = owner == .token ? "POST" : "GET"
            let request = EndpointRequest(method: method, path: path, headers: [("content-type", "application/x-www-form-urlencoded")], body: Array("grant_type=password".utf8))
            let response = await routes.respond(to: request, in: Self.environment())
            if owner == function {
                #expect(routes.route(for: path) == .endpoint(function))
                #expect(response.status != 404, "\(path) belongs to \(function)")
            } else {
                #expect(routes.route(for: path) == .notFound)
                #expect(response.status == 404, "\(path) under only: \(function)")
                #expect(try jsonObject(response.body)["error"] as? String == "not_found")
            }
        }
        #expect(routes.route(for: "/health") == .health)
        #expect(await routes.respond(to: EndpointRequest(method: "GET", path: "/health"), in: Self.environment()).status == 200)
    }

    @Test("JWKS and discovery are cacheable; token errors are not")
    func cacheHeaders() async throws {
        let routes = RouteTable(domain: try Package.domain("domain-b.json"))
        let jwks = await routes.respond(to: EndpointRequest(method: "GET", path: "/jwks"), in: Self.environment())
        #expect(jwks.header("cache-control")?.hasPrefix("public, max-age=") == true)
        let discovery = await routes.respond(to: EndpointRequest(method: "GET", path: "/.well-known/openid-configuration"), in: Self.environment())
        #expect(discovery.header("cache-control")?.hasPrefix("public, max-age=") == true)
        let post = await routes.respond(to: EndpointRequest(method: "POST", path: "/jwks"), in: Self.environment())
        #expect(post.status == 405)
        #expect(post.header("allow") == "GET, HEAD")
        let token = await routes.respond(to: EndpointRequest(method: "GET", path: "/token"), in: Self.environment())
        #expect(token.status == 405)
        #expect(token.header("cache-control") == "no-store")
        #expect(token.header("pragma") == "no-cache")
    }

    @Test("the two discovery addresses serve one document")
    func discoveryDocumentsAgree() async throws {
        let routes = RouteTable(domain: try Package.domain("domain-a.json"))
        let rfc8414 = await routes.respond(to: EndpointRequest(method: "GET", path: "/.well-known/oauth-authorization-server"), in: Self.environment())
        let openid = await routes.respond(to: EndpointRequest(method: "GET", path: "/.well-known/openid-configuration"), in: Self.environment())
        #expect(rfc8414.body == openid.body)
        #expect(try jsonObject(openid.body)["issuer"] as? String == Package.issuerA)
    }
}

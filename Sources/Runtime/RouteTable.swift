import Handlers

/// The endpoints a deployment can restrict an instance to (`BATON_FUNCTION`).
public enum EndpointFunction: String, Sendable, CaseIterable {
    case token
    case jwks
    case discovery
}

/// The one routing table every adapter shares: path -> handler. Paths come from the snapshot's own
/// endpoint URLs, so what metadata advertises is what is served.
public struct RouteTable: Sendable {
    public static let healthPath = "/health"

    let token: TokenEndpoint
    let jwks: JWKSEndpoint
    let discovery: DiscoveryEndpoint
    let only: EndpointFunction?
    let tokenPath: String
    let jwksPath: String
    let discoveryPaths: Set<String>

    public init(domain: Domain, only: EndpointFunction? = nil) {
        self.token = TokenEndpoint(domain: domain)
        self.jwks = JWKSEndpoint(domain: domain)
        self.discovery = DiscoveryEndpoint(domain: domain)
        self.only = only
        self.tokenPath = Self.path(of: domain.snapshot.tokenEndpoint)
        self.jwksPath = Self.path(of: domain.snapshot.jwksURI)
        // RFC 8414 3.1 inserts the well-known segment before the issuer's path; OpenID Discovery appends it.
        let issuerPath = Self.path(of: domain.snapshot.issuer)
        let suffix = issuerPath == "/" ? "" : issuerPath
        self.discoveryPaths = [
            "/.well-known/oauth-authorization-server" + suffix,
            "/.well-known/openid-configuration" + suffix,
            suffix + "/.well-known/openid-configuration",
        ]
    }

    public enum Route: Sendable, Equatable {
        case endpoint(EndpointFunction)
        case health
        case notFound
    }

    public func route(for path: String) -> Route {
        let function: EndpointFunction
        if path == tokenPath {
            function = .token
        } else if path == jwksPath {
            function = .jwks
        } else if discoveryPaths.contains(path) {
            function = .discovery
        } else if path == Self.healthPath {
            return .health
        } else {
            return .notFound
        }
        if let only, only != function { return .notFound }
        return .endpoint(function)
    }

    /// Runs on its caller's executor, as the handlers do: routing needs no executor of its own, and a hop
    /// per request is measurable beside a grant's own work.
    public nonisolated(nonsending) func respond(to request: EndpointRequest, in environment: HandlerEnvironment) async -> EndpointResponse {
        switch route(for: request.path) {
        case .endpoint(.token): await token.respond(to: request, in: environment)
        case .endpoint(.jwks): jwks.respond(to: request, in: environment)
        case .endpoint(.discovery): discovery.respond(to: request, in: environment)
        case .health: Self.health
        case .notFound: OAuthError(.notFound, "no endpoint at this path").response
        }
    }

    /// The token endpoint with its decision, for adapters that record decisions.
    public nonisolated(nonsending) func handleToken(_ request: EndpointRequest, in environment: HandlerEnvironment) async -> TokenEndpoint.Outcome {
        await token.handle(request, in: environment)
    }

    static let health = EndpointResponse(
        status: 200, headers: [("Content-Type", "application/json"), ("Cache-Control", "no-store")], body: Array(#"{"status":"ok"}"#.utf8)
    )

    /// The path of an absolute URL, "/" when it has none.
    public static func path(of url: String) -> String {
        // "https://host/a/b" splits into "https:", "", "host", "a/b".
        let parts = url.split(separator: "/", maxSplits: 3, omittingEmptySubsequences: false)
        guard parts.count >= 3, parts[0].hasSuffix(":"), parts[1].isEmpty else { return url }
        guard parts.count == 4, !parts[3].isEmpty else { return "/" }
        // `String(...)` first: `String + Substring` is the generic `+`, whose first call makes the
        // runtime scan every conformance record of the program (about 0.1 ms of a cold start).
        var path = "/" + String(parts[3])
        if path.hasSuffix("/") { path.removeLast() }
        return path
    }
}

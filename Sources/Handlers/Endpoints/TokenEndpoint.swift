import JOSE

/// `POST /token` (RFC 6749 3.2): transport checks, client authentication, then the one grant named by
/// `grant_type`. Every answer carries no-store headers; every request yields a `Decision`.
public struct TokenEndpoint: Sendable {
    let domain: Domain

    public init(domain: Domain) { self.domain = domain }

    /// Dispatch is a switch, not a table of existential metatypes, which the Swift 6.3 compiler cannot
    /// lower for async typed-throws requirements.
    static func issue(
        _ grantType: GrantType, _ request: TokenRequest, client: ClientConfig, domain: Domain, environment: HandlerEnvironment
    ) async throws(OAuthError) -> IssuedToken {
        switch grantType {
        case .clientCredentials: try await ClientCredentialsGrant.issue(request, client: client, domain: domain, environment: environment)
        case .jwtBearer: try await JWTBearerGrant.issue(request, client: client, domain: domain, environment: environment)
        case .tokenExchange: try await TokenExchangeGrant.issue(request, client: client, domain: domain, environment: environment)
        }
    }

    /// Grants a public client may use only when its configuration says so: both turn a token from
    /// elsewhere into one of this domain, which an unauthenticated caller must not do by default.
    static let crossDomainGrants: Set<GrantType> = [.jwtBearer, .tokenExchange]

    public struct Outcome: Sendable {
        public var response: EndpointResponse
        public var decision: Decision
    }

    public func respond(to request: EndpointRequest, in environment: HandlerEnvironment) async -> EndpointResponse {
        await handle(request, in: environment).response
    }

    public func handle(_ request: EndpointRequest, in environment: HandlerEnvironment) async -> Outcome {
        var decision = Decision(outcome: .issued)
        do throws(OAuthError) {
            let tokenRequest = try parse(request)
            decision.grantType = tokenRequest.form["grant_type"]
            guard let grantName = tokenRequest.form["grant_type"] else { throw OAuthError.invalidRequest("the grant_type parameter is required") }
            guard let grantType = GrantType(rawValue: grantName) else {
                throw OAuthError(.unsupportedGrantType, "grant type \"\(CompactJWS.printable(grantName))\" is not supported")
            }
            let client = try await ClientAuthentication.authenticate(tokenRequest, domain: domain, environment: environment)
            decision.clientID = client.clientID
            guard client.grantTypes.contains(grantType) else {
                throw OAuthError.unauthorizedClient("client \"\(client.clientID)\" may not use the \(grantName) grant")
            }
            if client.isPublic, Self.crossDomainGrants.contains(grantType), !client.allowUnauthenticatedGrants {
                throw OAuthError.unauthorizedClient("public clients may not use the \(grantName) grant")
            }
            let issued = try await Self.issue(grantType, tokenRequest, client: client, domain: domain, environment: environment)
            decision.subject = issued.subject
            decision.assertionIssuer = issued.assertionIssuer
            decision.scopes = issued.scopes
            decision.audience = issued.audience
            decision.tokenID = issued.tokenID
            return Outcome(response: Self.success(issued), decision: decision)
        } catch {
            decision.outcome = .denied(error.code, error.description)
            return Outcome(response: error.response, decision: decision)
        }
    }

    private static let formMediaType = "application/x-www-form-urlencoded"

    private func parse(_ request: EndpointRequest) throws(OAuthError) -> TokenRequest {
        guard request.method == "POST" else {
            throw OAuthError(.invalidRequest, "the token endpoint accepts POST only", allowedMethods: "POST")
        }
        let contentType = request.header("content-type") ?? ""
        // Nearly every client sends exactly this; anything else (parameters, case, spaces) is parsed.
        if contentType != Self.formMediaType {
            let mediaType = Substring(contentType.utf8.prefix { $0 != UInt8(ascii: ";") }).trimmingSpaces().utf8
            guard ASCII.equalsIgnoringCase(mediaType, "application/x-www-form-urlencoded") else {
                throw .invalidRequest("the body must be application/x-www-form-urlencoded")
            }
        }
        guard request.body.count <= domain.snapshot.limits.maxBodyBytes else {
            throw .invalidRequest("the request body is larger than \(domain.snapshot.limits.maxBodyBytes) bytes")
        }
        return TokenRequest(http: request, form: try FormParameters(parsing: request.body))
    }

    /// RFC 6749 5.1 (and RFC 8693 2.2.1 for `issued_token_type`). No refresh token, ever.
    static func success(_ issued: IssuedToken) -> EndpointResponse {
        var writer = JSONWriter(capacity: issued.token.count + 160)
        writer.beginObject()
        writer.member("access_token", compactJWS: issued.token)
        if let issuedTokenType = issued.issuedTokenType { writer.member("issued_token_type", issuedTokenType) }
        writer.member("token_type", issued.tokenType)
        writer.member("expires_in", issued.expiresIn)
        if !issued.scopes.isEmpty { writer.member("scope", spaceSeparated: issued.scopes) }
        writer.endObject()
        return .tokenJSON(writer.bytes)
    }
}

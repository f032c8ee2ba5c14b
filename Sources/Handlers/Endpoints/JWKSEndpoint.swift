/// `GET /jwks`: the domain's public keys.
public struct JWKSEndpoint: Sendable {
    let domain: Domain

    public init(domain: Domain) { self.domain = domain }

    /// Keys change only with a redeploy; five minutes bounds how long a verifier keeps a rotated-out set.
    static let cacheControl = "public, max-age=300"

    public func respond(to request: EndpointRequest, in environment: HandlerEnvironment) -> EndpointResponse {
        if let refusal = ReadOnlyMethod.check(request) { return refusal }
        return .json(domain.jwksBody, cacheControl: Self.cacheControl)
    }
}

/// JWKS and metadata answer GET and HEAD only.
enum ReadOnlyMethod {
    static func check(_ request: EndpointRequest) -> EndpointResponse? {
        guard request.method != "GET", request.method != "HEAD" else { return nil }
        return OAuthError(.invalidRequest, "this endpoint accepts GET only", allowedMethods: "GET, HEAD").response
    }
}

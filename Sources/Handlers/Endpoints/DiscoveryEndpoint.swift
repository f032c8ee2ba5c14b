/// `GET /.well-known/oauth-authorization-server` and `/.well-known/openid-configuration`: one document
/// served at both addresses, so the two can never disagree.
public struct DiscoveryEndpoint: Sendable {
    let domain: Domain

    public init(domain: Domain) { self.domain = domain }

    static let cacheControl = "public, max-age=3600"

    public func respond(to request: EndpointRequest, in environment: HandlerEnvironment) -> EndpointResponse {
        if let refusal = ReadOnlyMethod.check(request) { return refusal }
        return .json(domain.metadataBody, cacheControl: Self.cacheControl)
    }
}

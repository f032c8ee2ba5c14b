import JOSE

/// The one error type of every endpoint: an RFC 6749 5.2 error code with a description a person can act
/// on. It is rendered in exactly one place, `response`, so every failure looks the same on the wire.
public struct OAuthError: Error, Sendable, Equatable {
    public enum Code: String, Sendable {
        case invalidRequest = "invalid_request"
        case invalidClient = "invalid_client"
        case invalidGrant = "invalid_grant"
        case unauthorizedClient = "unauthorized_client"
        case unsupportedGrantType = "unsupported_grant_type"
        case invalidScope = "invalid_scope"
        case invalidTarget = "invalid_target"
        case serverError = "server_error"
        case temporarilyUnavailable = "temporarily_unavailable"
        /// Not an OAuth code: the router's answer for a path this instance does not serve.
        case notFound = "not_found"
    }

    public var code: Code
    public var description: String
    /// Set when the client authenticated with the Authorization header: RFC 6749 5.2 then wants 401 with
    /// a challenge for that scheme.
    public var challenge: String?
    public var allowedMethods: String?

    public init(_ code: Code, _ description: String, challenge: String? = nil, allowedMethods: String? = nil) {
        self.code = code
        self.description = description
        self.challenge = challenge
        self.allowedMethods = allowedMethods
    }

    public static func invalidRequest(_ description: String) -> OAuthError { .init(.invalidRequest, description) }
    public static func invalidGrant(_ description: String) -> OAuthError { .init(.invalidGrant, description) }
    public static func invalidScope(_ description: String) -> OAuthError { .init(.invalidScope, description) }
    public static func invalidTarget(_ description: String) -> OAuthError { .init(.invalidTarget, description) }
    public static func unauthorizedClient(_ description: String) -> OAuthError { .init(.unauthorizedClient, description) }
    public static func invalidClient(_ description: String, challenge: String? = nil) -> OAuthError {
        .init(.invalidClient, description, challenge: challenge)
    }

    public var status: Int {
        if allowedMethods != nil { return 405 }
        return switch code {
        case .invalidClient: 401
        case .serverError: 500
        case .temporarilyUnavailable: 503
        case .notFound: 404
        default: 400
        }
    }

    public var response: EndpointResponse {
        var writer = JSONWriter(capacity: 128)
        writer.beginObject()
        writer.member("error", code.rawValue)
        writer.member("error_description", description)
        writer.endObject()
        var response = EndpointResponse.tokenJSON(writer.bytes, status: status)
        if let challenge { response.headers.append(("WWW-Authenticate", challenge)) }
        if let allowedMethods { response.headers.append(("Allow", allowedMethods)) }
        return response
    }
}

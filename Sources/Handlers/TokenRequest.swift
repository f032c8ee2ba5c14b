/// A token request after the transport checks: method, content type and form parsed.
public struct TokenRequest: Sendable {
    public let http: EndpointRequest
    public let form: FormParameters

    public init(http: EndpointRequest, form: FormParameters) {
        self.http = http
        self.form = form
    }

    public var authorization: String? { http.header("authorization") }
}

/// `client_secret_post` (RFC 6749 2.3.1): `client_id` and `client_secret` in the form body.
struct ClientSecretPost: ClientAuthenticationMethod {
    static let method = ClientAuthMethod.clientSecretPost

    static func isPresent(in request: TokenRequest) -> Bool {
        request.form.contains("client_secret")
    }

    static func authenticate(
        _ request: TokenRequest, domain: Domain, environment: HandlerEnvironment
    ) async throws(OAuthError) -> ClientConfig {
        guard let clientID = request.form["client_id"], let secret = request.form["client_secret"] else {
            throw .invalidRequest("client_secret requires client_id")
        }
        let client = domain.snapshot.clients[clientID]
        guard ClientAuthentication.verifySecret(secret, of: client), let client else {
            throw .invalidClient("client authentication failed")
        }
        try ClientAuthentication.requireMethod(method, for: client)
        return client
    }
}

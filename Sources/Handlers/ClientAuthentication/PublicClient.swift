/// A public client names itself with `client_id` and proves nothing; grants decide what it may do.
struct PublicClient: ClientAuthenticationMethod {
    static let method = ClientAuthMethod.none

    static func isPresent(in request: TokenRequest) -> Bool {
        request.form.contains("client_id")
    }

    static func authenticate(
        _ request: TokenRequest, domain: Domain, environment: HandlerEnvironment
    ) async throws(OAuthError) -> ClientConfig {
        // Unknown and confidential clients get the same answer, so the id alone reveals nothing.
        guard let clientID = request.form["client_id"], let client = domain.snapshot.clients[clientID], client.isPublic else {
            throw .invalidClient("client authentication failed")
        }
        return client
    }
}

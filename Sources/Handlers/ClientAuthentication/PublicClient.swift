/// A public client names itself with `client_id` and proves nothing; grants decide what it may do.
struct PublicClient: ClientAuthenticationMethod {
    static let method = ClientAuthMethod.none

    static func isPresent(in request: TokenRequest) -> Bool {
        request.form.contains("client_id")
    }

    static func authenticate(
        _ request: TokenRequest, domain: Domain, environment: HandlerEnvironment
    ) async throws(OAuthError) -> ClientConfig {
        guard let clientID = request.form["client_id"], let client = domain.snapshot.clients[clientID] else {
            throw .invalidClient("client authentication failed")
        }
        guard client.isPublic else {
            throw .invalidClient("client \"\(clientID)\" is confidential and must authenticate with \(client.authMethod.rawValue)")
        }
        return client
    }
}

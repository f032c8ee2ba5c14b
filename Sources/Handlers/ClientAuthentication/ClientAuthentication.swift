/// One client-authentication method (RFC 6749 2.3, RFC 7523 2.2). Each lives in its own file; the
/// token endpoint asks each whether its credentials are in the request and lets exactly one decide.
protocol ClientAuthenticationMethod: Sendable {
    static var method: ClientAuthMethod { get }
    /// Whether the request carries this method's credentials at all.
    static func isPresent(in request: TokenRequest) -> Bool
    static func authenticate(
        _ request: TokenRequest, domain: Domain, environment: HandlerEnvironment
    ) async throws(OAuthError) -> ClientConfig
}

enum ClientAuthentication {
    /// Methods that carry a credential; presence is checked for all of them.
    static let credentialMethods: [ClientAuthMethod] = [.clientSecretBasic, .clientSecretPost, .privateKeyJWT]

    static func isPresent(_ method: ClientAuthMethod, in request: TokenRequest) -> Bool {
        switch method {
        case .clientSecretBasic: ClientSecretBasic.isPresent(in: request)
        case .clientSecretPost: ClientSecretPost.isPresent(in: request)
        case .privateKeyJWT: PrivateKeyJWT.isPresent(in: request)
        case .none: PublicClient.isPresent(in: request)
        }
    }

    static func authenticate(
        _ request: TokenRequest, domain: Domain, environment: HandlerEnvironment
    ) async throws(OAuthError) -> ClientConfig {
        var presented: ClientAuthMethod?
        for method in credentialMethods where isPresent(method, in: request) {
            guard presented == nil else {
                let all = credentialMethods.filter { isPresent($0, in: request) }.map(\.rawValue).joined(separator: ", ")
                throw .invalidRequest("the request uses more than one client authentication method (\(all))")
            }
            presented = method
        }
        let chosen: ClientAuthMethod
        if let only = presented {
            chosen = only
        } else if isPresent(.none, in: request) {
            chosen = .none
        } else {
            throw .invalidClient("client authentication is required")
        }
        let client = try await authenticate(request, with: chosen, domain: domain, environment: environment)
        // RFC 7521 4.2: a client_id sent alongside other credentials must name the same client.
        if let claimed = request.form["client_id"], claimed != client.clientID {
            throw .invalidRequest("client_id does not match the authenticated client")
        }
        return client
    }

    /// Static dispatch by method: calling an async typed-throws requirement through an existential
    /// metatype crashes the Swift 6.3 compiler, and a switch is cheaper anyway.
    private static func authenticate(
        _ request: TokenRequest, with method: ClientAuthMethod, domain: Domain, environment: HandlerEnvironment
    ) async throws(OAuthError) -> ClientConfig {
        switch method {
        case .clientSecretBasic: try await ClientSecretBasic.authenticate(request, domain: domain, environment: environment)
        case .clientSecretPost: try await ClientSecretPost.authenticate(request, domain: domain, environment: environment)
        case .privateKeyJWT: try await PrivateKeyJWT.authenticate(request, domain: domain, environment: environment)
        case .none: try await PublicClient.authenticate(request, domain: domain, environment: environment)
        }
    }

    /// Checks the client is registered for the method it used; a client has exactly one method.
    static func requireMethod(
        _ method: ClientAuthMethod, for client: ClientConfig, challenge: @autoclosure () -> String? = nil
    ) throws(OAuthError) {
        guard client.authMethod == method else {
            throw .invalidClient("client \"\(client.clientID)\" is not registered for \(method.rawValue)", challenge: challenge())
        }
    }

    /// Checks a secret in time independent of whether the client exists, so that a failed login does not
    /// reveal which client ids are registered.
    static func verifySecret(_ secret: String, of client: ClientConfig?) -> Bool {
        var secret = secret
        return secret.withUTF8 { verifySecret(utf8: UnsafeRawBufferPointer($0), of: client) }
    }

    static func verifySecret(utf8 secret: UnsafeRawBufferPointer, of client: ClientConfig?) -> Bool {
        guard let client, case .secret(let hash) = client.credential else {
            _ = decoy.matches(utf8: secret)
            return false
        }
        return hash.matches(utf8: secret)
    }

    private static let decoy = SecretHash(secret: "decoy", salt: Array(repeating: 0x5A, count: 16))
}

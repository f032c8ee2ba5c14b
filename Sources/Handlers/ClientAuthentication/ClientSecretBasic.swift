import JOSE

/// `client_secret_basic` (RFC 6749 2.3.1): `Authorization: Basic base64(urlencode(id) ":" urlencode(secret))`.
struct ClientSecretBasic: ClientAuthenticationMethod {
    static let method = ClientAuthMethod.clientSecretBasic

    static func isPresent(in request: TokenRequest) -> Bool {
        request.authorization != nil
    }

    static func authenticate(
        _ request: TokenRequest, domain: Domain, environment: HandlerEnvironment
    ) async throws(OAuthError) -> ClientConfig {
        let challenge = "Basic realm=\"\(domain.snapshot.issuer)\", charset=\"UTF-8\""
        guard let header = request.authorization else { throw .invalidClient("missing Authorization header", challenge: challenge) }
        let parts = header.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == "basic" else {
            throw .invalidClient("the Authorization header must use the Basic scheme", challenge: challenge)
        }
        guard let decoded = Base64Standard.decode(String(parts[1])),
              let text = String(validating: decoded, as: UTF8.self),
              let colon = text.firstIndex(of: ":") else {
            throw .invalidClient("the Basic credentials are malformed", challenge: challenge)
        }
        guard let clientID = formDecode(text[..<colon]), let secret = formDecode(text[text.index(after: colon)...]),
              !clientID.isEmpty else {
            throw .invalidClient("the Basic credentials are malformed", challenge: challenge)
        }
        let client = domain.snapshot.clients[clientID]
        guard ClientAuthentication.verifySecret(secret, of: client), let client else {
            throw .invalidClient("client authentication failed", challenge: challenge)
        }
        try ClientAuthentication.requireMethod(method, for: client, challenge: challenge)
        return client
    }

    /// RFC 6749 2.3.1 form-encodes id and secret before base64.
    private static func formDecode(_ text: Substring) -> String? {
        let body = Array(("x=" + text).utf8)
        guard let form = try? FormParameters(parsing: body) else { return nil }
        return form["x"] ?? ""
    }
}

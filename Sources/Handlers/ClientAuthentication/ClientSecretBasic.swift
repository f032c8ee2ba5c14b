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
        // Built only for an answer that needs it: most requests authenticate.
        func failure(_ description: String) -> OAuthError {
            .invalidClient(description, challenge: challenge(domain))
        }
        guard let header = request.authorization else { throw failure("missing Authorization header") }
        guard let decoded = credentials(in: header) else {
            throw failure("the Authorization header must use the Basic scheme")
        }
        guard let decoded, let colon = decoded.firstIndex(of: UInt8(ascii: ":")),
              let clientID = try? FormParameters.decodeComponent(decoded[..<colon]), !clientID.isEmpty else {
            throw failure("the Basic credentials are malformed")
        }
        let client = domain.snapshot.clients[clientID]
        // A plain ASCII secret is hashed where it lies, without a String; anything with escapes or
        // non-ASCII bytes is decoded and validated as UTF-8 first, as every other form value is.
        let encodedSecret = decoded[(colon + 1)...]
        let verified: Bool
        if FormParameters.isPlainASCII(encodedSecret) {
            verified = encodedSecret.withUnsafeBytes { ClientAuthentication.verifySecret(utf8: $0, of: client) }
        } else {
            guard let secret = try? FormParameters.decodeComponent(encodedSecret) else {
                throw failure("the Basic credentials are malformed")
            }
            verified = ClientAuthentication.verifySecret(secret, of: client)
        }
        guard verified, let client else {
            throw failure("client authentication failed")
        }
        try ClientAuthentication.requireMethod(method, for: client, challenge: challenge(domain))
        return client
    }

    static func challenge(_ domain: Domain) -> String {
        "Basic realm=\"\(domain.snapshot.issuer)\", charset=\"UTF-8\""
    }

    /// The token68 after `Basic` (scheme case-insensitive, RFC 9110 11.1), base64-decoded in place:
    /// nil for another scheme, `.some(nil)` for Basic with something that is not base64.
    /// RFC 6749 2.3.1 form-encodes id and secret before base64; they are decoded after it.
    private static func credentials(in header: String) -> [UInt8]?? {
        var header = header
        return header.withUTF8 { bytes -> [UInt8]?? in
            let schemeEnd = bytes.firstIndex(of: UInt8(ascii: " ")) ?? bytes.endIndex
            guard ASCII.equalsIgnoringCase(bytes[..<schemeEnd], "basic") else { return nil }
            let start = bytes[schemeEnd...].firstIndex { $0 != UInt8(ascii: " ") } ?? bytes.endIndex
            guard start != bytes.endIndex else { return nil }
            return .some(Base64Standard.decode(UnsafeBufferPointer(rebasing: bytes[start...])))
        }
    }
}

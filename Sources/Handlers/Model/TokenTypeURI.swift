/// Token type identifiers (RFC 8693 3, ID-JAG 3).
public enum TokenTypeURI {
    public static let accessToken = "urn:ietf:params:oauth:token-type:access_token"
    public static let refreshToken = "urn:ietf:params:oauth:token-type:refresh_token"
    public static let idToken = "urn:ietf:params:oauth:token-type:id_token"
    public static let jwt = "urn:ietf:params:oauth:token-type:jwt"
    public static let saml2 = "urn:ietf:params:oauth:token-type:saml2"
    public static let idJAG = "urn:ietf:params:oauth:token-type:id-jag"

    /// `typ` header of an ID-JAG.
    public static let idJAGHeaderType = "oauth-id-jag+jwt"
    public static let idJAGProfile = "urn:ietf:params:oauth:grant-profile:id-jag"
}

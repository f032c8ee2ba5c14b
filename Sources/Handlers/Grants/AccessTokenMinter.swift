import JOSE

/// Builds and signs RFC 9068 access tokens: header `typ: at+jwt` and `kid`; claims iss, sub, aud, exp,
/// iat, jti, client_id, scope, then the transcribed claims. The claim set is written straight into a
/// buffer; nothing a client sends can set a registered claim.
enum AccessTokenMinter {
    static let type = "at+jwt"

    struct Minted {
        var token: [UInt8]
        var tokenID: String
        var expiresAt: Int64
    }

    static func mint(
        domain: Domain, environment: HandlerEnvironment, subject: String, clientID: String, audience: [String],
        scopes: [String], expiresAt: Int64, extraClaims: [JSONObject.Member] = []
    ) throws(OAuthError) -> Minted {
        let tokenID = environment.makeTokenID()
        var claims = JSONWriter(capacity: 384)
        claims.beginObject()
        claims.member("iss", domain.snapshot.issuer)
        claims.member("sub", subject)
        writeAudience(audience, into: &claims)
        claims.member("exp", expiresAt)
        claims.member("iat", environment.now)
        claims.member("jti", tokenID)
        claims.member("client_id", clientID)
        if !scopes.isEmpty { claims.member("scope", spaceSeparated: scopes) }
        for member in extraClaims { claims.member(named: member.name, member.value) }
        claims.endObject()
        return Minted(token: try sign(domain: domain, type: type, payload: claims.bytes), tokenID: tokenID, expiresAt: expiresAt)
    }

    /// A single audience is written as a string, several as an array (RFC 7519 4.1.3).
    static func writeAudience(_ audience: [String], into writer: inout JSONWriter) {
        if audience.count == 1 {
            writer.member("aud", audience[0])
        } else {
            writer.member("aud", strings: audience)
        }
    }

    static func sign(domain: Domain, type: String, payload: [UInt8]) throws(OAuthError) -> [UInt8] {
        do {
            return try domain.signer.signCompact(type: type, payload: payload)
        } catch {
            throw OAuthError(.serverError, "the token could not be signed")
        }
    }

    /// Copies the allow-listed claims, renamed as configured; claims absent from the source are skipped.
    static func transcribe(_ rules: ClaimRules, from claims: JSONObject) -> [JSONObject.Member] {
        rules.copied.compactMap { copy in
            claims[copy.from].map { JSONObject.Member(name: copy.to, value: $0) }
        }
    }
}

/// The temporal rules every incoming JWT obeys (RFC 7519 4.1.4-6, RFC 7523 3): `exp` required and not
/// past, `nbf` honoured, `iat` neither in the future nor older than the maximum lifetime, and the whole
/// validity window no longer than the maximum. Without `iat`, `exp - now` must fit in the maximum, as
/// Keycloak does. `skew` forgives clock drift on every comparison.
struct TimeRules: Sendable {
    var maxLifetime: Int64
    var skew: Int64

    /// Returns `exp`, which bounds how long the token's `jti` must be remembered.
    func check(_ claims: Claims, now: Int64) throws(ClaimProblem) -> Int64 {
        guard let exp = try claims.numericDate("exp") else { throw ClaimProblem("claim \"exp\" is required") }
        if now > exp + skew { throw ClaimProblem("the token expired \(now - exp) seconds ago") }
        if let nbf = try claims.numericDate("nbf"), now + skew < nbf {
            throw ClaimProblem("the token is not valid before \(nbf) (\(nbf - now) seconds from now)")
        }
        if let iat = try claims.numericDate("iat") {
            if iat > now + skew { throw ClaimProblem("the token was issued in the future (\"iat\" is \(iat - now) seconds ahead)") }
            if now - iat > maxLifetime + skew {
                throw ClaimProblem("the token is too old: issued \(now - iat) seconds ago, the maximum is \(maxLifetime)")
            }
            if exp - iat > maxLifetime + skew {
                throw ClaimProblem("the token's lifetime (\(exp - iat) seconds) exceeds the maximum of \(maxLifetime)")
            }
        } else if exp - now > maxLifetime + skew {
            throw ClaimProblem("the token has no \"iat\" and expires in \(exp - now) seconds, beyond the maximum of \(maxLifetime)")
        }
        return exp
    }
}

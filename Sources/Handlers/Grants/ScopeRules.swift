import JOSE

/// Scope arithmetic shared by every grant: granted = requested ∩ everything that allows it, and asking
/// for more is `invalid_scope` rather than a silent cut.
public enum ScopeRules {
    /// RFC 6749 3.3 scope-token characters.
    public static func isValidToken(_ token: Substring) -> Bool {
        !token.isEmpty && token.utf8.allSatisfy { $0 == 0x21 || (0x23...0x5B).contains($0) || (0x5D...0x7E).contains($0) }
    }

    /// The requested scopes in request order, without duplicates; nil when none were requested.
    static func requested(_ form: FormParameters) throws(OAuthError) -> [String]? {
        guard let raw = form["scope"] else { return nil }
        var result: [String] = []
        // Walked in place rather than split: one array for the result, none for the pieces.
        let utf8 = raw.utf8
        var index = utf8.startIndex
        while index != utf8.endIndex {
            if utf8[index] == UInt8(ascii: " ") { utf8.formIndex(after: &index); continue }
            let start = index
            while index != utf8.endIndex, utf8[index] != UInt8(ascii: " ") { utf8.formIndex(after: &index) }
            let token = raw[start..<index]
            guard isValidToken(token) else { throw .invalidScope("scope contains characters RFC 6749 does not allow") }
            let scope = String(token)
            if !result.contains(scope) { result.append(scope) }
        }
        return result.isEmpty ? nil : result
    }

    /// The common case of one limit (client credentials: the client's own scopes), without building an
    /// array of limits per request.
    static func grant(requested: [String]?, defaults: [String], limit: Set<String>) throws(OAuthError) -> [String] {
        try grant(requested: requested, defaults: defaults) { limit.contains($0) }
    }

    /// The client's scopes and up to two further limits (jwt-bearer: the issuer's and the assertion's),
    /// without building an array of limits per request.
    static func grant(
        requested: [String]?, defaults: [String], limit: Set<String>, _ second: Set<String>?, _ third: Set<String>?
    ) throws(OAuthError) -> [String] {
        try grant(requested: requested, defaults: defaults) { scope in
            limit.contains(scope) && second?.contains(scope) != false && third?.contains(scope) != false
        }
    }

    /// `limits` are the sets every granted scope must belong to (client, issuer, assertion, target).
    static func grant(requested: [String]?, defaults: [String], limits: [Set<String>]) throws(OAuthError) -> [String] {
        try grant(requested: requested, defaults: defaults) { scope in limits.allSatisfy { $0.contains(scope) } }
    }

    private static func grant(
        requested: [String]?, defaults: [String], allowed: (String) -> Bool
    ) throws(OAuthError) -> [String] {
        guard let requested else { return defaults.filter(allowed) }
        let refused = requested.filter { !allowed($0) }
        guard refused.isEmpty else {
            throw .invalidScope("scope not allowed: \(refused.map { CompactJWS.printable($0) }.joined(separator: " "))")
        }
        return requested
    }
}


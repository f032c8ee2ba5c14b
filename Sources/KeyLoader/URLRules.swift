import Handlers

/// Issuer identifiers and endpoint URLs: https with a host, no query or fragment (RFC 8414 2). Plain
/// http is accepted only for loopback hosts, for local development.
enum URLRules {
    static func check(_ url: String, field: String, allowPath: Bool = true) throws(ConfigurationError) {
        let lower = url.lowercased()
        let rest: Substring
        if lower.hasPrefix("https://") {
            rest = url.dropFirst(8)
        } else if lower.hasPrefix("http://") {
            rest = url.dropFirst(7)
            let host = rest.prefix { $0 != "/" && $0 != ":" }
            guard host == "localhost" || host == "127.0.0.1" || host.hasPrefix("[::1]") else {
                throw ConfigurationError("\(field): \"\(url)\" must use https (http is allowed only for localhost)")
            }
        } else {
            throw ConfigurationError("\(field): \"\(url)\" must be an https URL")
        }
        guard let first = rest.first, first != "/" else { throw ConfigurationError("\(field): \"\(url)\" has no host") }
        guard !url.contains("?"), !url.contains("#") else { throw ConfigurationError("\(field): \"\(url)\" must not have a query or fragment") }
        guard !url.contains(where: { $0 == " " || $0.isNewline }) else { throw ConfigurationError("\(field): \"\(url)\" contains white space") }
    }

    /// RFC 8693 2.1: `resource` is an absolute URI without a fragment.
    static func isAbsoluteURI(_ text: String) -> Bool {
        guard let colon = text.firstIndex(of: ":"), colon != text.startIndex else { return false }
        let scheme = text[..<colon]
        guard let first = scheme.first, first.isLetter,
              scheme.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "+" || $0 == "-" || $0 == "." }) else { return false }
        return !text.contains("#") && !text.contains(" ")
    }
}

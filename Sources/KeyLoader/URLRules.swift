import Handlers

/// Issuer identifiers and endpoint URLs: https with a host, no user information, query or fragment
/// (RFC 8414 2). Plain http is accepted only for a loopback host, for local development.
enum URLRules {
    static func check(_ url: String, field: String) throws(ConfigurationError) {
        let lower = url.lowercased()
        let isHTTPS = lower.hasPrefix("https://")
        guard isHTTPS || lower.hasPrefix("http://") else { throw ConfigurationError("\(field): \"\(url)\" must be an https URL") }
        guard !url.contains(where: { $0.isWhitespace }) else { throw ConfigurationError("\(field): \"\(url)\" contains white space") }
        guard !url.contains("?"), !url.contains("#") else { throw ConfigurationError("\(field): \"\(url)\" must not have a query or fragment") }
        let authority = url.dropFirst(isHTTPS ? 8 : 7).prefix { $0 != "/" }
        guard !authority.contains("@") else { throw ConfigurationError("\(field): \"\(url)\" must not contain user information") }
        let host: Substring
        let afterHost: Substring
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { throw ConfigurationError("\(field): \"\(url)\" has an unterminated IPv6 address") }
            host = authority[...close]
            afterHost = authority[authority.index(after: close)...]
        } else {
            host = authority.prefix { $0 != ":" }
            afterHost = authority.dropFirst(host.count)
        }
        guard !host.isEmpty else { throw ConfigurationError("\(field): \"\(url)\" has no host") }
        if !afterHost.isEmpty {
            let port = afterHost.dropFirst()
            guard afterHost.first == ":", !port.isEmpty, port.allSatisfy(\.isASCIIDigit), let number = Int(port), number <= 65535 else {
                throw ConfigurationError("\(field): \"\(url)\" has an invalid port")
            }
        }
        if !isHTTPS {
            guard ["localhost", "127.0.0.1", "[::1]"].contains(host.lowercased()) else {
                throw ConfigurationError("\(field): \"\(url)\" must use https (http is allowed only for localhost)")
            }
        }
    }
}

private extension Character {
    var isASCIIDigit: Bool { ("0"..."9").contains(self) }
}

import JOSE

/// Maps `audience` and `resource` parameters to one configured exchange target. Both may repeat
/// (RFC 8693 2.1); every value must name the same target, because Baton issues one token with a single
/// audience per exchange (identity chaining 2.3.3). No value at all is `invalid_request`; a value that
/// names no target, or values naming different targets, or a client the target does not admit, is
/// `invalid_target`.
public enum ExchangeTargetResolver {
    static func resolve(_ form: FormParameters, client: ClientConfig, domain: Domain) throws(OAuthError) -> (ExchangeTarget, resources: [String]) {
        let audiences = form.values("audience")
        let resources = form.values("resource")
        guard !audiences.isEmpty || !resources.isEmpty else {
            throw .invalidRequest("audience or resource is required: name the domain the token is for")
        }
        for resource in resources where !isAbsoluteURIWithoutFragment(resource) {
            throw .invalidRequest("resource \"\(CompactJWS.printable(resource))\" must be an absolute URI without a fragment")
        }
        var chosen: ExchangeTarget?
        for audience in audiences {
            guard let target = domain.snapshot.exchangeTargets.first(where: { $0.audience == audience }) else {
                throw .invalidTarget("audience \"\(CompactJWS.printable(audience))\" is not a known target")
            }
            chosen = try same(chosen, target)
        }
        for resource in resources {
            guard let target = domain.snapshot.exchangeTargets.first(where: { $0.resources.contains(resource) }) else {
                throw .invalidTarget("resource \"\(CompactJWS.printable(resource))\" is not a known target")
            }
            chosen = try same(chosen, target)
        }
        let target = chosen!
        guard target.allowedClients.contains(client.clientID) else {
            throw .invalidTarget("client \"\(client.clientID)\" may not exchange tokens for target \"\(target.name)\"")
        }
        return (target, resources)
    }

    private static func same(_ current: ExchangeTarget?, _ next: ExchangeTarget) throws(OAuthError) -> ExchangeTarget {
        if let current, current.name != next.name {
            throw .invalidTarget("audience and resource values name different targets (\(current.name), \(next.name)); request one target per exchange")
        }
        return next
    }

    /// RFC 8693 2.1: an absolute URI (scheme and something after it) without a fragment.
    public static func isAbsoluteURIWithoutFragment(_ text: String) -> Bool {
        guard let colon = text.firstIndex(of: ":"), colon != text.startIndex else { return false }
        let scheme = text[..<colon]
        guard let first = scheme.first, first.isLetter,
              scheme.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "+" || $0 == "-" || $0 == "." }) else { return false }
        return text.index(after: colon) != text.endIndex && !text.contains("#") && !text.contains(" ")
    }
}

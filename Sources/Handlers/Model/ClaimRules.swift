import JOSE

/// Per-issuer (or per-target) claim policy: what an incoming token must carry, and which of its claims
/// cross into the token Baton issues. Everything not copied is dropped.
public struct ClaimRules: Sendable {
    public var required: [ClaimCondition]
    public var copied: [ClaimCopy]

    public init(required: [ClaimCondition] = [], copied: [ClaimCopy] = []) {
        self.required = required
        self.copied = copied
    }

    /// Claims Baton sets itself; configuration may not copy into them (a client must never steer `sub`).
    public static let reservedNames: Set<String> = [
        "iss", "sub", "aud", "exp", "nbf", "iat", "jti", "client_id", "scope", "act", "may_act", "cnf", "resource",
    ]

    /// The first unmet condition, described for an error message.
    public func firstUnmet(in claims: JSONObject) -> String? {
        for condition in required {
            if let problem = condition.problem(in: claims) { return problem }
        }
        return nil
    }
}

public struct ClaimCondition: Sendable {
    public enum Requirement: Sendable {
        case present
        case equals(JSONValue)
        case matches(Pattern)
    }

    public var claim: String
    public var requirement: Requirement

    public init(claim: String, requirement: Requirement) {
        self.claim = claim
        self.requirement = requirement
    }

    func problem(in claims: JSONObject) -> String? {
        guard let value = claims[claim] else { return "required claim \"\(claim)\" is missing" }
        switch requirement {
        case .present:
            return nil
        case .equals(let expected):
            return value == expected ? nil : "claim \"\(claim)\" does not have the required value"
        case .matches(let pattern):
            guard let text = value.stringValue else { return "claim \"\(claim)\" must be a string" }
            return pattern.matches(text) ? nil : "claim \"\(claim)\" does not match the required pattern"
        }
    }
}

public struct ClaimCopy: Sendable {
    public var from: String
    public var to: String

    public init(from: String, to: String? = nil) {
        self.from = from
        self.to = to ?? from
    }
}

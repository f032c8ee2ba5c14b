import JOSE

/// The `act` claim (RFC 8693 4.1): who is acting for the subject, nested for chains of actors.
enum Delegation {
    /// Deepest `act` nesting Baton accepts or issues; deeper chains are refused, not truncated.
    static let maxDepth = 5

    /// The `act` value for the issued token: the new actor wrapping the subject token's existing chain,
    /// or that chain unchanged when there is no new actor.
    static func act(subject: ValidatedSubjectToken, actor: ValidatedSubjectToken?) throws(OAuthError) -> JSONValue? {
        let existing = subject.claims["act"]
        if let existing {
            guard existing.objectValue != nil else { throw .invalidRequest("subject_token: claim \"act\" must be an object") }
            guard depth(of: existing) <= maxDepth else { throw .invalidRequest("subject_token: \"act\" is nested deeper than \(maxDepth) levels") }
        }
        guard let actor else { return existing }
        if let mayAct = subject.claims["may_act"] {
            guard let allowed = mayAct.objectValue else { throw .invalidRequest("subject_token: claim \"may_act\" must be an object") }
            if let sub = allowed["sub"]?.stringValue, sub != actor.rawSubject {
                throw .invalidRequest("actor_token: the subject token's may_act does not allow this actor")
            }
            if let iss = allowed["iss"]?.stringValue, iss != actor.issuer {
                throw .invalidRequest("actor_token: the subject token's may_act does not allow this actor's issuer")
            }
        }
        // The actor as its own token names it: `sub` with `iss` when it differs from the subject's issuer.
        var members = [JSONObject.Member(name: "sub", value: .string(actor.rawSubject))]
        if actor.issuer != subject.issuer { members.append(.init(name: "iss", value: .string(actor.issuer))) }
        if let existing { members.append(.init(name: "act", value: existing)) }
        let act = JSONValue.object(JSONObject(members: members))
        guard depth(of: act) <= maxDepth else { throw .invalidRequest("the delegation chain would be deeper than \(maxDepth) actors") }
        return act
    }

    static func depth(of act: JSONValue) -> Int {
        var depth = 0
        var current: JSONValue? = act
        while let object = current?.objectValue {
            depth += 1
            current = object["act"]
        }
        return depth
    }
}

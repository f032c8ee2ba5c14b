import JOSE

/// A foreign issuer whose signed assertions this domain redeems (jwt-bearer) or exchanges.
///
/// Its settings sit behind one shared, immutable reference: a grant holds the issuer its token names
/// from lookup to response, and retaining one object costs less than copying thirteen fields in and
/// out of every value that carries it. Setting a field (the loader and tests do, requests never) copies
/// the settings first, so this stays a value.
@dynamicMemberLookup
public struct TrustedIssuer: Sendable {
    public struct Settings: Sendable {
        public var issuer: String
        /// Keys resolved at load from the issuer's key source; only these verify its tokens.
        public var keys: [VerificationKey]
        public var allowedAlgorithms: Set<JWSAlgorithm>
        /// Accepted `aud` values; an assertion carries exactly one of them.
        public var audiences: [String]
        public var maxAssertionLifetime: Int64
        public var clockSkew: Int64
        public var allowJTIReuse: Bool
        public var capTokenExpiryAtAssertion: Bool
        public var subjectMapping: SubjectMapping
        public var subjectPattern: Pattern?
        public var claimRules: ClaimRules
        /// Scopes this issuer's assertions may lead to; nil means no issuer-level restriction.
        public var allowedScopes: Set<String>?
        /// Which kinds of authorization grant this issuer may present to the jwt-bearer grant.
        public var grantProfiles: Set<GrantProfile>
    }

    public enum GrantProfile: String, Sendable, CaseIterable, Hashable {
        /// A plain JWT assertion (RFC 7523), `typ` absent or `JWT`.
        case jwt
        /// An Identity Assertion JWT Authorization Grant, `typ: oauth-id-jag+jwt`.
        case idJAG = "id-jag"
    }

    private final class Storage: Sendable {
        let settings: Settings
        init(_ settings: Settings) { self.settings = settings }
    }

    private var storage: Storage

    public init(
        issuer: String, keys: [VerificationKey], allowedAlgorithms: Set<JWSAlgorithm>, audiences: [String],
        maxAssertionLifetime: Int64 = 300, clockSkew: Int64 = 30, allowJTIReuse: Bool = false,
        capTokenExpiryAtAssertion: Bool = true, subjectMapping: SubjectMapping = .passthrough,
        subjectPattern: Pattern? = nil, claimRules: ClaimRules = ClaimRules(), allowedScopes: Set<String>? = nil,
        grantProfiles: Set<GrantProfile> = Set(GrantProfile.allCases)
    ) {
        storage = Storage(Settings(
            issuer: issuer, keys: keys, allowedAlgorithms: allowedAlgorithms, audiences: audiences,
            maxAssertionLifetime: maxAssertionLifetime, clockSkew: clockSkew, allowJTIReuse: allowJTIReuse,
            capTokenExpiryAtAssertion: capTokenExpiryAtAssertion, subjectMapping: subjectMapping,
            subjectPattern: subjectPattern, claimRules: claimRules, allowedScopes: allowedScopes, grantProfiles: grantProfiles
        ))
    }

    public subscript<Value>(dynamicMember member: WritableKeyPath<Settings, Value>) -> Value {
        get { storage.settings[keyPath: member] }
        set {
            var settings = storage.settings
            settings[keyPath: member] = newValue
            storage = Storage(settings)
        }
    }
}

/// A compiled regular expression that remembers its source for messages and metadata.
public struct Pattern: @unchecked Sendable {
    // Regex is immutable once built; it is only matched, never mutated, so sharing it is safe.
    private let regex: Regex<AnyRegexOutput>
    public let source: String

    public init(_ source: String) throws {
        self.regex = try Regex(source)
        self.source = source
    }

    /// Whole-string match: a pattern restricts the entire value, never a substring of it.
    public func matches(_ text: String) -> Bool {
        (try? regex.wholeMatch(in: text)) != nil
    }
}

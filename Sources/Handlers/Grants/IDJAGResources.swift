import JOSE

/// Resource handling when redeeming an ID-JAG (ID-JAG 5.1): a requested `resource` must be one the ID-JAG
/// grants; the access token's audience becomes the granted resources.
enum IDJAGResources {
    /// The audience for the access token, or nil to keep the configured one (no resource involved).
    static func grant(requested: [String], in claims: JSONObject) throws(OAuthError) -> [String]? {
        var carried: [String] = []
        if let value = claims["resource"] {
            if let single = value.stringValue {
                carried = [single]
            } else if let items = value.arrayValue, items.allSatisfy({ $0.stringValue != nil }) {
                carried = items.compactMap(\.stringValue)
            } else {
                throw .invalidGrant("assertion: claim \"resource\" must be a string or an array of strings")
            }
        }
        guard !requested.isEmpty else { return carried.isEmpty ? nil : carried }
        let refused = requested.filter { !carried.contains($0) }
        guard refused.isEmpty else {
            throw .invalidTarget("resource not granted by the ID-JAG: \(refused.map(CompactJWS.printable).joined(separator: " "))")
        }
        return requested
    }
}

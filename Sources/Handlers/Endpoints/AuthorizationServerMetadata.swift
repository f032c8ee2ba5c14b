import JOSE

/// RFC 8414 metadata built from the snapshot: every list says what this domain actually enables.
enum AuthorizationServerMetadata {
    static func render(_ snapshot: Snapshot) -> [UInt8] {
        var writer = JSONWriter(capacity: 1024)
        writer.beginObject()
        writer.member("issuer", snapshot.issuer)
        writer.member("token_endpoint", snapshot.tokenEndpoint)
        writer.member("jwks_uri", snapshot.jwksURI)

        let grants = snapshot.enabledGrantTypes.map(\.rawValue)
        if !grants.isEmpty { writer.member("grant_types_supported", strings: grants) }

        // Baton has no authorization endpoint, so it supports no response type. RFC 8414 still requires the
        // member; an empty array is the truthful value, and it is the one empty list Baton publishes.
        writer.member("response_types_supported", strings: [])

        let methods = ClientAuthMethod.allCases.filter { method in snapshot.clients.values.contains { $0.authMethod == method } }
        if !methods.isEmpty { writer.member("token_endpoint_auth_methods_supported", strings: methods.map(\.rawValue)) }
        if methods.contains(.privateKeyJWT) {
            let algorithms = Set(snapshot.clients.values.flatMap { client -> [JWSAlgorithm] in
                if case .keys(let keys) = client.credential { return keys.map(\.algorithm) }
                return []
            })
            if !algorithms.isEmpty {
                writer.member("token_endpoint_auth_signing_alg_values_supported", strings: algorithms.sorted().map(\.rawValue))
            }
        }

        // Identity chaining -17 3 and ID-JAG: what token exchange can issue, and that ID-JAGs are redeemed.
        if snapshot.enabledGrantTypes.contains(.tokenExchange) {
            let kinds = ExchangeTarget.TokenKind.allCases.filter { kind in snapshot.exchangeTargets.contains { $0.tokenKinds.contains(kind) } }
            if !kinds.isEmpty { writer.member("identity_chaining_requested_token_types_supported", strings: kinds.map(\.rawValue)) }
        }
        if snapshot.enabledGrantTypes.contains(.jwtBearer), !snapshot.trustedIssuers.isEmpty {
            writer.member("authorization_grant_profiles_supported", strings: [TokenTypeURI.idJAGProfile])
        }

        // A closure, not `\.allowedScopes`: the key path names its `Set<String>` value by mangled name,
        // and resolving that makes the runtime scan every conformance record for `String: Hashable`.
        let scopes = Set(snapshot.clients.values.flatMap { $0.allowedScopes }).sorted()
        if !scopes.isEmpty { writer.member("scopes_supported", strings: scopes) }

        writer.endObject()
        return writer.bytes
    }
}

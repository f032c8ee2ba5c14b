import JOSE

/// A snapshot with its keys and the documents derived from them, built once. Handlers hold one and
/// never change it; JWKS and metadata are rendered here so that serving them is a copy.
public struct Domain: Sendable {
    public let snapshot: Snapshot
    public let keys: KeySet
    public let signer: SigningKey
    let jwksBody: [UInt8]
    let metadataBody: [UInt8]

    public init(snapshot: Snapshot, keys: KeySet) throws(ConfigurationError) {
        guard let signer = keys.activeSigners[snapshot.tokenPolicy.signingAlgorithm] else {
            throw ConfigurationError(
                "token_policy.signing_alg: no active \(snapshot.tokenPolicy.signingAlgorithm.rawValue) signing key is loaded"
            )
        }
        self.snapshot = snapshot
        self.keys = keys
        self.signer = signer
        self.jwksBody = keys.jwksDocument()
        self.metadataBody = AuthorizationServerMetadata.render(snapshot)
    }
}

/// A configuration that cannot run. The message names the field path and what is wrong.
public struct ConfigurationError: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

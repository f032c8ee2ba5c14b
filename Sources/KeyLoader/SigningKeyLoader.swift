import Handlers
import JOSE

/// Builds the domain's own key set from `BATON_SIGNING_KEYS` (or a file). Rules:
/// - every key has one algorithm: its `alg`, or the default for its type (RSA → RS256, P-256 → ES256,
///   P-384 → ES384, Ed25519 → EdDSA); PS256 needs an explicit `"alg": "PS256"` in a JWKS;
/// - a private key is the active signer for its algorithm; a key marked `"key_ops": ["verify"]`, or given
///   as a public key only, is published for verification but never signs (rotation);
/// - at most one active signer per algorithm, distinct kids, RSA at least 2048 bits.
public enum SigningKeyLoader {
    public static func load(_ text: String, source: String) throws(ConfigurationError) -> KeySet {
        let keys = try KeyDocument.parse(text, source: source)
        guard !keys.isEmpty else { throw ConfigurationError("\(source): holds no keys") }
        var active: [JWSAlgorithm: (SigningKey, String)] = [:]
        var published: [VerificationKey] = []
        for labelled in keys {
            try KeyDocument.checkStrength(labelled, source: source)
            let algorithm = labelled.key.algorithm ?? labelled.key.keyType.defaultAlgorithm
            let kid = labelled.key.kid ?? labelled.key.publicMaterial.thumbprint()
            guard !published.contains(where: { $0.kid == kid }) else {
                throw ConfigurationError("\(source): \(labelled.label): duplicate kid \"\(kid)\"")
            }
            let operations = labelled.key.keyOperations
            if let operations, operations.isEmpty || !operations.allSatisfy({ $0 == "sign" || $0 == "verify" }) {
                throw ConfigurationError("\(source): \(labelled.label): \"key_ops\" may only hold \"sign\" and \"verify\"")
            }
            let verifyOnly = operations.map { !$0.contains("sign") } ?? false
            published.append(VerificationKey(kid: kid, algorithm: algorithm, material: labelled.key.publicMaterial))
            guard case .privateKey(let material) = labelled.key.material, !verifyOnly else { continue }
            if let (_, otherLabel) = active[algorithm] {
                throw ConfigurationError(
                    "\(source): \(labelled.label) and \(otherLabel) are both active \(algorithm.rawValue) signers; mark all but one with \"key_ops\": [\"verify\"]"
                )
            }
            do {
                active[algorithm] = (try SigningKey(kid: kid, algorithm: algorithm, material: material, publicMaterial: labelled.key.publicMaterial), labelled.label)
            } catch {
                throw ConfigurationError("\(source): \(labelled.label): \(error.description)")
            }
        }
        return KeySet(activeSigners: active.mapValues(\.0), published: published)
    }
}

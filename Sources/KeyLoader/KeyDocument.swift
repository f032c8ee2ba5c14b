import Handlers
import JOSE

/// A key read from a JWKS or PEM text, with a label that names it in messages without showing it.
struct LabelledKey {
    var label: String
    var key: ParsedKey
}

/// Reads a JWKS document or PEM blocks. `source` names where the text came from (an environment
/// variable, a file, a config field) and prefixes every message.
enum KeyDocument {
    static func parse(_ text: String, source: String) throws(ConfigurationError) -> [LabelledKey] {
        let trimmed = text.drop { $0.isWhitespace }
        if trimmed.hasPrefix("{") {
            let document: JSONValue
            do {
                document = try JSONParser.parse(String(trimmed))
            } catch {
                throw ConfigurationError("\(source): not valid JSON (\(error.description))")
            }
            return try parseJWKS(document, source: source)
        }
        if PEM.looksLikePEM(text) {
            let blocks: [PEMBlock]
            do {
                blocks = try PEM.blocks(in: text)
            } catch {
                throw ConfigurationError("\(source): \(error.description)")
            }
            var keys: [LabelledKey] = []
            for (index, block) in blocks.enumerated() {
                let label = "PEM block \(index + 1)"
                do {
                    let material = try PEM.key(from: block)
                    keys.append(LabelledKey(label: label, key: ParsedKey(kid: nil, algorithm: nil, keyOperations: nil, material: material)))
                } catch {
                    throw ConfigurationError("\(source): \(label): \(error.description)")
                }
            }
            return keys
        }
        throw ConfigurationError("\(source): neither a JWKS document nor PEM")
    }

    static func parseJWKS(_ document: JSONValue, source: String) throws(ConfigurationError) -> [LabelledKey] {
        guard let object = document.objectValue else { throw ConfigurationError("\(source): a JWKS must be a JSON object") }
        guard let keys = object["keys"]?.arrayValue else { throw ConfigurationError("\(source): a JWKS needs a \"keys\" array") }
        var result: [LabelledKey] = []
        for (index, item) in keys.enumerated() {
            let kid = item.objectValue?["kid"]?.stringValue
            let label = "key \(index + 1)" + (kid.map { " (kid \"\(CompactJWS.printable($0))\")" } ?? "")
            guard let jwk = item.objectValue else { throw ConfigurationError("\(source): \(label): a JWK must be a JSON object") }
            do {
                result.append(LabelledKey(label: label, key: try JWK.parse(jwk)))
            } catch {
                throw ConfigurationError("\(source): \(label): \(error.description)")
            }
        }
        return result
    }

    /// Turns public keys into verification keys bound to one algorithm each. A key without `alg` takes
    /// the only allowed algorithm that fits its type; where two fit (RS256 and PS256), it must say.
    static func verificationKeys(
        _ keys: [LabelledKey], allowedAlgorithms: Set<JWSAlgorithm>?, fixedKid: String? = nil, source: String
    ) throws(ConfigurationError) -> [VerificationKey] {
        var result: [VerificationKey] = []
        for labelled in keys {
            if labelled.key.isPrivate {
                throw ConfigurationError("\(source): \(labelled.label): holds private key material; configure public keys only")
            }
            let algorithm = try bindAlgorithm(labelled, allowedAlgorithms: allowedAlgorithms, source: source)
            try checkStrength(labelled, source: source)
            let kid = fixedKid ?? labelled.key.kid ?? labelled.key.publicMaterial.thumbprint()
            guard !result.contains(where: { $0.kid == kid }) else { throw ConfigurationError("\(source): \(labelled.label): duplicate kid \"\(kid)\"") }
            result.append(VerificationKey(kid: kid, algorithm: algorithm, material: labelled.key.publicMaterial))
        }
        return result
    }

    static func bindAlgorithm(_ labelled: LabelledKey, allowedAlgorithms: Set<JWSAlgorithm>?, source: String) throws(ConfigurationError) -> JWSAlgorithm {
        let keyType = labelled.key.keyType
        if let declared = labelled.key.algorithm {
            if let allowedAlgorithms, !allowedAlgorithms.contains(declared) {
                throw ConfigurationError("\(source): \(labelled.label): alg \(declared.rawValue) is not in the allowed algorithms")
            }
            return declared
        }
        guard let allowedAlgorithms else { return keyType.defaultAlgorithm }
        let fitting = allowedAlgorithms.filter { $0.keyType == keyType }.sorted()
        guard fitting.count == 1 else {
            throw ConfigurationError(fitting.isEmpty
                ? "\(source): \(labelled.label): \(keyType.description) fits none of the allowed algorithms"
                : "\(source): \(labelled.label): has no \"alg\" and could serve \(fitting.map(\.rawValue).joined(separator: " or ")); one key, one algorithm: set \"alg\"")
        }
        return fitting[0]
    }

    static func checkStrength(_ labelled: LabelledKey, source: String) throws(ConfigurationError) {
        if let bits = labelled.key.publicMaterial.rsaBits, bits < 2048 {
            throw ConfigurationError("\(source): \(labelled.label): RSA key of \(bits) bits; at least 2048 are required")
        }
    }
}

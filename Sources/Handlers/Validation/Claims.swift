import JOSE

/// Typed, strict access to a token's claims: a claim of the wrong JSON type is an error, never coerced
/// (an `exp` sent as a string is refused, not parsed).
struct Claims: Sendable {
    let object: JSONObject

    init(_ object: JSONObject) { self.object = object }

    subscript(name: String) -> JSONValue? { object[name] }

    func string(_ name: String) throws(ClaimProblem) -> String? {
        guard let value = object[name] else { return nil }
        guard let text = value.stringValue else { throw ClaimProblem("claim \"\(name)\" must be a string, found \(value.typeName)") }
        return text
    }

    func requiredString(_ name: String) throws(ClaimProblem) -> String {
        guard let text = try string(name) else { throw ClaimProblem("claim \"\(name)\" is required") }
        guard !text.isEmpty else { throw ClaimProblem("claim \"\(name)\" is empty") }
        return text
    }

    /// A NumericDate (RFC 7519 2): a JSON number of seconds; fractions are truncated.
    func numericDate(_ name: String) throws(ClaimProblem) -> Int64? {
        guard let value = object[name] else { return nil }
        guard let number = value.numberValue else { throw ClaimProblem("claim \"\(name)\" must be a number, found \(value.typeName)") }
        guard number >= 0, number < 1e13 else { throw ClaimProblem("claim \"\(name)\" is out of range") }
        return Int64(number)
    }

    /// `aud` as a list: a string, or an array of strings (RFC 7519 4.1.3).
    func audiences() throws(ClaimProblem) -> [String] {
        guard let value = object["aud"] else { throw ClaimProblem("claim \"aud\" is required") }
        if let single = value.stringValue { return [single] }
        guard let items = value.arrayValue else { throw ClaimProblem("claim \"aud\" must be a string or an array of strings") }
        var result: [String] = []
        for item in items {
            guard let text = item.stringValue else { throw ClaimProblem("claim \"aud\" must be a string or an array of strings") }
            result.append(text)
        }
        return result
    }

    /// Space-separated `scope` (RFC 8693 4.2, RFC 9068 2.2.3); also accepts the array form some IdPs send.
    func scopes() throws(ClaimProblem) -> Set<String>? {
        guard let value = object["scope"] else { return nil }
        if let text = value.stringValue { return Set(text.split(separator: " ").map(String.init)) }
        if let items = value.arrayValue {
            var result = Set<String>()
            for item in items {
                guard let text = item.stringValue else { throw ClaimProblem("claim \"scope\" must be a string") }
                result.insert(text)
            }
            return result
        }
        throw ClaimProblem("claim \"scope\" must be a string")
    }
}

import Handlers
import JOSE

/// Walks one JSON object of the configuration, remembering the path for messages and which members
/// were read, so that `finish()` can refuse the ones nobody asked for (a typo in a security setting
/// must stop start-up, not be ignored).
final class ConfigReader {
    let object: JSONObject
    let path: String
    private var read: Set<String> = []

    init(_ object: JSONObject, path: String) {
        self.object = object
        self.path = path
    }

    convenience init(_ value: JSONValue, path: String) throws(ConfigurationError) {
        guard let object = value.objectValue else { throw ConfigurationError("\(path.isEmpty ? "the document" : path): expected an object, found \(value.typeName)") }
        self.init(object, path: path)
    }

    func childPath(_ name: String) -> String { path.isEmpty ? name : "\(path).\(name)" }

    func error(_ name: String, _ message: String) -> ConfigurationError {
        // A required field reported missing is often a misspelt one: name the member that was sent.
        if object[name] == nil, let misspelt = object.names.first(where: { !read.contains($0) && Self.distance($0, name) <= 2 }) {
            return ConfigurationError("\(childPath(misspelt)): unknown field (did you mean \"\(name)\"?)")
        }
        return ConfigurationError("\(childPath(name)): \(message)")
    }

    func value(_ name: String) -> JSONValue? {
        read.insert(name)
        return object[name]
    }

    func has(_ name: String) -> Bool { object[name] != nil }

    func string(_ name: String) throws(ConfigurationError) -> String? {
        guard let value = value(name) else { return nil }
        guard let text = value.stringValue else { throw error(name, "expected a string, found \(value.typeName)") }
        guard !text.isEmpty else { throw error(name, "must not be empty") }
        return text
    }

    func requiredString(_ name: String) throws(ConfigurationError) -> String {
        guard let text = try string(name) else { throw error(name, "is required") }
        return text
    }

    func bool(_ name: String, default defaultValue: Bool) throws(ConfigurationError) -> Bool {
        guard let value = value(name) else { return defaultValue }
        guard let flag = value.boolValue else { throw error(name, "expected true or false, found \(value.typeName)") }
        return flag
    }

    func integer(_ name: String, default defaultValue: Int64, range: ClosedRange<Int64>) throws(ConfigurationError) -> Int64 {
        guard let value = value(name) else { return defaultValue }
        guard let number = value.numberValue else { throw error(name, "expected a whole number, found \(value.typeName)") }
        guard number.rounded() == number else { throw error(name, "expected a whole number, found \(number)") }
        guard number >= Double(range.lowerBound), number <= Double(range.upperBound) else {
            throw error(name, "must be between \(range.lowerBound) and \(range.upperBound)")
        }
        return Int64(number)
    }

    /// A list of strings; `allowSingle` also takes one bare string (for `audience`-like fields).
    func strings(_ name: String, allowSingle: Bool = false) throws(ConfigurationError) -> [String]? {
        guard let value = value(name) else { return nil }
        if allowSingle, let single = value.stringValue {
            guard !single.isEmpty else { throw error(name, "must not be empty") }
            return [single]
        }
        guard let items = value.arrayValue else {
            throw error(name, allowSingle ? "expected a string or an array of strings, found \(value.typeName)" : "expected an array of strings, found \(value.typeName)")
        }
        var result: [String] = []
        for (index, item) in items.enumerated() {
            guard let text = item.stringValue, !text.isEmpty else { throw error("\(name)[\(index)]", "expected a non-empty string") }
            guard !result.contains(text) else { throw error("\(name)[\(index)]", "\"\(text)\" is listed twice") }
            result.append(text)
        }
        return result
    }

    func objects(_ name: String) throws(ConfigurationError) -> [ConfigReader] {
        guard let value = value(name) else { return [] }
        guard let items = value.arrayValue else { throw error(name, "expected an array, found \(value.typeName)") }
        var readers: [ConfigReader] = []
        for (index, item) in items.enumerated() {
            readers.append(try ConfigReader(item, path: "\(childPath(name))[\(index)]"))
        }
        return readers
    }

    func object(_ name: String) throws(ConfigurationError) -> ConfigReader? {
        guard let value = value(name) else { return nil }
        return try ConfigReader(value, path: childPath(name))
    }

    /// Refuses members that were never read, suggesting the closest known name.
    func finish() throws(ConfigurationError) {
        for name in object.names where !read.contains(name) {
            var message = "unknown field"
            if let suggestion = Self.closest(to: name, in: read) { message += " (did you mean \"\(suggestion)\"?)" }
            throw error(name, message)
        }
    }

    private static func closest(to name: String, in candidates: Set<String>) -> String? {
        let scored = candidates.map { ($0, distance(name, $0)) }.filter { $0.1 <= max(2, name.count / 3) }
        return scored.min { $0.1 < $1.1 || ($0.1 == $1.1 && $0.0 < $1.0) }?.0
    }

    private static func distance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        var previous = Array(0...b.count)
        for i in 1...max(a.count, 1) where !a.isEmpty {
            var current = [i] + Array(repeating: 0, count: b.count)
            for j in 1...max(b.count, 1) where !b.isEmpty {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return previous[b.count]
    }
}

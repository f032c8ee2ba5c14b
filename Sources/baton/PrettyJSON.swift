import JOSE

/// Indented JSON for people reading the chain demo; tokens on the wire stay compact.
enum PrettyJSON {
    static func render(_ value: JSONValue, indent: String = "") -> String {
        switch value {
        case .object(let object):
            guard !object.isEmpty else { return "{}" }
            let inner = indent + "  "
            let members = object.members.map { member in
                var key = [UInt8]()
                JSONWriter.appendQuoted(member.name, to: &key)
                return inner + String(decoding: key, as: UTF8.self) + ": " + render(member.value, indent: inner)
            }
            return "{\n" + members.joined(separator: ",\n") + "\n" + indent + "}"
        case .array(let items):
            guard !items.isEmpty else { return "[]" }
            return "[" + items.map { render($0, indent: indent) }.joined(separator: ", ") + "]"
        default:
            var writer = JSONWriter()
            writer.value(value)
            return String(decoding: writer.bytes, as: UTF8.self)
        }
    }
}

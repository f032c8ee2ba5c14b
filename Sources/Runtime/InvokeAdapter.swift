import Handlers
import JOSE

/// API Gateway HTTP API payload format 2.0 (also the Lambda function URL shape): event JSON in,
/// response JSON out. It translates and routes; it decides nothing about OAuth.
public enum InvokeAdapter {
    public struct EventError: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    /// Events larger than this are refused before parsing (API Gateway's own limit is 10 MB; a token
    /// request is a few KB).
    public static let maxEventBytes = 1024 * 1024

    public static func request(fromEvent bytes: [UInt8]) throws(EventError) -> EndpointRequest {
        guard bytes.count <= maxEventBytes else { throw EventError(description: "the event is larger than \(maxEventBytes) bytes") }
        let event: JSONObject
        do {
            guard let object = try JSONParser.parse(bytes, maxDepth: 8).objectValue else {
                throw EventError(description: "the event is not a JSON object")
            }
            event = object
        } catch let error as JSONParseError {
            throw EventError(description: "the event is not valid JSON: \(error.description)")
        } catch {
            throw error as! EventError
        }
        if let version = event["version"]?.stringValue, version != "2.0" {
            throw EventError(description: "unsupported event version \"\(version)\"; Baton reads payload format 2.0")
        }
        guard let method = event["requestContext"]?.objectValue?["http"]?.objectValue?["method"]?.stringValue else {
            throw EventError(description: "the event has no requestContext.http.method (is it a payload 2.0 event?)")
        }
        guard let path = event["rawPath"]?.stringValue ?? event["requestContext"]?.objectValue?["http"]?.objectValue?["path"]?.stringValue else {
            throw EventError(description: "the event has no rawPath")
        }
        var headers: [(name: String, value: String)] = []
        if let object = event["headers"]?.objectValue {
            for member in object.members {
                guard let value = member.value.stringValue else { throw EventError(description: "header \(member.name) is not a string") }
                headers.append((member.name.lowercased(), value))
            }
        }
        var body: [UInt8] = []
        if let text = event["body"]?.stringValue {
            if event["isBase64Encoded"]?.boolValue == true {
                guard let decoded = Base64Standard.decode(text) else { throw EventError(description: "the body is marked base64 but is not valid base64") }
                body = decoded
            } else {
                body = Array(text.utf8)
            }
        }
        return EndpointRequest(method: method.uppercased(), path: path, headers: headers, body: body)
    }

    /// The payload 2.0 response object. Bodies are JSON text, so they go out as strings, not base64.
    public static func responseEvent(_ response: EndpointResponse) -> [UInt8] {
        var writer = JSONWriter(capacity: response.body.count + 256)
        writer.beginObject()
        writer.member("statusCode", response.status)
        writer.key("headers")
        writer.beginObject()
        for (name, value) in response.headers { writer.member(named: name.lowercased(), value) }
        writer.endObject()
        if let text = String(validating: response.body, as: UTF8.self) {
            writer.member("body", text)
            writer.key("isBase64Encoded")
            writer.bool(false)
        } else {
            writer.member("body", Base64Standard.encode(response.body))
            writer.key("isBase64Encoded")
            writer.bool(true)
        }
        writer.endObject()
        return writer.bytes
    }

    public static func invoke(eventBytes: [UInt8], routes: RouteTable, environment: HandlerEnvironment) async throws(EventError) -> [UInt8] {
        let request = try request(fromEvent: eventBytes)
        return responseEvent(await routes.respond(to: request, in: environment))
    }
}

import Foundation
import Handlers
import Runtime
import Testing

@Suite("InvokeAdapter: payload 2.0 events in process")
struct InvokeAdapterTests {
    @Test("the events directory holds the documented events")
    func eventsDirectory() {
        let files = Package.eventFiles()
        for name in [
            "discovery.json", "jwks.json", "openid-configuration.json", "token-client-credentials.json",
            "token-client-credentials-base64.json", "token-client-credentials-bad-secret.json", "token-jwt-bearer-forged.json",
            "token-jwt-bearer.template.json", "token-unsupported-grant-type.json", "token-wrong-content-type.json",
            "token-wrong-method.json",
        ] {
            #expect(files.contains(name), "events/\(name) is missing")
        }
    }

    @Test("every bundled event translates to the request it describes", arguments: Package.eventFiles())
    func everyEvent(name: String) throws {
        let bytes = try Package.read(Package.event(name))
        let request = try InvokeAdapter.request(fromEvent: bytes)

        // The expectation comes from Foundation's parser, independent of the adapter's own.
        let event = try jsonObject(bytes)
        let http = try #require((event["requestContext"] as? [String: Any])?["http"] as? [String: Any])
        #expect(request.method == (http["method"] as? String)?.uppercased())
        #expect(request.path == event["rawPath"] as? String)
        let headers = try #require(event["headers"] as? [String: String])
        #expect(request.headers.count == headers.count)
        for (name, value) in headers {
            #expect(request.header(name.lowercased()) == value, "header \(name)")
        }
        for header in request.headers { #expect(header.name == header.name.lowercased()) }
        let body = event["body"] as? String
        if event["isBase64Encoded"] as? Bool == true, let body {
            #expect(request.body == Array(try #require(Data(base64Encoded: body))))
        } else {
            #expect(request.body == Array((body ?? "").utf8))
        }
    }

    @Test("a base64 body (isBase64Encoded true) is decoded and answers like the plain event")
    func base64Body() async throws {
        let request = try InvokeAdapter.request(fromEvent: try Package.read(Package.event("token-client-credentials-base64.json")))
        #expect(String(decoding: request.body, as: UTF8.self) == "grant_type=client_credentials")

        let routes = RouteTable(domain: try Package.domain("domain-a.json"))
        let environment = LiveEnvironment(replayStore: MemoryReplayStore()).make()
        let output = try await InvokeAdapter.invoke(
            eventBytes: try Package.read(Package.event("token-client-credentials-base64.json")), routes: routes, environment: environment
        )
        let response = try InvokeResponse(output)
        #expect(response.statusCode == 200)
        let body = try response.bodyJSON()
        #expect(body["token_type"] as? String == "Bearer")
        #expect(body["scope"] as? String == "profile", "default_scopes of agent-app")
    }

    @Test("a base64 body may carry bytes that are not UTF-8")
    func base64BinaryBody() throws {
        let event = """
        {"version":"2.0","rawPath":"/token","requestContext":{"http":{"method":"post"}},"isBase64Encoded":true,"body":"/wBhYg=="}
        """
        let request = try InvokeAdapter.request(fromEvent: Array(event.utf8))
        #expect(request.body == [0xFF, 0x00, 0x61, 0x62])
        #expect(request.method == "POST", "methods are upper-cased")
    }

    @Test("the path falls back to requestContext.http.path when rawPath is absent")
    func pathFallback() throws {
        let event = #"{"version":"2.0","requestContext":{"http":{"method":"GET","path":"/jwks"}}}"#
        let request = try InvokeAdapter.request(fromEvent: Array(event.utf8))
        #expect(request.path == "/jwks")
        #expect(request.body.isEmpty)
    }

    static let malformed: [(String, String)] = [
        ("not JSON", "this is not json"),
        ("empty input", ""),
        ("truncated JSON", #"{"version":"2.0","rawPath":"/jwks""#),
        ("a JSON array", #"[{"version":"2.0","rawPath":"/jwks","requestContext":{"http":{"method":"GET"}}}]"#),
        ("a JSON string", #""GET /jwks""#),
        ("no requestContext", #"{"version":"2.0","rawPath":"/jwks"}"#),
        ("no requestContext.http", #"{"version":"2.0","rawPath":"/jwks","requestContext":{}}"#),
        ("no requestContext.http.method", #"{"version":"2.0","rawPath":"/jwks","requestContext":{"http":{"path":"/jwks"}}}"#),
        ("a method that is not a string", #"{"version":"2.0","rawPath":"/jwks","requestContext":{"http":{"method":7}}}"#),
        ("payload version 1.0", #"{"version":"1.0","path":"/jwks","rawPath":"/jwks","httpMethod":"GET","requestContext":{"http":{"method":"GET"}}}"#),
        ("no path at all", #"{"version":"2.0","requestContext":{"http":{"method":"GET"}}}"#),
        ("body marked base64 but invalid", #"{"version":"2.0","rawPath":"/token","requestContext":{"http":{"method":"POST"}},"isBase64Encoded":true,"body":"not base64!!"}"#),
        ("a header that is not a string", #"{"version":"2.0","rawPath":"/jwks","headers":{"x-n":1},"requestContext":{"http":{"method":"GET"}}}"#),
        ("nesting deeper than an event needs", #"{"version":"2.0","rawPath":"/jwks","requestContext":{"http":{"method":"GET"}},"x":[[[[[[[[[[1]]]]]]]]]]}"#),
    ]

    @Test("malformed events throw EventError", arguments: malformed)
    func malformedEvent(label: String, event: String) {
        #expect(throws: InvokeAdapter.EventError.self, "\(label)") {
            try InvokeAdapter.request(fromEvent: Array(event.utf8))
        }
    }

    @Test("events larger than the limit are refused before parsing")
    func oversizeEvent() {
        let padding = String(repeating: "a", count: InvokeAdapter.maxEventBytes)
        let event = #"{"version":"2.0","rawPath":"/jwks","requestContext":{"http":{"method":"GET"}},"pad":""# + padding + #""}"#
        #expect(throws: InvokeAdapter.EventError.self) { try InvokeAdapter.request(fromEvent: Array(event.utf8)) }
    }

    @Test("the error message names the problem")
    func errorDescriptions() {
        func message(_ event: String) -> String {
            do {
                _ = try InvokeAdapter.request(fromEvent: Array(event.utf8))
                return "accepted"
            } catch {
                return error.description
            }
        }
        #expect(message(#"{"version":"1.0","requestContext":{"http":{"method":"GET"}},"rawPath":"/"}"#).contains("1.0"))
        #expect(message(#"{"version":"2.0","rawPath":"/"}"#).contains("requestContext.http.method"))
        #expect(message("[]").contains("not a JSON object"))
        #expect(message(#"{"version":"2.0","rawPath":"/","requestContext":{"http":{"method":"POST"}},"isBase64Encoded":true,"body":"%%%"}"#).contains("base64"))
    }

    @Test("responseEvent: statusCode, lower-cased headers, body as a string, isBase64Encoded false")
    func responseEventShape() throws {
        let response = EndpointResponse(
            status: 201,
            headers: [("Content-Type", "application/json"), ("Cache-Control", "no-store"), ("WWW-Authenticate", "Basic realm=\"x\"")],
            body: Array(#"{"a":"é \"q\""}"#.utf8)
        )
        let event = try InvokeResponse(InvokeAdapter.responseEvent(response))
        #expect(event.statusCode == 201)
        #expect(event.headers == ["content-type": "application/json", "cache-control": "no-store", "www-authenticate": "Basic realm=\"x\""])
        #expect(event.body == #"{"a":"é \"q\""}"#)
        #expect(event.isBase64Encoded == false)
        #expect(Set(event.raw.keys) == ["statusCode", "headers", "body", "isBase64Encoded"])
    }

    @Test("responseEvent: an empty body is an empty string")
    func responseEventEmptyBody() throws {
        let event = try InvokeResponse(InvokeAdapter.responseEvent(EndpointResponse(status: 204, headers: [], body: [])))
        #expect(event.statusCode == 204)
        #expect(event.body == "")
        #expect(event.isBase64Encoded == false)
        #expect(event.headers.isEmpty)
    }

    @Test("responseEvent: bytes that are not UTF-8 go out base64")
    func responseEventBinary() throws {
        let event = try InvokeResponse(InvokeAdapter.responseEvent(EndpointResponse(status: 200, headers: [], body: [0xFF, 0xFE, 0x00])))
        #expect(event.isBase64Encoded == true)
        #expect(Data(base64Encoded: event.body).map(Array.init) == [0xFF, 0xFE, 0x00])
    }

    @Test("invoke: every bundled event answers with a well-formed response", arguments: Package.eventFiles())
    func invokeEveryEvent(name: String) async throws {
        let config = name.contains("client-credentials") ? "domain-a.json" : "domain-b.json"
        let routes = RouteTable(domain: try Package.domain(config))
        let environment = LiveEnvironment(replayStore: MemoryReplayStore()).make()
        let output = try await InvokeAdapter.invoke(eventBytes: try Package.read(Package.event(name)), routes: routes, environment: environment)
        let response = try InvokeResponse(output)
        #expect(response.isBase64Encoded == false)
        #expect(response.headers["content-type"] == "application/json")
        _ = try response.bodyJSON()
        let expected: [String: Int] = [
            "discovery.json": 200, "jwks.json": 200, "openid-configuration.json": 200,
            "token-client-credentials.json": 200, "token-client-credentials-base64.json": 200,
            "token-client-credentials-bad-secret.json": 401, "token-jwt-bearer-forged.json": 400,
            "token-jwt-bearer.template.json": 400, "token-unsupported-grant-type.json": 400,
            "token-wrong-content-type.json": 400, "token-wrong-method.json": 405,
        ]
        if let status = expected[name] { #expect(response.statusCode == status) }
    }

    @Test("LiveEnvironment: token ids are 128 random bits in base64url, and the clock is now")
    func liveEnvironment() {
        let ids = (0..<2000).map { _ in LiveEnvironment.randomTokenID() }
        #expect(Set(ids).count == ids.count)
        let alphabet = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
        for id in ids.prefix(100) {
            #expect(id.count == 22, "\(id)")
            #expect(id.allSatisfy(alphabet.contains), "\(id)")
        }
        let environment = LiveEnvironment(replayStore: MemoryReplayStore()).make()
        #expect(abs(Double(environment.now) - Date().timeIntervalSince1970) < 5)
        #expect(environment.makeTokenID() != environment.makeTokenID())
    }
}

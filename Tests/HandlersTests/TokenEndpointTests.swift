import Handlers
import JOSE
import Testing

/// RFC 6749 3.2 / 5.2 at the token endpoint, before any grant runs.
@Suite struct TokenEndpointTests {
    let domain = TestDomainBuilder().build()

    func send(method: String = "POST", contentType: String? = "application/x-www-form-urlencoded", body: String) async -> Result {
        var headers: [(name: String, value: String)] = [(name: basic("app", clientSecret).0, value: basic("app", clientSecret).1)]
        if let contentType { headers.append((name: "content-type", value: contentType)) }
        let request = EndpointRequest(method: method, path: "/token", headers: headers, body: Array(body.utf8))
        let outcome = await TokenEndpoint(domain: domain).handle(request, in: makeEnvironment())
        return Result(response: outcome.response, decision: outcome.decision)
    }

    @Test func postOnly() async {
        let result = await send(method: "GET", body: "")
        expectError(result, "invalid_request", "POST", status: 405)
        #expect(result.response.header("allow") == "POST")
        #expect(result.response.header("pragma") == "no-cache")
    }

    @Test func formContentTypeOnly() async {
        expectError(await send(contentType: "application/json", body: #"{"grant_type":"client_credentials"}"#), "invalid_request", "x-www-form-urlencoded")
        expectError(await send(contentType: nil, body: "grant_type=client_credentials"), "invalid_request", "x-www-form-urlencoded")
        let withCharset = await send(contentType: "Application/X-WWW-Form-Urlencoded; charset=UTF-8", body: "grant_type=client_credentials")
        #expect(withCharset.response.status == 200)
    }

    @Test func grantTypeRules() async {
        expectError(await send(body: "scope=read"), "invalid_request", "grant_type")
        expectError(await send(body: "grant_type=password"), "unsupported_grant_type", "password")
        expectError(await send(body: "grant_type=client_credentials&grant_type=client_credentials"), "invalid_request", "repeated")
    }

    @Test func emptyValuesAreOmittedAndUnknownParametersIgnored() async {
        let result = await send(body: "grant_type=client_credentials&scope=&unknown=1")
        #expect(result.response.status == 200, "\(result.description)")
        #expect(result.json["scope"]?.stringValue == "read", "empty scope counts as omitted: the defaults apply")
    }

    @Test func malformedBodies() async {
        expectError(await send(body: "grant_type=client%ZZcredentials"), "invalid_request", "percent")
        expectError(await send(body: "grant_type=client_credentials&x=%FF%FE"), "invalid_request", "UTF-8")
        expectError(await send(body: String(repeating: "a", count: 70_000)), "invalid_request", "larger than")
    }

    @Test func decisionRecordsDenials() async {
        let result = await send(body: "grant_type=client_credentials&scope=admin")
        #expect(result.decision.clientID == "app")
        #expect(result.decision.grantType == "client_credentials")
        guard case .denied(let code, _) = result.decision.outcome else { Issue.record("expected a denial"); return }
        #expect(code == .invalidScope)
    }
}

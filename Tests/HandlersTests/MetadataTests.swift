import Handlers
import JOSE
import JWTKit
import Testing

@Suite struct MetadataTests {
    @Test func jwksHasPublicMembersOnlyAndLoadsInJWTKit() async throws {
        let domain = exchangeDomain()
        let response = JWKSEndpoint(domain: domain).respond(to: EndpointRequest(method: "GET", path: "/jwks"), in: makeEnvironment())
        #expect(response.status == 200)
        #expect(response.header("cache-control") == "public, max-age=300")
        let keys = try #require(try JSONParser.parse(response.body).objectValue?["keys"]?.arrayValue)
        #expect(keys.count == 1)
        let key = try #require(keys.first?.objectValue)
        for member in ["d", "p", "q", "dp", "dq", "qi", "k"] { #expect(key[member] == nil) }
        #expect(key["use"]?.stringValue == "sig")
        #expect(key["alg"]?.stringValue == "ES256")
        #expect(key["kid"]?.stringValue == "b-1")
        let collection = try await JWTKeyCollection().add(jwksJSON: String(decoding: response.body, as: UTF8.self))
        // An access token issued by the domain verifies with JWTKit against the published JWKS.
        let issued = await TokenCall(domain).post([("grant_type", "client_credentials")])
        let payload = try await collection.verify(issued.accessToken!, as: AccessTokenPayload.self)
        #expect(payload.client_id == "app")
        #expect(payload.iss == domainIssuer)
    }

    @Test func jwksRefusesWrites() {
        let response = JWKSEndpoint(domain: exchangeDomain()).respond(to: EndpointRequest(method: "POST", path: "/jwks"), in: makeEnvironment())
        #expect(response.status == 405)
    }

    @Test func discoveryDescribesWhatIsEnabled() throws {
        let response = DiscoveryEndpoint(domain: exchangeDomain()).respond(
            to: EndpointRequest(method: "GET", path: "/.well-known/oauth-authorization-server"), in: makeEnvironment()
        )
        #expect(response.header("cache-control") == "public, max-age=3600")
        let document = try #require(try JSONParser.parse(response.body).objectValue)
        #expect(document["issuer"]?.stringValue == domainIssuer)
        #expect(document["token_endpoint"]?.stringValue == domainIssuer + "/token")
        #expect(document["jwks_uri"]?.stringValue == domainIssuer + "/jwks")
        let grants = document["grant_types_supported"]?.arrayValue?.compactMap(\.stringValue) ?? []
        #expect(Set(grants) == ["client_credentials", jwtBearer, tokenExchange])
        let methods = document["token_endpoint_auth_methods_supported"]?.arrayValue?.compactMap(\.stringValue) ?? []
        #expect(Set(methods) == ["client_secret_basic", "client_secret_post", "private_key_jwt", "none"])
        #expect(document["token_endpoint_auth_signing_alg_values_supported"]?.arrayValue?.compactMap(\.stringValue) == ["ES256"])
        #expect(document["response_types_supported"] == .array([]))
        #expect(document["authorization_grant_profiles_supported"] == .array([.string("urn:ietf:params:oauth:grant-profile:id-jag")]))
        let chaining = document["identity_chaining_requested_token_types_supported"]?.arrayValue?.compactMap(\.stringValue) ?? []
        #expect(Set(chaining) == [jwtType, idJAGType, accessTokenType])
        #expect(document["authorization_endpoint"] == nil)
    }

    @Test func emptyListsAreOmitted() throws {
        var builder = TestDomainBuilder()
        builder.clients = []
        builder.issuers = []
        let response = DiscoveryEndpoint(domain: builder.build()).respond(to: EndpointRequest(method: "GET", path: "/"), in: makeEnvironment())
        let document = try #require(try JSONParser.parse(response.body).objectValue)
        for member in ["grant_types_supported", "token_endpoint_auth_methods_supported", "scopes_supported",
                       "identity_chaining_requested_token_types_supported", "authorization_grant_profiles_supported"] {
            #expect(document[member] == nil, "\(member)")
        }
    }
}

struct AccessTokenPayload: JWTPayload {
    var iss: String
    var sub: String
    var client_id: String
    var jti: String
    var exp: Int64
    var iat: Int64

    func verify(using algorithm: some JWTAlgorithm) async throws {}
}

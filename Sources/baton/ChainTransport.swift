import Handlers
import Runtime

/// How the chain demo reaches the two domains: in this process through the same route table the
/// adapters use, or over real HTTP to two `baton serve` processes.
protocol ChainTransport {
    func send(_ request: EndpointRequest, to domain: ChainDomain) async throws -> EndpointResponse
    func describe(_ domain: ChainDomain) -> String
}

enum ChainDomain {
    case a
    case b
}

struct InProcessTransport: ChainTransport {
    let routesA: RouteTable
    let routesB: RouteTable
    let environmentA: LiveEnvironment
    let environmentB: LiveEnvironment

    func send(_ request: EndpointRequest, to domain: ChainDomain) async throws -> EndpointResponse {
        switch domain {
        case .a: await routesA.respond(to: request, in: environmentA.make())
        case .b: await routesB.respond(to: request, in: environmentB.make())
        }
    }

    func describe(_ domain: ChainDomain) -> String { "in process" }
}

struct HTTPTransport: ChainTransport {
    struct Endpoint {
        var host: String
        var port: Int
    }

    let a: Endpoint
    let b: Endpoint

    static func parse(_ base: String) throws -> Endpoint {
        guard base.hasPrefix("http://") else { throw Fatal("--over-http: \(base) must be an http:// base URL") }
        let hostPort = base.dropFirst(7).prefix { $0 != "/" }
        let parts = hostPort.split(separator: ":")
        guard parts.count == 2, let port = Int(parts[1]) else { throw Fatal("--over-http: \(base) needs host:port") }
        return Endpoint(host: String(parts[0]), port: port)
    }

    func send(_ request: EndpointRequest, to domain: ChainDomain) async throws -> EndpointResponse {
        let endpoint = domain == .a ? a : b
        let response = try await LoopbackHTTPClient.send(
            method: request.method, host: endpoint.host, port: endpoint.port, path: request.path,
            headers: request.headers, body: request.body
        )
        return EndpointResponse(status: response.status, headers: response.headers, body: response.body)
    }

    func describe(_ domain: ChainDomain) -> String {
        let endpoint = domain == .a ? a : b
        return "http://\(endpoint.host):\(endpoint.port)"
    }
}

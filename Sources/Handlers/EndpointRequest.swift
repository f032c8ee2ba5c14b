/// An HTTP request as every adapter hands it to a handler: already read, already bounded.
public struct EndpointRequest: Sendable {
    public var method: String
    public var path: String
    /// Header names in lower case; repeated headers are kept as separate entries.
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]

    public init(method: String, path: String, headers: [(name: String, value: String)] = [], body: [UInt8] = []) {
        self.method = method
        self.path = path
        // Adapters usually hand over lower-case names already (HTTP/2, Hummingbird, API Gateway v2).
        self.headers = headers.contains { ASCII.hasUppercase($0.name) }
            ? headers.map { (name: $0.name.lowercased(), value: $0.value) } : headers
        self.body = body
    }

    /// All values of a header, by lower-case name.
    public func headerValues(_ name: String) -> [String] {
        headers.compactMap { $0.name == name ? $0.value : nil }
    }

    public func header(_ name: String) -> String? {
        headers.first { $0.name == name }?.value
    }
}

/// What a handler answers; adapters translate it without looking inside.
public struct EndpointResponse: Sendable {
    public var status: Int
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]

    public init(status: Int, headers: [(name: String, value: String)], body: [UInt8]) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    public func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }

    /// RFC 6749 5.1: token responses and their errors must never be cached.
    static let noStore: [(name: String, value: String)] = [
        ("Content-Type", "application/json"),
        ("Cache-Control", "no-store"),
        ("Pragma", "no-cache"),
    ]

    static func json(_ body: [UInt8], status: Int = 200, cacheControl: String) -> EndpointResponse {
        EndpointResponse(status: status, headers: [("Content-Type", "application/json"), ("Cache-Control", cacheControl)], body: body)
    }

    static func tokenJSON(_ body: [UInt8], status: Int = 200) -> EndpointResponse {
        EndpointResponse(status: status, headers: noStore, body: body)
    }
}

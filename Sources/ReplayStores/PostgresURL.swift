import PostgresNIO

/// `postgres://[user[:password]@][host][:port][/database][?sslmode=…&sslrootcert=…&host=/socket/dir&connect_timeout=2]`,
/// parsed as libpq reads it. The password may also come from `PGPASSWORD`; `redacted` never shows it.
public struct PostgresURL: Sendable, Equatable {
    public enum SSLMode: String, Sendable {
        case disable, allow, prefer, require
        case verifyCA = "verify-ca"
        case verifyFull = "verify-full"
    }

    public var host: String
    /// Directory of the server's Unix socket (`?host=/run/postgresql`); when set, `host` is ignored.
    public var socketDirectory: String?
    public var port: Int
    public var username: String
    public var password: String?
    public var database: String
    public var sslMode: SSLMode
    public var sslRootCertificate: String?
    /// Seconds; the default is 2.
    public var connectTimeout: Int?

    public struct ParseError: Error, CustomStringConvertible {
        public var description: String
    }

    /// - Parameter environment: `PGPASSWORD`, `PGUSER`, `USER` fill in what the URL leaves out.
    public init(_ text: String, environment: [String: String] = [:]) throws(ParseError) {
        var rest: Substring
        if text.hasPrefix("postgres://") {
            rest = text.dropFirst("postgres://".count)
        } else if text.hasPrefix("postgresql://") {
            rest = text.dropFirst("postgresql://".count)
        } else {
            throw ParseError(description: "not a postgres:// URL")
        }
        var query: Substring = ""
        if let mark = rest.firstIndex(of: "?") {
            query = rest[rest.index(after: mark)...]
            rest = rest[..<mark]
        }
        var path: Substring = ""
        if let slash = rest.firstIndex(of: "/") {
            path = rest[rest.index(after: slash)...]
            rest = rest[..<slash]
        }
        var userInfo: Substring?
        if let at = rest.lastIndex(of: "@") {
            userInfo = rest[..<at]
            rest = rest[rest.index(after: at)...]
        }
        var user: String?
        var password: String?
        if let userInfo {
            if let colon = userInfo.firstIndex(of: ":") {
                user = try Self.decode(userInfo[..<colon], "user name")
                password = try Self.decode(userInfo[userInfo.index(after: colon)...], "password")
            } else {
                user = try Self.decode(userInfo, "user name")
            }
        }
        // Host and port; an IPv6 address is written in brackets.
        var hostPart = rest
        var portText: Substring?
        if hostPart.hasPrefix("[") {
            guard let close = hostPart.firstIndex(of: "]") else { throw ParseError(description: "unterminated [IPv6] host") }
            let after = hostPart[hostPart.index(after: close)...]
            if after.hasPrefix(":") { portText = after.dropFirst() } else if !after.isEmpty { throw ParseError(description: "unexpected text after the host") }
            hostPart = hostPart[hostPart.index(after: hostPart.startIndex)..<close]
        } else if let colon = hostPart.lastIndex(of: ":") {
            portText = hostPart[hostPart.index(after: colon)...]
            hostPart = hostPart[..<colon]
        }
        var port = 5432
        if let portText {
            guard let value = Int(portText), (1...65535).contains(value) else { throw ParseError(description: "the port is not a number from 1 to 65535") }
            port = value
        }
        self.host = hostPart.isEmpty ? "localhost" : try Self.decode(hostPart, "host")
        self.port = port
        self.password = password ?? environment["PGPASSWORD"]
        self.username = user ?? environment["PGUSER"] ?? environment["USER"] ?? "postgres"
        self.database = path.isEmpty ? self.username : try Self.decode(path, "database name")
        self.sslMode = .prefer
        for pair in query.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = String(parts[0])
            let value = parts.count > 1 ? try Self.decode(parts[1], name) : ""
            switch name {
            case "sslmode":
                guard let mode = SSLMode(rawValue: value) else {
                    throw ParseError(description: "sslmode \"\(value)\" is not one of disable, allow, prefer, require, verify-ca, verify-full")
                }
                self.sslMode = mode
            case "sslrootcert":
                self.sslRootCertificate = value
            case "host":
                guard value.hasPrefix("/") else { throw ParseError(description: "the host parameter must be a socket directory") }
                self.socketDirectory = value
            case "connect_timeout":
                guard let seconds = Int(value), seconds > 0 else { throw ParseError(description: "connect_timeout must be a positive number of seconds") }
                self.connectTimeout = seconds
            case "application_name":
                break
            default:
                throw ParseError(description: "unsupported parameter \"\(name)\" (sslmode, sslrootcert, host, connect_timeout)")
            }
        }
    }

    /// The URL without its password, for messages.
    public var redacted: String {
        let location = socketDirectory.map { "?host=\($0)" } ?? ""
        let shownHost = host.contains(":") ? "[\(host)]" : host
        return "postgres://\(username)@\(socketDirectory == nil ? shownHost : ""):\(port)/\(database)\(location)"
    }

    func clientConfiguration() -> PostgresClient.Configuration {
        var configuration: PostgresClient.Configuration
        if let socketDirectory {
            configuration = .init(
                unixSocketPath: socketDirectory + "/.s.PGSQL.\(port)", username: username, password: password, database: database
            )
        } else {
            configuration = .init(host: host, port: port, username: username, password: password, database: database, tls: tls())
        }
        configuration.options.connectTimeout = .seconds(connectTimeout ?? 2)
        configuration.options.additionalStartupParameters = [("application_name", "baton")]
        return configuration
    }

    private func tls() -> PostgresClient.Configuration.TLS {
        var tls = TLSConfiguration.makeClientConfiguration()
        if let sslRootCertificate { tls.trustRoots = .file(sslRootCertificate) }
        switch sslMode {
        case .disable:
            return .disable
        case .allow, .prefer:
            tls.certificateVerification = .none
            return .prefer(tls)
        case .require:
            // As libpq: encrypted, but the certificate is checked only when a root is given.
            tls.certificateVerification = sslRootCertificate == nil ? .none : .noHostnameVerification
            return .require(tls)
        case .verifyCA:
            tls.certificateVerification = .noHostnameVerification
            return .require(tls)
        case .verifyFull:
            tls.certificateVerification = .fullVerification
            return .require(tls)
        }
    }

    private static func decode(_ text: Substring, _ what: String) throws(ParseError) -> String {
        var bytes: [UInt8] = []
        var iterator = Array(text.utf8).makeIterator()
        while let byte = iterator.next() {
            guard byte == UInt8(ascii: "%") else { bytes.append(byte); continue }
            guard let high = iterator.next().flatMap(hexValue), let low = iterator.next().flatMap(hexValue) else {
                throw ParseError(description: "bad %-escape in the \(what)")
            }
            bytes.append(high << 4 | low)
        }
        guard let decoded = String(validating: bytes, as: UTF8.self) else { throw ParseError(description: "the \(what) is not UTF-8") }
        return decoded
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}

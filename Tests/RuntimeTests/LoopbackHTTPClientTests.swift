import Foundation
import Runtime
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A bare HTTP/1.1 peer on 127.0.0.1: for each connection it reads the request head, answers with a fixed
/// response and closes, as any server does for `Connection: close` (and as a server may do early, before a
/// request body, e.g. with 413). It records the request heads it saw.
final class ClosingHTTPPeer: @unchecked Sendable {
    let port: Int
    private let listener: Int32
    private let log = HeadLog()
    private let thread: Thread

    /// Shared with the peer's thread: the request heads, and who closes the listening socket (the thread
    /// does, once; `stop()` only shuts it down while it is still open, so no stale descriptor is touched).
    final class HeadLog: @unchecked Sendable {
        private let lock = NSLock()
        private var heads: [String] = []
        private var listenerClosed = false

        func closeListener(_ fd: Int32) {
            lock.lock()
            defer { lock.unlock() }
            if !listenerClosed {
                listenerClosed = true
                close(fd)
            }
        }

        func shutDownListener(_ fd: Int32) {
            lock.lock()
            defer { lock.unlock() }
            if !listenerClosed { shutdown(fd, Int32(SHUT_RDWR)) }
        }

        func append(_ head: String) {
            lock.lock()
            heads.append(head)
            lock.unlock()
        }
        var all: [String] {
            lock.lock()
            defer { lock.unlock() }
            return heads
        }
    }

    init(response: String, connections: Int, closeDelay: Double = 0) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestFailure("socket failed") }
        var yes: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 64) == 0 else {
            close(fd)
            throw TestFailure("bind/listen failed")
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        listener = fd
        port = Int(UInt16(bigEndian: address.sin_port))
        let bytes = Array(response.utf8)
        let log = self.log
        thread = Thread {
            defer { log.closeListener(fd) }
            for _ in 0..<connections {
                let connection = accept(fd, nil, nil)
                if connection < 0 { return }
                // Never wait forever for a client that stopped talking.
                var timeout = timeval(tv_sec: 5, tv_usec: 0)
                setsockopt(connection, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
                var head: [UInt8] = []
                var buffer = [UInt8](repeating: 0, count: 4096)
                // The head ends at the first blank line; a body may follow in the same read.
                while !head.containsBlankLine() {
                    let count = read(connection, &buffer, buffer.count)
                    if count <= 0 { break }
                    head += buffer[0..<count]
                }
                if let end = String(decoding: head, as: UTF8.self).range(of: "\r\n\r\n") {
                    log.append(String(String(decoding: head, as: UTF8.self)[..<end.upperBound]))
                } else {
                    log.append(String(decoding: head, as: UTF8.self))
                }
                _ = bytes.withUnsafeBytes { write(connection, $0.baseAddress, $0.count) }
                if closeDelay > 0 { Thread.sleep(forTimeInterval: closeDelay) }
                close(connection)
            }
        }
        thread.start()
    }

    var requestHeads: [String] { log.all }

    /// Wakes the thread if it waits in accept(); the thread then closes the listener.
    func stop() { log.shutDownListener(listener) }
}

private extension Array where Element == UInt8 {
    func containsBlankLine() -> Bool {
        guard count >= 4 else { return false }
        for index in 0...(count - 4) where self[index] == 13 && self[index + 1] == 10 && self[index + 2] == 13 && self[index + 3] == 10 {
            return true
        }
        return false
    }
}

@Suite("LoopbackHTTPClient", .timeLimit(.minutes(1)))
struct LoopbackHTTPClientTests {
    static let ok = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\nConnection: close\r\n\r\n{\"ok\":true}"

    @Test("sends Host, Connection: close and Content-Length, and returns status, headers and body")
    func requestAndResponse() async throws {
        // The peer lingers before closing so that this test is about the request and response, not the race below.
        let peer = try ClosingHTTPPeer(response: Self.ok, connections: 1, closeDelay: 0.3)
        defer { peer.stop() }
        let response = try await httpSend(
            method: "POST", host: "127.0.0.1", port: peer.port, path: "/token?x=1",
            headers: [("Content-Type", "application/x-www-form-urlencoded")], body: []
        )
        #expect(response.status == 200)
        #expect(response.header("content-type") == "application/json")
        #expect(response.header("CONTENT-LENGTH") == "11")
        #expect(String(decoding: response.body, as: UTF8.self) == #"{"ok":true}"#)
        let head = try #require(peer.requestHeads.first)
        #expect(head.hasPrefix("POST /token?x=1 HTTP/1.1\r\n"))
        #expect(head.lowercased().contains("host: 127.0.0.1:\(peer.port)\r\n"))
        #expect(head.lowercased().contains("connection: close\r\n"))
        #expect(head.lowercased().contains("content-length: 0\r\n"), "an empty POST still says how long its body is")
    }

    @Test("a refused connection is an error, not a hang")
    func refusedConnection() async throws {
        let peer = try ClosingHTTPPeer(response: Self.ok, connections: 0)
        let port = peer.port
        peer.stop()
        await #expect(throws: (any Error).self) {
            _ = try await httpSend(method: "GET", host: "127.0.0.1", port: port, path: "/")
        }
    }

    /// A server that answers as soon as the request head is complete and closes (`Connection: close` was
    /// asked for) is behaving correctly; the client must return that answer. `send` writes the head and
    /// the (empty) end of the request as separate writes, so when the answer and the close win the race,
    /// the second write fails with "I/O on closed channel" and the response is lost.
    @Test("a response followed at once by close is returned, not lost to the request's final write")
    func responseThenClose() async throws {
        // Several clients at once widen the window between the two writes, as a loaded host does.
        let workers = 8
        let perWorker = 300
        let peer = try ClosingHTTPPeer(response: Self.ok, connections: workers * perWorker)
        defer { peer.stop() }
        let failures = await withTaskGroup(of: [String].self) { group in
            for _ in 0..<workers {
                group.addTask {
                    var failures: [String] = []
                    for _ in 0..<perWorker {
                        do {
                            let response = try await httpSend(method: "GET", host: "127.0.0.1", port: peer.port, path: "/health")
                            if response.status != 200 { failures.append("status \(response.status)") }
                        } catch {
                            failures.append("\(error)")
                        }
                    }
                    return failures
                }
            }
            return await group.reduce(into: [String]()) { $0 += $1 }
        }
        #expect(failures.isEmpty, "\(failures.count) of \(workers * perWorker) GETs lost the response: \(Set(failures))")
    }

    /// RFC 9110 allows a server to reject a request before reading its body (413 is the usual case) and
    /// close; the client should still surface the 413.
    @Test("an early answer to a POST (before the body is read) is returned")
    func earlyAnswerToPost() async throws {
        let attempts = 50
        let tooLarge = "HTTP/1.1 413 Payload Too Large\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        let peer = try ClosingHTTPPeer(response: tooLarge, connections: attempts)
        defer { peer.stop() }
        var failures: [String] = []
        for _ in 0..<attempts {
            do {
                let response = try await httpSend(
                    method: "POST", host: "127.0.0.1", port: peer.port, path: "/token",
                    headers: [("Content-Type", "application/x-www-form-urlencoded")], body: [UInt8](repeating: 0x61, count: 256 * 1024)
                )
                if response.status != 413 { failures.append("status \(response.status)") }
            } catch {
                failures.append("\(error)")
            }
        }
        #expect(failures.isEmpty, "\(failures.count) of \(attempts) POSTs lost the 413: \(Set(failures))")
    }
}

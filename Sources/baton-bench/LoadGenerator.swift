import NIOCore
import NIOPosix

/// An HTTP/1.1 load generator over keep-alive connections, all on one event loop.
/// - open loop (`rate` set): request k is due at start + k/rate whatever the server does; a due request
///   waits for a free connection in a backlog, and its latency counts from when it was due, so a slow
///   server cannot hide its queueing (no coordinated omission);
/// - closed loop (`rate` nil): every connection sends its next request as soon as the previous answer
///   arrives, for peak throughput.
/// Each request body is used once, in order; when they run out they wrap, and the replays the server
/// then refuses show up as errors.
final class LoadGenerator: @unchecked Sendable {
    // All mutable state is confined to `loop`.
    struct Options {
        var host = "127.0.0.1"
        var port: Int
        var requests: [ByteBuffer]
        var rate: Double?
        var seconds: Double
        var connections: Int
    }

    struct Result {
        var completed = 0
        var statusErrors = 0
        var ioErrors = 0
        var latenciesMicros: [Double] = []
        var elapsed = 0.0
        var maxBacklog = 0
        var firstError: String?

        var errors: Int { statusErrors + ioErrors }
        var rate: Double { elapsed > 0 ? Double(completed) / elapsed : 0 }
    }

    let options: Options
    let loop: any EventLoop
    private var channels: [(any Channel)?] = []
    private var idle: [Int] = []
    private var inFlight: [UInt64?] = []
    private var backlog: [UInt64] = []
    private var backlogHead = 0
    private var nextBody = 0
    private var issued = 0
    private var total = 0
    private var startTime: UInt64 = 0
    private var end: UInt64 = 0
    private var issuing = true
    private var result = Result()
    private var done: EventLoopPromise<Result>?

    init(options: Options, loop: any EventLoop) {
        self.options = options
        self.loop = loop
    }

    static func run(_ options: Options) async throws -> Result {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let generator = LoadGenerator(options: options, loop: group.next())
        do {
            let result = try await generator.start().get()
            try? await group.shutdownGracefully()
            return result
        } catch {
            try? await group.shutdownGracefully()
            throw error
        }
    }

    private static func now() -> UInt64 { NIODeadline.now().uptimeNanoseconds }

    private func start() -> EventLoopFuture<Result> {
        let promise = loop.makePromise(of: Result.self)
        done = promise
        let bootstrap = ClientBootstrap(group: loop)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .connectTimeout(.seconds(5))
        var connects: [EventLoopFuture<any Channel>] = []
        for index in 0..<options.connections {
            connects.append(bootstrap.channelInitializer { [self] channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ResponseReader(index: index, generator: self))
                }
            }.connect(host: options.host, port: options.port))
        }
        EventLoopFuture.whenAllSucceed(connects, on: loop).whenComplete { [self] outcome in
            switch outcome {
            case .failure(let error):
                promise.fail(BenchError("cannot connect to \(options.host):\(options.port): \(error)"))
            case .success(let connected):
                channels = connected.map { $0 }
                inFlight = Array(repeating: nil, count: connected.count)
                begin()
            }
        }
        return promise.futureResult
    }

    private func begin() {
        startTime = Self.now()
        end = startTime + UInt64(options.seconds * 1e9)
        result.latenciesMicros.reserveCapacity(Int((options.rate ?? 20_000) * options.seconds * 1.2))
        if let rate = options.rate {
            total = Int(rate * options.seconds)
            idle = Array((0..<channels.count).reversed())
            tick()
        } else {
            for index in 0..<channels.count { send(on: index, due: Self.now()) }
            loop.scheduleTask(deadline: .uptimeNanoseconds(end)) { [self] in
                issuing = false
                finishIfDone()
            }
        }
        // Whatever happens, give up ten seconds after the run should have ended.
        loop.scheduleTask(deadline: .uptimeNanoseconds(end + 10_000_000_000)) { [self] in
            guard let done else { return }
            let pending = inFlight.compactMap { $0 }.count + (backlog.count - backlogHead)
            result.ioErrors += pending
            if result.firstError == nil { result.firstError = "\(pending) requests unanswered 10 s after the run" }
            self.done = nil
            closeAll()
            result.elapsed = Double(Self.now() - startTime) / 1e9
            done.succeed(result)
        }
    }

    private func dueTime(_ k: Int) -> UInt64 { startTime + UInt64(Double(k) / options.rate! * 1e9) }

    private func tick() {
        let now = Self.now()
        while issued < total, dueTime(issued) <= now {
            dispatch(due: dueTime(issued))
            issued += 1
        }
        if issued < total {
            loop.scheduleTask(deadline: .uptimeNanoseconds(dueTime(issued))) { [self] in tick() }
        } else {
            issuing = false
            finishIfDone()
        }
    }

    private func dispatch(due: UInt64) {
        if let index = idle.popLast() {
            send(on: index, due: due)
        } else {
            backlog.append(due)
            result.maxBacklog = max(result.maxBacklog, backlog.count - backlogHead)
        }
    }

    private func send(on index: Int, due: UInt64) {
        guard let channel = channels[index] else { return }
        inFlight[index] = due
        let request = options.requests[nextBody % options.requests.count]
        nextBody += 1
        channel.writeAndFlush(request, promise: nil)
    }

    fileprivate func completed(index: Int, status: Int, summary: String) {
        let now = Self.now()
        guard let due = inFlight[index] else { return }
        inFlight[index] = nil
        result.completed += 1
        result.latenciesMicros.append(Double(now - due) / 1000)
        if status != 200 {
            result.statusErrors += 1
            if result.firstError == nil { result.firstError = "HTTP \(status): \(summary)" }
        }
        if options.rate == nil {
            if issuing, now < end { send(on: index, due: now) }
        } else if backlogHead < backlog.count {
            let next = backlog[backlogHead]
            backlogHead += 1
            if backlogHead > 4096 { backlog.removeFirst(backlogHead); backlogHead = 0 }
            send(on: index, due: next)
        } else {
            idle.append(index)
        }
        finishIfDone()
    }

    fileprivate func failed(index: Int, reason: String) {
        guard index < channels.count, channels[index] != nil else { return }
        channels[index] = nil
        if inFlight[index] != nil {
            inFlight[index] = nil
            result.ioErrors += 1
        }
        if done != nil, result.firstError == nil { result.firstError = "connection \(index): \(reason)" }
        // Requests waiting for a connection can no longer be served if none is left.
        if !channels.contains(where: { $0 != nil }) {
            result.ioErrors += backlog.count - backlogHead + (total - issued)
            issued = total
            backlogHead = backlog.count
            issuing = false
        }
        finishIfDone()
    }

    private func finishIfDone() {
        guard let done, !issuing, backlogHead == backlog.count, !inFlight.contains(where: { $0 != nil }) else { return }
        self.done = nil
        result.elapsed = Double(Self.now() - startTime) / 1e9
        closeAll()
        done.succeed(result)
    }

    private func closeAll() {
        for index in 0..<channels.count {
            let channel = channels[index]
            channels[index] = nil
            channel?.close(promise: nil)
        }
    }

    /// A raw HTTP/1.1 request, rendered once.
    static func render(method: String, path: String, host: String, port: Int, headers: [(name: String, value: String)], body: String) -> ByteBuffer {
        var text = "\(method) \(path) HTTP/1.1\r\nHost: \(host):\(port)\r\n"
        for (name, value) in headers { text += "\(name): \(value)\r\n" }
        if method != "GET" || !body.isEmpty { text += "Content-Length: \(body.utf8.count)\r\n" }
        text += "\r\n" + body
        return ByteBuffer(string: text)
    }
}

/// Reads responses with a Content-Length body (what the server sends) and reports each one.
private final class ResponseReader: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    let index: Int
    let generator: LoadGenerator
    private var buffer = ByteBuffer()

    init(index: Int, generator: LoadGenerator) {
        self.index = index
        self.generator = generator
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var incoming = unwrapInboundIn(data)
        buffer.writeBuffer(&incoming)
        while let (status, summary) = parseOne() { generator.completed(index: index, status: status, summary: summary) }
        if buffer.readerIndex > 65536 { buffer.discardReadBytes() }
    }

    func channelInactive(context: ChannelHandlerContext) {
        generator.failed(index: index, reason: "closed by the server")
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        generator.failed(index: index, reason: "\(error)")
        context.close(promise: nil)
    }

    /// One complete response: status and, for errors, the start of the body.
    private func parseOne() -> (Int, String)? {
        let view = buffer.readableBytesView
        guard view.count >= 16 else { return nil }
        var headerEnd: Int?
        var position = view.startIndex
        while position + 3 < view.endIndex {
            if view[position] == 13, view[position + 1] == 10, view[position + 2] == 13, view[position + 3] == 10 { headerEnd = position; break }
            position += 1
        }
        guard let headerEnd else { return nil }
        let head = Array(view[view.startIndex..<headerEnd])
        var status = 0
        for byte in head[9..<min(12, head.count)] { status = status * 10 + Int(byte &- 48) }
        var length = 0
        for line in head.split(separator: 10) {
            let lower = line.map { $0 >= 65 && $0 <= 90 ? $0 + 32 : $0 }
            if lower.starts(with: Array("content-length:".utf8)) {
                length = Int(String(decoding: lower.dropFirst(15).filter { $0 != 32 && $0 != 13 }, as: UTF8.self)) ?? 0
            }
        }
        let total = headerEnd - view.startIndex + 4 + length
        guard view.count >= total else { return nil }
        let summary = status == 200 ? "" : String(decoding: view[(headerEnd + 4)..<(view.startIndex + total)].prefix(200), as: UTF8.self)
        buffer.moveReaderIndex(forwardBy: total)
        return (status, summary)
    }
}

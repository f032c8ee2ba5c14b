#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Handlers
import JOSE
import NIOCore
import Runtime

/// Section 3: `baton serve` pinned to one core, load from this process on the other core.
/// Peak: wrk (closed loop, distinct pre-minted bodies via a Lua script), else this tool's closed loop.
/// Latency: this tool's open-loop generator at 50% of the peak. Peak RSS: the server's VmHWM.
struct HTTPBench {
    var baton: String
    var bench: String
    var fixture: Fixture
    var seconds: Double
    var quick: Bool
    var serverCPU: Int
    var connections: Int
    var scratch: String
    /// Handler-only rates by scenario id, to size the batches of distinct bodies.
    var handlerRates: [String: Double]
    var useWrk: Bool

    func run() async throws -> JSON {
        var servers: [JSON] = []
        var rows: [JSON] = []
        let scenarios = Scenario.httpScenarios(quick: quick)
        for algorithm in [JWSAlgorithm.es256, .rs256] {
            let group = scenarios.filter { $0.tokenAlgorithm == algorithm }
            guard !group.isEmpty else { continue }
            let (server, groupRows) = try await runServer(algorithm, scenarios: group)
            servers.append(server)
            rows.append(contentsOf: groupRows)
        }
        return .obj([("load_generator", .str(useWrk ? "wrk (peak) + baton-bench open loop (latency)" : "baton-bench (peak and latency)")),
                     ("servers", .array(servers)), ("scenarios", .array(rows))])
    }

    private func runServer(_ algorithm: JWSAlgorithm, scenarios: [Scenario]) async throws -> (JSON, [JSON]) {
        let port = try Self.freePort()
        let log = "\(scratch)/serve-\(algorithm.rawValue).log"
        let server = try Subprocess.spawn(
            ["taskset", "-c", String(serverCPU), baton, "serve", "--config", fixture.configPath(algorithm), "--host", "127.0.0.1",
             "--port", String(port), "--bench-echo"],
            // One event loop, as NIO would choose from the CPU quota of a one-vCPU container (taskset
            // pins the process but NIO sizes its loops from the CPU count).
            environment: ["NIO_SINGLETON_GROUP_LOOP_COUNT": "1"], stderr: log
        )
        defer { server.terminate(); _ = server.wait() }
        try await waitForHealth(port: port, log: log)
        let startRSS = Subprocess.memoryKiB(pid: server.pid, field: "VmRSS") ?? 0
        // RSS counts the executable's file pages as the kernel happens to map them (large page-cache
        // folios map whole); anonymous memory is what the process itself allocated.
        let startAnon = Subprocess.memoryKiB(pid: server.pid, field: "RssAnon") ?? 0
        // Warm up: connections, allocator, lazy tables.
        let warm = Scenario(kind: .clientCredentials, tokenAlgorithm: algorithm)
        _ = try await LoadGenerator.run(.init(port: port, requests: try await requests(warm, count: 1, port: port), rate: nil, seconds: quick ? 0.3 : 1, connections: connections))

        let domain = try fixture.domain(algorithm)
        var rows: [JSON] = []
        for scenario in scenarios {
            rows.append(try await measure(scenario, domain: domain, port: port, pid: server.pid))
        }
        let peakRSS = Subprocess.memoryKiB(pid: server.pid, field: "VmHWM") ?? 0
        let endAnon = Subprocess.memoryKiB(pid: server.pid, field: "RssAnon") ?? 0
        Log.note("serve \(algorithm.rawValue): peak RSS \(peakRSS / 1024) MiB, anonymous \(startAnon / 1024) -> \(endAnon / 1024) MiB")
        return (.obj([
            ("signing_alg", .str(algorithm.rawValue)), ("idle_rss_kib", .num(startRSS)), ("peak_rss_kib", .num(peakRSS)),
            ("idle_anon_kib", .num(startAnon)), ("anon_after_kib", .num(endAnon)),
            ("pinned_cpu", .num(serverCPU)),
        ]), rows)
    }

    /// Rounds of the peak measurement, in whole seconds (wrk's `-d`): rounds of two seconds or more when
    /// `seconds` holds at least two of them, else one round of `seconds`. Together they last no longer
    /// than `seconds`, so no more `jti`s reach the server's store than one long round would spend. As in
    /// sections 1 and 2 the best round counts: another tenant can only slow one down.
    var peakRounds: (count: Int, seconds: Int) {
        let count = max(1, Int((seconds / 2).rounded(.down)))
        return (count, count == 1 ? max(1, Int(seconds.rounded(.up))) : Int((seconds / Double(count)).rounded(.down)))
    }

    private func measure(_ scenario: Scenario, domain: Domain, port: Int, pid: pid_t) async throws -> JSON {
        // Peak, closed loop, in rounds. Enough distinct bodies for each round at the expected rate,
        // with margin; every round has its own. Over HTTP a grant cannot beat the same handler in
        // process: its in-process rate (plus margin) bounds it.
        let expected = handlerRates[scenario.id].map { $0 * 1.15 } ?? (scenario.operations.isEmpty ? 60_000 : 20_000)
        let rounds = peakRounds
        let perRound = scenario.spendsJTI ? Int(expected * Double(rounds.seconds)) + 2 * connections + 500 : 64
        let allPeakBodies = try await bodies(scenario, domain: domain, count: scenario.spendsJTI ? perRound * rounds.count : perRound)
        var best: (requests: Int, seconds: Double, cpu: Double)?
        var peakErrors = 0
        var peakFirstError: String?
        var peakBodyCount = 0
        for round in 0..<rounds.count {
            let first = min(round * perRound, allPeakBodies.count)
            let peakBodies = scenario.spendsJTI ? Array(allPeakBodies[first..<min(first + perRound, allPeakBodies.count)]) : allPeakBodies
            peakBodyCount += scenario.spendsJTI ? peakBodies.count : 0
            let cpuBefore = Subprocess.cpuSeconds(pid: pid) ?? 0
            let peak: (requests: Int, seconds: Double, errors: Int, firstError: String?)
            if useWrk {
                peak = try runWrk(scenario, bodies: peakBodies, port: port, seconds: rounds.seconds)
            } else {
                let result = try await LoadGenerator.run(.init(
                    port: port, requests: render(scenario, peakBodies, port: port), rate: nil, seconds: Double(rounds.seconds), connections: connections
                ))
                peak = (result.completed, result.elapsed, result.errors, result.firstError)
            }
            let cpu = max(0.001, (Subprocess.cpuSeconds(pid: pid) ?? 0) - cpuBefore)
            peakErrors += peak.errors
            peakFirstError = peakFirstError ?? peak.firstError
            if scenario.spendsJTI, peak.requests > peakBodies.count {
                // The bodies wrapped: the replays were refused and counted as errors; say why.
                Log.note("http \(scenario.name): \(peak.requests) requests but only \(peakBodies.count) distinct bodies (raise the estimate)")
            }
            if best.map({ Double(peak.requests) / cpu > Double($0.requests) / $0.cpu }) ?? true {
                best = (peak.requests, peak.seconds, cpu)
            }
        }
        let peak = best!
        let cpu = peak.cpu
        let wallRate = Double(peak.requests) / peak.seconds
        let perCore = Double(peak.requests) / cpu

        // Latency at half the peak, open loop, fresh bodies.
        let rate = max(10, wallRate * 0.5)
        let fixedCount = scenario.spendsJTI ? Int(rate * seconds) + 200 : 64
        let fixedBodies = try await bodies(scenario, domain: domain, count: fixedCount)
        let fixed = try await LoadGenerator.run(.init(port: port, requests: render(scenario, fixedBodies, port: port), rate: rate, seconds: seconds, connections: connections))
        let latencies = fixed.latenciesMicros.sorted()
        let errors = peakErrors + fixed.errors
        if let first = peakFirstError ?? fixed.firstError { Log.note("http \(scenario.name): first error: \(first)") }
        let rssAfter = Subprocess.memoryKiB(pid: pid, field: "VmRSS") ?? 0
        let hwmAfter = Subprocess.memoryKiB(pid: pid, field: "VmHWM") ?? 0
        let p50 = percentile(latencies, 0.5) / 1000
        let p99 = percentile(latencies, 0.99) / 1000
        let peakText = "peak \(formatDouble(wallRate, digits: 0))/s (\(formatDouble(perCore, digits: 0)) per server CPU-second)"
        let latencyText = "at \(formatDouble(rate, digits: 0))/s p50 \(formatDouble(p50, digits: 3)) ms p99 \(formatDouble(p99, digits: 3)) ms"
        Log.note("http \(scenario.name): \(peakText); \(latencyText); \(errors) errors")
        return .obj([
            ("id", .str(scenario.id)), ("name", .str(scenario.name)), ("kind", .str(scenario.kind.rawValue)),
            ("token_alg", .str(scenario.tokenAlgorithm.rawValue)), ("assertion_alg", scenario.assertionAlgorithm.map { .str($0.rawValue) }),
            ("operations", .array(scenario.operations.map { .str($0.label) })),
            ("peak_rounds", .num(rounds.count)), ("peak_round_seconds", .num(rounds.seconds)),
            ("peak_requests", .num(peak.requests)), ("peak_seconds", .num(round3(peak.seconds))), ("server_cpu_seconds", .num(round3(cpu))),
            ("peak_rate", .num(round1(wallRate))), ("rate_per_core", .num(round1(perCore))),
            ("fixed_rate", .num(round1(rate))), ("fixed_completed", .num(fixed.completed)), ("fixed_achieved_rate", .num(round1(fixed.rate))),
            ("p50_ms", .num(round3(percentile(latencies, 0.5) / 1000))), ("p99_ms", .num(round3(percentile(latencies, 0.99) / 1000))),
            ("p999_ms", .num(round3(percentile(latencies, 0.999) / 1000))), ("max_ms", .num(round3((latencies.last ?? 0) / 1000))),
            ("max_backlog", .num(fixed.maxBacklog)), ("errors", .num(errors)),
            ("rss_after_kib", .num(rssAfter)), ("peak_rss_so_far_kib", .num(hwmAfter)),
            ("distinct_bodies", .num(scenario.spendsJTI ? peakBodyCount + fixedBodies.count : 0)),
        ])
    }

    /// Distinct bodies are minted by a child process on every core (the server is idle meanwhile).
    private func bodies(_ scenario: Scenario, domain: Domain, count: Int) async throws -> [String] {
        guard scenario.spendsJTI else {
            return try await scenario.bodies(fixture, domain: domain, count: count, run: "x", now: Clock.unixSeconds())
        }
        let file = "\(scratch)/bodies-\(scenario.id).txt"
        let started = Clock.wall()
        let child = try Subprocess.spawn(
            ["taskset", "-c", "0-\(Affinity.onlineCPUs - 1)", bench, "mint", "--dir", fixture.directory, "--scenario", scenario.id,
             "--count", String(count), "--out", file],
            stderr: "\(scratch)/mint.err"
        )
        let exit = child.wait()
        guard exit.code == 0 else { throw BenchError("minting bodies for \(scenario.name) failed: \((try? Files.readText("\(scratch)/mint.err")) ?? "")") }
        let lines = try Files.readText(file).split(separator: "\n").map(String.init)
        Log.note("minted \(lines.count) distinct bodies for \(scenario.name) in \(formatDouble(Clock.wall() - started, digits: 1)) s")
        return lines
    }

    private func requests(_ scenario: Scenario, count: Int, port: Int) async throws -> [ByteBuffer] {
        let domain = try fixture.domain(scenario.tokenAlgorithm)
        return render(scenario, try await scenario.bodies(fixture, domain: domain, count: count, run: "w", now: Clock.unixSeconds()), port: port)
    }

    private func render(_ scenario: Scenario, _ bodies: [String], port: Int) -> [ByteBuffer] {
        bodies.map { LoadGenerator.render(method: scenario.method, path: scenario.path, host: "127.0.0.1", port: port, headers: scenario.headers, body: $0) }
    }

    private func runWrk(_ scenario: Scenario, bodies: [String], port: Int, seconds: Int) throws -> (requests: Int, seconds: Double, errors: Int, firstError: String?) {
        let bodyFile = "\(scratch)/wrk-bodies.txt"
        try Files.write(bodyFile, bodies.joined(separator: "\n") + "\n")
        let script = "\(scratch)/bodies.lua"
        try Files.write(script, Self.wrkScript)
        let out = "\(scratch)/wrk-result.json"
        _ = unlink(out)
        let authorization = scenario.usesBasicAuth ? Fixture.basicAuthorization : ""
        let child = try Subprocess.spawn(
            ["wrk", "-t1", "-c\(connections)", "-d\(seconds)s", "--latency", "-s", script,
             "http://127.0.0.1:\(port)", "--", scenario.method, scenario.path, bodyFile, authorization],
            environment: ["BATON_WRK_OUT": out], stdout: "\(scratch)/wrk.out", stderr: "\(scratch)/wrk.err"
        )
        let exit = child.wait()
        guard exit.code == 0, let result = try? JSONParser.parse(try Files.read(out)) else {
            throw BenchError("wrk failed for \(scenario.name): \((try? Files.readText("\(scratch)/wrk.err")) ?? "")")
        }
        let number = { (name: String) in Int(result[name]?.double ?? 0) }
        let errors = number("connect") + number("read") + number("write") + number("status") + number("timeout")
        return (number("requests"), Double(number("duration_us")) / 1e6, errors,
                errors > 0 ? "wrk: \(result.rendered().replacingOccurrences("\n", " "))" : nil)
    }

    /// Cycles through distinct bodies, one per request; wrapping around replays them, which the server
    /// refuses and wrk counts as status errors.
    static let wrkScript = """
    -- Generated by baton-bench: args are METHOD PATH BODIES-FILE [AUTHORIZATION].
    local bodies = {}
    local index = 0
    local method, path
    local headers = {}

    function init(args)
      method, path = args[1], args[2]
      if method ~= "GET" then headers["Content-Type"] = "application/x-www-form-urlencoded" end
      if args[4] and args[4] ~= "" then headers["Authorization"] = args[4] end
      for line in io.lines(args[3]) do bodies[#bodies + 1] = line end
    end

    function request()
      index = index + 1
      if index > #bodies then index = 1 end
      if method == "GET" then return wrk.format(method, path, headers) end
      return wrk.format(method, path, headers, bodies[index])
    end

    function done(summary, latency, requests)
      local e = summary.errors
      local out = io.open(os.getenv("BATON_WRK_OUT"), "w")
      out:write(string.format('{"requests":%d,"duration_us":%d,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,"p50_us":%d,"p99_us":%d}\\n',
        summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
        latency:percentile(50), latency:percentile(99)))
      out:close()
    end

    """

    private func waitForHealth(port: Int, log: String) async throws {
        let deadline = Clock.wall() + 30
        while Clock.wall() < deadline {
            if let response = try? await LoopbackHTTPClient.send(method: "GET", host: "127.0.0.1", port: port, path: "/health"), response.status == 200 {
                return
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw BenchError("baton serve did not become healthy: \((try? Files.readText(log)) ?? "")")
    }

    /// A free loopback port (bound, read, closed).
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw BenchError("socket() failed") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard bound == 0 else { throw BenchError("bind() failed") }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

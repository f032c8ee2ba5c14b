import Handlers
import JOSE
import Runtime

/// Section 2: the route table in process, one request at a time, with the live environment (real
/// clock, random jti, memory replay store) exactly as `baton serve` builds it per request.
enum HandlerBench {
    /// `only`: scenario ids to run (`--scenarios`, e.g. to profile one grant); nil runs them all.
    static func run(fixture: Fixture, seconds: Double, quick: Bool, only: Set<String>? = nil) async throws -> JSON {
        if let only {
            let known = Scenario.handlerScenarios().map(\.id)
            let unknown = only.subtracting(known).sorted()
            guard unknown.isEmpty else {
                throw BenchError("--scenarios: no handler scenario \(unknown.joined(separator: ", ")); known: \(known.joined(separator: ", "))")
            }
        }
        var rows: [JSON] = []
        var domains: [JWSAlgorithm: Domain] = [:]
        for scenario in Scenario.handlerScenarios() {
            if quick, scenario.tokenAlgorithm != .es256 || scenario.assertionAlgorithm == .rs256 { continue }
            if let only, !only.contains(scenario.id) { continue }
            let domain = try domains[scenario.tokenAlgorithm] ?? fixture.domain(scenario.tokenAlgorithm)
            domains[scenario.tokenAlgorithm] = domain
            let row = try await measure(scenario, fixture: fixture, domain: domain, seconds: seconds, quick: quick)
            Log.note("handler \(scenario.name): \(formatDouble(row["rate"]?.double ?? 0, digits: 0))/s, \(Int(row["errors"]?.double ?? 0)) errors")
            rows.append(row)
        }
        return .array(rows)
    }

    static func measure(_ scenario: Scenario, fixture: Fixture, domain: Domain, seconds: Double, quick: Bool) async throws -> JSON {
        let routes = RouteTable(domain: domain)
        // Distinct assertions: one pass over them per replay store, then a fresh store, so replay
        // protection stays on without minting one assertion per measured request.
        let distinct = scenario.spendsJTI ? (quick ? 100 : 600) : 1
        let run = "h\(Clock.unixSeconds())-\(scenario.id)"
        let bodies = try await scenario.bodies(fixture, domain: domain, count: distinct, run: run, now: Clock.unixSeconds(), parallel: true)
            .map { Array($0.utf8) }
        let headers = scenario.headers
        var live = LiveEnvironment(replayStore: MemoryReplayStore())
        var errors = 0
        var firstError: String?
        var index = 0

        func once() async {
            if index == bodies.count {
                index = 0
                if scenario.spendsJTI { live = LiveEnvironment(replayStore: MemoryReplayStore()) }
            }
            let request = EndpointRequest(method: scenario.method, path: scenario.path, headers: headers, body: bodies[index])
            index += 1
            let response = await routes.respond(to: request, in: live.make())
            if response.status != 200 {
                errors += 1
                if firstError == nil { firstError = "\(response.status) " + String(decoding: response.body, as: UTF8.self) }
            }
        }

        // Warm up (caches, lazy tables), then measure CPU time of the whole process, best of the rounds
        // (see `measurementRounds`).
        for _ in 0..<min(50, bodies.count * 4) { await once() }
        let wallStart = Clock.wall()
        // The process CPU clock costs ~0.7 µs a read (a system call): a batch of 20 grants of 15 µs or more
        // hides it, but JWKS and discovery answer in ~0.1 µs, where it took a quarter of the time.
        let batch = scenario.operations.isEmpty ? 2_000 : 20
        let (bestRate, count, cpu) = await measureRate(seconds: seconds, minimum: 0, batch: batch) { await once() }
        let wall = Clock.wall() - wallStart
        if let firstError { Log.note("handler \(scenario.name): first error: \(firstError)") }
        return .obj([
            ("id", .str(scenario.id)), ("name", .str(scenario.name)), ("kind", .str(scenario.kind.rawValue)),
            ("token_alg", .str(scenario.tokenAlgorithm.rawValue)),
            ("assertion_alg", scenario.assertionAlgorithm.map { .str($0.rawValue) }),
            ("operations", .array(scenario.operations.map { .str($0.label) })),
            ("requests", .num(count)), ("cpu_seconds", .num(round3(cpu))), ("wall_seconds", .num(round3(wall))),
            ("rate", .num(round1(bestRate))), ("mean_rate", .num(round1(Double(count) / cpu))), ("errors", .num(errors)),
        ])
    }
}

func round1(_ value: Double) -> Double { (value * 10).rounded() / 10 }
func round3(_ value: Double) -> Double { (value * 1000).rounded() / 1000 }

func formatDouble(_ value: Double, digits: Int) -> String {
    guard value.isFinite else { return "-" }
    if digits == 0 { return String(Int64(value.rounded())) }
    var scale = 1.0
    for _ in 0..<digits { scale *= 10 }
    let scaled = Int64((abs(value) * scale).rounded())
    let whole = scaled / Int64(scale)
    var fraction = String(scaled % Int64(scale))
    while fraction.count < digits { fraction = "0" + fraction }
    return (value < 0 && scaled != 0 ? "-" : "") + "\(whole).\(fraction)"
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Handlers
import JOSE
import Runtime

/// `baton-bench`: the benchmark suite behind `bench/run` (see README, Performance).
///
///     baton-bench run --baton PATH --floor PATH --out FILE [--quick] [--work DIR] [--sections LIST]
///                     [--seconds S] [--server-cpu N] [--connections N] [--cold-runs N] [--no-wrk]
///     baton-bench report FILE                 re-print the table of a results file
///     baton-bench mint --dir D --scenario ID --count N --out FILE   distinct request bodies, one per line
///     baton-bench profile --dir D --scenario ID --count N [--bodies FILE]  run one handler scenario (for callgrind/perf)
struct Arguments {
    var command: String
    var options: [String: String] = [:]
    var flags: Set<String> = []
    var positional: [String] = []

    init(_ raw: [String]) throws {
        guard let first = raw.first else { throw BenchError("usage: baton-bench run|report|mint|profile ...") }
        command = first
        var index = 1
        while index < raw.count {
            let item = raw[index]
            if item.hasPrefix("--") {
                let name = String(item.dropFirst(2))
                if ["quick", "no-wrk"].contains(name) {
                    flags.insert(name)
                } else {
                    guard index + 1 < raw.count else { throw BenchError("\(item) needs a value") }
                    options[name] = raw[index + 1]
                    index += 1
                }
            } else {
                positional.append(item)
            }
            index += 1
        }
    }

    func required(_ name: String) throws -> String {
        guard let value = options[name] else { throw BenchError("--\(name) is required") }
        return value
    }
}

enum Main {
    static func main() async {
        do {
            let arguments = try Arguments(Array(CommandLine.arguments.dropFirst()))
            switch arguments.command {
            case "run": exit(try await run(arguments))
            case "report":
                guard let path = arguments.positional.first else { throw BenchError("usage: baton-bench report FILE") }
                let results = try JSONParser.parse(try Files.read(path), maxDepth: 16)
                let (evaluated, targets) = Report.evaluate(results)
                print(Report.table(evaluated, targets: targets), terminator: "")
            case "mint": try await mint(arguments)
            case "profile": try await profile(arguments)
            default: throw BenchError("unknown command \(arguments.command)")
            }
        } catch {
            Log.note("error: \(error)")
            exit(1)
        }
    }

    static func run(_ arguments: Arguments) async throws -> Int32 {
        let quick = arguments.flags.contains("quick")
        let out = try arguments.required("out")
        let work = arguments.options["work"] ?? "bench-results/work"
        let all = ["crypto", "handler", "http", "cold", "stores"]
        let sections = Set(arguments.options["sections"].map { $0.split(separator: ",").map(String.init) } ?? all)
        let seconds = Double(arguments.options["seconds"] ?? "") ?? (quick ? 1 : 5)
        let environment = ProcessEnvironment.variables()
        Files.makeDirectory(work)
        let fixture = try Fixture.create(in: work + "/fixture")
        var members: [(String, JSON?)] = [("meta", meta(quick: quick, arguments: arguments))]

        // A section that fails is recorded and fails the run, but the others still run and print.
        var failures: [String] = []
        func section(_ name: String, _ body: () async throws -> JSON) async {
            guard sections.contains(name) else { return }
            do {
                members.append((name, try await body()))
            } catch {
                Log.note("section \(name) failed: \(error)")
                failures.append("\(name): \(error)")
            }
        }
        await section("crypto") { try await CryptoBench.run(seconds: quick ? 0.1 : 1, fixture: fixture, scratch: work) }
        var handlerRates: [String: Double] = [:]
        await section("handler") {
            let only = arguments.options["scenarios"].map { Set($0.split(separator: ",").map(String.init)) }
            let handler = try await HandlerBench.run(fixture: fixture, seconds: quick ? 0.2 : 2, quick: quick, only: only)
            for row in handler.array { if let id = row["id"]?.stringValue, let rate = row["rate"]?.double { handlerRates[id] = rate } }
            return handler
        }
        // Sections 3 and 4 measure resident memory: start the binaries as a deployment would, from disk.
        if sections.contains("http") || sections.contains("cold") {
            for path in [arguments.options["baton"], arguments.options["floor"]].compactMap({ $0 }) { Files.dropFromPageCache(path) }
        }
        await section("http") {
            let http = HTTPBench(
                baton: try arguments.required("baton"), bench: CommandLine.arguments[0], fixture: fixture, seconds: seconds, quick: quick,
                serverCPU: Int(arguments.options["server-cpu"] ?? "") ?? (Affinity.onlineCPUs - 1), connections: Int(arguments.options["connections"] ?? "") ?? 32,
                scratch: work, handlerRates: handlerRates, useWrk: !arguments.flags.contains("no-wrk")
            )
            return try await http.run()
        }
        await section("cold") {
            let runs = Int(arguments.options["cold-runs"] ?? "") ?? (quick ? 3 : 25)
            return try await ColdBench.run(baton: try arguments.required("baton"), floor: try arguments.required("floor"), fixture: fixture, runs: runs, scratch: work)
        }
        await section("stores") { try await StoreBench.run(seconds: quick ? 0.2 : 2, scratch: work, environment: environment) }
        if !failures.isEmpty { members.append(("failures", .array(failures.map { .str($0) }))) }

        let (results, targets) = Report.evaluate(.obj(members))
        print(Report.table(results, targets: targets), terminator: "")
        let directory = out.contains("/") ? String(out[..<out.lastIndex(of: "/")!]) : "."
        Files.makeDirectory(directory)
        try Files.write(out, results.rendered())
        Log.note("results written to \(out)")
        let errors = Report.totalErrors(results)
        if errors > 0 || !failures.isEmpty {
            Log.note("FAILED: \(errors) requests failed\(failures.isEmpty ? "" : "; sections failed: " + failures.joined(separator: "; "))")
            return 1
        }
        return 0
    }

    static func meta(quick: Bool, arguments: Arguments) -> JSON {
        let cpuinfo = (try? Files.readText("/proc/cpuinfo")) ?? ""
        let model = cpuinfo.split(separator: "\n").first { $0.hasPrefix("model name") }
            .map { String($0.split(separator: ":", maxSplits: 1).last ?? "").trimmingSpaces() } ?? "unknown CPU"
        let load = ((try? Files.readText("/proc/loadavg")) ?? "").split(separator: " ").prefix(3).joined(separator: " ")
        return .obj([
            ("mode", .str(quick ? "quick" : "full")), ("date", .str(utcDate(Clock.unixSeconds()))), ("cpu", .str(model)),
            ("cpus", .num(Affinity.onlineCPUs)), ("load_average", .str(load)),
            ("build", .str(arguments.options["build"] ?? "unknown")),
        ])
    }

    static func utcDate(_ seconds: Int64) -> String {
        let days = seconds / 86400
        let rest = seconds % 86400
        // Civil from days (Howard Hinnant).
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yoe + era * 400 + (month <= 2 ? 1 : 0)
        func two(_ value: Int64) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(year)-\(two(month))-\(two(day)) \(two(rest / 3600)):\(two(rest % 3600 / 60)) UTC"
    }

    static func scenario(_ id: String) throws -> Scenario {
        let all = Scenario.handlerScenarios() + Scenario.httpScenarios(quick: false)
        guard let scenario = all.first(where: { $0.id == id }) else {
            throw BenchError("unknown scenario \(id); known: \(Set(all.map(\.id)).sorted().joined(separator: ", "))")
        }
        return scenario
    }

    static func mint(_ arguments: Arguments) async throws {
        let fixture = try Fixture.load(from: try arguments.required("dir"))
        let scenario = try scenario(try arguments.required("scenario"))
        let count = Int(try arguments.required("count")) ?? 0
        let domain = try fixture.domain(scenario.tokenAlgorithm)
        let run = "m\(Clock.unixSeconds())-\(getpid())"
        let bodies = try await scenario.bodies(fixture, domain: domain, count: count, run: run, now: Clock.unixSeconds(), parallel: true)
        try Files.write(try arguments.required("out"), bodies.joined(separator: "\n") + "\n")
    }

    /// Runs one handler scenario `count` times with nothing else in the process: for callgrind and perf.
    static func profile(_ arguments: Arguments) async throws {
        let directory = try arguments.required("dir")
        let fixture = Files.exists(directory + "/keys/idp.DEV-ONLY.jwks.json") ? try Fixture.load(from: directory) : try Fixture.create(in: directory)
        let scenario = try scenario(try arguments.required("scenario"))
        let count = Int(arguments.options["count"] ?? "") ?? 1000
        let domain = try fixture.domain(scenario.tokenAlgorithm)
        // Bodies minted beforehand (`mint --out FILE`) keep the signing of assertions out of the profile.
        let bodies: [[UInt8]]
        if let file = arguments.options["bodies"] {
            bodies = try Files.read(file).split(separator: UInt8(ascii: "\n")).map(Array.init)
        } else {
            bodies = try await scenario.bodies(fixture, domain: domain, count: scenario.spendsJTI ? count : 1, run: "p\(Clock.unixSeconds())", now: Clock.unixSeconds())
                .map { Array($0.utf8) }
        }
        let routes = RouteTable(domain: domain)
        var live = LiveEnvironment(replayStore: MemoryReplayStore())
        let headers = scenario.headers
        var errors = 0
        let start = Clock.processCPU()
        for index in 0..<count {
            // Past the last body, start again with an empty replay store, as section 2 does: a short
            // file of bodies profiles a long run without the file's parsing in the profile.
            if index > 0, index % bodies.count == 0, scenario.spendsJTI { live = LiveEnvironment(replayStore: MemoryReplayStore()) }
            let response = await routes.respond(
                to: EndpointRequest(method: scenario.method, path: scenario.path, headers: headers, body: bodies[index % bodies.count]), in: live.make()
            )
            if response.status != 200 { errors += 1 }
        }
        let cpu = Clock.processCPU() - start
        Log.note("\(scenario.name): \(count) requests, \(formatDouble(Double(count) / cpu, digits: 0))/s, \(errors) errors")
    }
}

extension String {
    func trimmingSpaces() -> String {
        var text = self[...]
        while text.first == " " || text.first == "\t" { text = text.dropFirst() }
        while text.last == " " || text.last == "\t" { text = text.dropLast() }
        return String(text)
    }
}

await Main.main()

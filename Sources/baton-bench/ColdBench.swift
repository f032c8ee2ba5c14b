#if canImport(Glibc)
import Glibc
#endif
import JOSE
import ReplayStores

/// Section 4: `baton invoke` of a token event, process start to response, beside a trivial Swift
/// executable. Wall time from spawn to exit (the response is the last thing written); peak RSS from
/// GNU time (see `measure`).
enum ColdBench {
    static func run(baton: String, floor: String, fixture: Fixture, runs: Int, scratch: String) async throws -> JSON {
        Files.makeDirectory(scratch + "/events")
        let domain = try fixture.domain(.es256)
        // client_credentials: the store is never opened.
        let cc = scratch + "/events/client-credentials.json"
        try Files.write(cc, event(body: Fixture.form([("grant_type", "client_credentials"), ("scope", "orders.read")]), basic: true))
        // jwt-bearer with a distinct assertion per run, on the store `baton invoke` uses when none is
        // configured: the SQLite file in the temporary directory (here the scratch directory), synced at
        // checkpoints. Then the same on a configured SQLite file, synced at every claim: reported, with
        // no target, because its `fsync` is the disk's time rather than Baton's.
        let jb = Scenario(kind: .jwtBearer, tokenAlgorithm: .es256, assertionAlgorithm: .es256)
        let jbBodies = try await jb.bodies(fixture, domain: domain, count: 2 * runs + 2, run: "cold\(Clock.unixSeconds())", now: Clock.unixSeconds())
        var jbEvents: [String] = []
        for (index, body) in jbBodies.enumerated() {
            let path = "\(scratch)/events/jwt-bearer-\(index).json"
            try Files.write(path, event(body: body, basic: true))
            jbEvents.append(path)
        }
        // The children inherit this environment: a store named there would replace the default one.
        if let named = getenv("BATON_REPLAY_STORE") {
            throw BenchError("BATON_REPLAY_STORE is set (\(String(cString: named))); section 4 measures the store baton invoke picks by default: unset it")
        }
        let defaultStore = ReplayStoreFactory.defaultSQLitePath(issuer: Fixture.issuer, environment: ["TMPDIR": scratch])
        let configuredStore = "\(scratch)/replay-cold.db"
        for file in [defaultStore, configuredStore] {
            for suffix in ["", "-wal", "-shm"] { _ = Files.exists(file + suffix) ? remove(file + suffix) : 0 }
        }

        var nextDefaultEvent = 0
        var nextConfiguredEvent = 0
        let commands = [
            ColdCommand(name: "bench-floor (trivial Swift executable)", id: "floor", environment: [:]) { [floor] },
            ColdCommand(name: "baton invoke client_credentials ES256", id: "invoke-client-credentials", environment: [:]) {
                [baton, "invoke", "--config", fixture.configPath(.es256), cc]
            },
            ColdCommand(name: "baton invoke jwt-bearer ES256 -> ES256 (default SQLite store)", id: "invoke-jwt-bearer-default-sqlite", environment: ["TMPDIR": scratch]) {
                nextDefaultEvent += 1
                return [baton, "invoke", "--config", fixture.defaultStoreConfigPath, jbEvents[nextDefaultEvent - 1]]
            },
            ColdCommand(
                name: "baton invoke jwt-bearer ES256 -> ES256 (configured SQLite file, fsync per claim; no target)",
                id: "invoke-jwt-bearer-configured-sqlite", environment: ["BATON_REPLAY_STORE": "sqlite:" + configuredStore], hasTarget: false
            ) {
                nextConfiguredEvent += 1
                return [baton, "invoke", "--config", fixture.configPath(.es256), jbEvents[nextConfiguredEvent - 1]]
            },
        ]
        return .array(try measure(commands, runs: runs, scratch: scratch))
    }

    static func event(body: String, basic: Bool) -> [UInt8] {
        var writer = JSONWriter(capacity: 2048)
        writer.beginObject()
        writer.member("version", "2.0")
        writer.member("routeKey", "$default")
        writer.member("rawPath", "/token")
        writer.member("rawQueryString", "")
        writer.key("headers")
        writer.beginObject()
        writer.member("content-type", "application/x-www-form-urlencoded")
        if basic { writer.member("authorization", Fixture.basicAuthorization) }
        writer.endObject()
        writer.key("requestContext")
        writer.beginObject()
        writer.key("http")
        writer.beginObject()
        writer.member("method", "POST")
        writer.member("path", "/token")
        writer.endObject()
        writer.endObject()
        writer.key("isBase64Encoded")
        writer.bool(false)
        writer.member("body", body)
        writer.endObject()
        return writer.bytes
    }

    /// One command of the section; `arguments` is called once per run (the jwt-bearer event changes).
    struct ColdCommand {
        var name: String
        var id: String
        var environment: [String: String]
        /// False for a row that is reported but held to no target.
        var hasTarget = true
        var arguments: () -> [String]
    }

    /// One warm-up round (page cache), then `runs` measured rounds; the output must be a 200 response.
    /// Each round runs every command once, in an order that rotates from round to round: the host's
    /// speed drifts over seconds (other tenants), and measuring the floor's runs first and Baton's
    /// afterwards turned that drift into the ratio; and a process started right after another runs
    /// faster. Wall time: spawned directly, spawn to exit. Peak RSS: a second series under
    /// `/usr/bin/time`, because posix_spawn shares this (large) process's memory until exec and wait4's
    /// ru_maxrss would report this process's size instead of the child's.
    static func measure(_ commands: [ColdCommand], runs: Int, scratch: String) throws -> [JSON] {
        var walls = Array(repeating: [Double](), count: commands.count)
        var rss = Array(repeating: [Double](), count: commands.count)
        var errors = Array(repeating: 0, count: commands.count)
        var firstErrors = Array(repeating: String?.none, count: commands.count)
        let out = scratch + "/cold.out"
        let timeOutput = scratch + "/cold.time"
        let haveTime = Files.exists("/usr/bin/time")
        for pass in 0..<2 {
            let measuringRSS = pass == 1
            if measuringRSS, !haveTime { break }
            for round in -1..<runs {
                for offset in 0..<commands.count {
                    let index = (offset + max(round, 0)) % commands.count
                    let command = commands[index]
                    var arguments = command.arguments()
                    if measuringRSS { arguments = ["/usr/bin/time", "-f", "%M", "-o", timeOutput] + arguments }
                    let started = Clock.wall()
                    let child = try Subprocess.spawn(arguments, environment: command.environment, stdout: out, stderr: scratch + "/cold.err")
                    let exit = child.wait()
                    let wall = Clock.wall() - started
                    let output = (try? JSONParser.parse(try Files.read(out))) ?? .null
                    let ok = exit.code == 0 && (command.id == "floor" || output["statusCode"]?.double == 200)
                    if !ok {
                        errors[index] += 1
                        if firstErrors[index] == nil {
                            firstErrors[index] = "exit \(exit.code): \((try? Files.readText(out)) ?? "") \((try? Files.readText(scratch + "/cold.err")) ?? "")"
                        }
                    }
                    guard round >= 0 else { continue }
                    if measuringRSS {
                        if let kib = Double(((try? Files.readText(timeOutput)) ?? "").trimmingSpaces().split(separator: "\n").last ?? "") {
                            rss[index].append(kib)
                        }
                    } else {
                        walls[index].append(wall * 1000)
                    }
                }
            }
        }
        return commands.indices.map { index in
            let command = commands[index]
            if let firstError = firstErrors[index] { Log.note("cold \(command.name): \(firstError)") }
            let sortedWalls = walls[index].sorted()
            Log.note("cold \(command.name): median \(formatDouble(median(walls[index]), digits: 2)) ms, peak RSS \(formatDouble((rss[index].max() ?? 0) / 1024, digits: 1)) MiB")
            return .obj([
                ("id", .str(command.id)), ("name", .str(command.name)), ("target", .bool(command.hasTarget)), ("runs", .num(runs)),
                ("median_ms", .num(round3(median(walls[index])))), ("p90_ms", .num(round3(percentile(sortedWalls, 0.9)))),
                ("min_ms", .num(round3(sortedWalls.first ?? 0))),
                ("median_rss_kib", rss[index].isEmpty ? nil : .num(median(rss[index]))),
                ("max_rss_kib", rss[index].isEmpty ? nil : .num(rss[index].max() ?? 0)),
                ("errors", .num(errors[index])),
            ])
        }
    }
}

#if canImport(Glibc)
import Glibc
#endif
import JOSE

/// Section 4: `baton invoke` of a token event, process start to response, beside a trivial Swift
/// executable. Wall time from spawn to exit (the response is the last thing written); peak RSS from wait4.
enum ColdBench {
    static func run(baton: String, floor: String, fixture: Fixture, runs: Int, scratch: String) async throws -> JSON {
        Files.makeDirectory(scratch + "/events")
        let domain = try fixture.domain(.es256)
        // client_credentials: the store is never opened.
        let cc = scratch + "/events/client-credentials.json"
        try Files.write(cc, event(body: Fixture.form([("grant_type", "client_credentials"), ("scope", "orders.read")]), basic: true))
        // jwt-bearer with a distinct assertion per run and the SQLite store invocations share by default.
        let jb = Scenario(kind: .jwtBearer, tokenAlgorithm: .es256, assertionAlgorithm: .es256)
        let jbBodies = try await jb.bodies(fixture, domain: domain, count: 2 * runs + 2, run: "cold\(Clock.unixSeconds())", now: Clock.unixSeconds())
        var jbEvents: [String] = []
        for (index, body) in jbBodies.enumerated() {
            let path = "\(scratch)/events/jwt-bearer-\(index).json"
            try Files.write(path, event(body: body, basic: true))
            jbEvents.append(path)
        }
        let sqlite = "\(scratch)/replay-cold.db"
        for suffix in ["", "-wal", "-shm"] { _ = Files.exists(sqlite + suffix) ? remove(sqlite + suffix) : 0 }

        let floorRow = try measure(name: "bench-floor (trivial Swift executable)", id: "floor", runs: runs, scratch: scratch, environment: [:]) { _ in [floor] }
        let ccRow = try measure(name: "baton invoke client_credentials ES256", id: "invoke-client-credentials", runs: runs, scratch: scratch, environment: [:]) { _ in
            [baton, "invoke", "--config", fixture.configPath(.es256), cc]
        }
        var nextEvent = 0
        let jbRow = try measure(name: "baton invoke jwt-bearer ES256 -> ES256 (SQLite store)", id: "invoke-jwt-bearer", runs: runs, scratch: scratch,
                                environment: ["BATON_REPLAY_STORE": "sqlite:" + sqlite]) { _ in
            nextEvent += 1
            return [baton, "invoke", "--config", fixture.configPath(.es256), jbEvents[nextEvent - 1]]
        }
        return .array([floorRow, ccRow, jbRow])
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

    /// One warm-up run (page cache), then `runs` measured ones; the output must be a 200 response.
    /// Wall time: spawned directly, spawn to exit. Peak RSS: a second series under `/usr/bin/time`,
    /// because posix_spawn shares this (large) process's memory until exec and wait4's ru_maxrss would
    /// report this process's size instead of the child's.
    static func measure(name: String, id: String, runs: Int, scratch: String, environment: [String: String], command: (Int) -> [String]) throws -> JSON {
        var walls: [Double] = []
        var rss: [Double] = []
        var errors = 0
        var firstError: String?
        let out = scratch + "/cold.out"
        let timeOutput = scratch + "/cold.time"
        let haveTime = Files.exists("/usr/bin/time")
        for pass in 0..<2 {
            let measuringRSS = pass == 1
            if measuringRSS, !haveTime { break }
            for index in -1..<runs {
                var arguments = command(index)
                if measuringRSS { arguments = ["/usr/bin/time", "-f", "%M", "-o", timeOutput] + arguments }
                let started = Clock.wall()
                let child = try Subprocess.spawn(arguments, environment: environment, stdout: out, stderr: scratch + "/cold.err")
                let exit = child.wait()
                let wall = Clock.wall() - started
                let output = (try? JSONParser.parse(try Files.read(out))) ?? .null
                let ok = exit.code == 0 && (id == "floor" || output["statusCode"]?.double == 200)
                if !ok {
                    errors += 1
                    if firstError == nil { firstError = "exit \(exit.code): \((try? Files.readText(out)) ?? "") \((try? Files.readText(scratch + "/cold.err")) ?? "")" }
                }
                guard index >= 0 else { continue }
                if measuringRSS {
                    if let kib = Double(((try? Files.readText(timeOutput)) ?? "").trimmingSpaces().split(separator: "\n").last ?? "") { rss.append(kib) }
                } else {
                    walls.append(wall * 1000)
                }
            }
        }
        if let firstError { Log.note("cold \(name): \(firstError)") }
        let sortedWalls = walls.sorted()
        Log.note("cold \(name): median \(formatDouble(median(walls), digits: 2)) ms, peak RSS \(formatDouble((rss.max() ?? 0) / 1024, digits: 1)) MiB")
        return .obj([
            ("id", .str(id)), ("name", .str(name)), ("runs", .num(runs)),
            ("median_ms", .num(round3(median(walls)))), ("p90_ms", .num(round3(percentile(sortedWalls, 0.9)))),
            ("min_ms", .num(round3(sortedWalls.first ?? 0))),
            ("median_rss_kib", rss.isEmpty ? nil : .num(median(rss))), ("max_rss_kib", rss.isEmpty ? nil : .num(rss.max() ?? 0)),
            ("errors", .num(errors)),
        ])
    }
}

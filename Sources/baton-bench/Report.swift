import JOSE

/// Ceilings, ratios, targets and the printed table, computed from the measured sections.
enum Report {
    /// Rate of one operation from one library's figures.
    static func rate(_ crypto: JSON, _ library: String, _ op: String) -> Double? {
        let parts = op.split(separator: " ")
        guard parts.count == 2 else { return nil }
        return crypto[library]?[String(parts[1])]?[String(parts[0])]?.double
    }

    /// 1 / sum(1 / rate) over the operations; `pick` chooses the rate for each.
    static func ceiling(_ operations: [String], _ pick: (String) -> Double?) -> Double? {
        guard !operations.isEmpty else { return nil }
        var seconds = 0.0
        for op in operations {
            guard let rate = pick(op), rate > 0 else { return nil }
            seconds += 1 / rate
        }
        return 1 / seconds
    }

    struct Ceilings {
        var swift: Double?
        var openssl: Double?
        var baton: Double?
        /// The machine's limit: the faster library for every operation.
        var best: Double?
    }

    static func ceilings(_ operations: [String], crypto: JSON) -> Ceilings {
        Ceilings(
            swift: ceiling(operations) { rate(crypto, "swift_crypto", $0) },
            openssl: ceiling(operations) { rate(crypto, "openssl", $0) },
            baton: ceiling(operations) { rate(crypto, "baton", $0) },
            best: ceiling(operations) { op in
                let values = [rate(crypto, "swift_crypto", op), rate(crypto, "openssl", op), rate(crypto, "baton", op)].compactMap { $0 }
                return values.max()
            }
        )
    }

    struct Target {
        var name: String
        var goal: String
        var measured: String
        var met: Bool
    }

    /// Replaces or adds one member: `report` evaluates files that already hold these fields.
    static func set(_ fields: inout [JSONObject.Member], _ name: String, _ value: JSON) {
        if let index = fields.firstIndex(where: { $0.name == name }) { fields[index].value = value } else { fields.append(.init(name: name, value: value)) }
    }

    /// Adds ceilings and ratios to the sections and evaluates the targets.
    static func evaluate(_ results: JSON) -> (JSON, [Target]) {
        var targets: [Target] = []
        // Signs that other tenants disturbed the run beyond what best-of-rounds absorbs.
        var disturbances: [String] = []
        let crypto = results["crypto"] ?? .null
        var members = results.objectValue?.members ?? []
        // Baton's own path and swift-crypto called directly run the same library code for every algorithm
        // Baton signs with swift-crypto; two rates of one operation that differ by more than a tenth mean
        // one of them was slowed.
        for algorithm in Fixture.algorithms.map(\.rawValue) where crypto["backends"]?[algorithm]?.stringValue == "swift-crypto" {
            for operation in ["sign", "verify"] {
                guard let direct = crypto["swift_crypto"]?[algorithm]?[operation]?.double,
                      let baton = crypto["baton"]?[algorithm]?[operation]?.double, direct > 0, baton > 0 else { continue }
                if abs(baton / direct - 1) > 0.1 {
                    disturbances.append("\(algorithm) \(operation): swift-crypto measured \(formatDouble(direct, digits: 0))/s directly and \(formatDouble(baton, digits: 0))/s through Baton")
                }
            }
        }

        if let handler = results["handler"]?.arrayValue {
            var rows: [JSON] = []
            for row in handler {
                var fields = row.objectValue?.members ?? []
                let operations = row["operations"]?.array.compactMap(\.stringValue) ?? []
                let ceilings = ceilings(operations, crypto: crypto)
                let measured = row["rate"]?.double ?? 0
                if let best = ceilings.best {
                    set(&fields, "ceiling", .num(round1(best)))
                    set(&fields, "ceiling_swift_crypto", ceilings.swift.map { .num(round1($0)) } ?? .null)
                    set(&fields, "ceiling_openssl", ceilings.openssl.map { .num(round1($0)) } ?? .null)
                    set(&fields, "ceiling_baton_crypto", ceilings.baton.map { .num(round1($0)) } ?? .null)
                    let ratio = measured / best
                    set(&fields, "ratio", .num(floor3(ratio)))
                    // A grant does all of its ceiling's signature work and more, so it cannot be faster
                    // than the ceiling unless the ceiling was measured while the machine was busy.
                    if ratio > 1 {
                        disturbances.append("\(row["name"]?.stringValue ?? "") ran at \(formatDouble(ratio * 100, digits: 1))% of its crypto ceiling, which only a ceiling measured low allows")
                    }
                    targets.append(Target(name: "handler \(row["name"]?.stringValue ?? "")", goal: ">= 85% of ceiling",
                                          measured: percent(ratio), met: ratio >= 0.85))
                }
                rows.append(.object(JSONObject(members: fields)))
            }
            set(&members, "handler", .array(rows))
        }

        if let http = results["http"], let scenarios = http["scenarios"]?.arrayValue {
            let echo = scenarios.first { $0["kind"]?.stringValue == "echo" }?["rate_per_core"]?.double
            var rows: [JSON] = []
            for row in scenarios {
                var fields = row.objectValue?.members ?? []
                let operations = row["operations"]?.array.compactMap(\.stringValue) ?? []
                let name = row["name"]?.stringValue ?? ""
                let measured = row["rate_per_core"]?.double ?? 0
                if let crypto = ceilings(operations, crypto: crypto).best, let echo {
                    let combined = 1 / (1 / crypto + 1 / echo)
                    let ratio = measured / combined
                    set(&fields, "ceiling_crypto", .num(round1(crypto)))
                    set(&fields, "ceiling_combined", .num(round1(combined)))
                    set(&fields, "ratio", .num(floor3(ratio)))
                    // Share of a grant's cost that is HTTP: the echo's cost per request over the grant's.
                    set(&fields, "http_share", .num(round3(measured / echo)))
                    targets.append(Target(name: "HTTP \(name)", goal: ">= 75% of 1/(1/crypto+1/echo)", measured: percent(ratio), met: ratio >= 0.75))
                }
                if row["kind"]?.stringValue != "echo" {
                    let p99 = row["p99_ms"]?.double ?? 0
                    targets.append(Target(name: "HTTP \(name) p99 at 50% of peak", goal: "<= 5 ms", measured: formatDouble(p99, digits: 2) + " ms", met: p99 <= 5))
                }
                rows.append(.object(JSONObject(members: fields)))
            }
            var httpMembers = http.objectValue?.members ?? []
            if let index = httpMembers.firstIndex(where: { $0.name == "scenarios" }) { httpMembers[index].value = .array(rows) }
            set(&members, "http", .object(JSONObject(members: httpMembers)))
            for server in http["servers"]?.array ?? [] {
                let peak = (server["peak_rss_kib"]?.double ?? 0) / 1024
                targets.append(Target(name: "baton serve (\(server["signing_alg"]?.stringValue ?? "")) peak RSS under load", goal: "<= 40 MiB",
                                      measured: formatDouble(peak, digits: 1) + " MiB", met: peak <= 40))
            }
        }

        if let cold = results["cold"]?.arrayValue, let floor = cold.first(where: { $0["id"]?.stringValue == "floor" }) {
            let floorMedian = floor["median_ms"]?.double ?? 0
            for row in cold where row["id"]?.stringValue != "floor" && row["target"]?.boolValue != false {
                let ratio = (row["median_ms"]?.double ?? 0) / max(floorMedian, 0.001)
                let rss = (row["max_rss_kib"]?.double ?? 0) / 1024
                let name = row["name"]?.stringValue ?? ""
                targets.append(Target(name: "cold \(name) wall", goal: "<= 3x floor", measured: formatDouble(ratio, digits: 2) + "x", met: ratio <= 3))
                targets.append(Target(name: "cold \(name) peak RSS", goal: "<= 20 MiB", measured: formatDouble(rss, digits: 1) + " MiB", met: rss <= 20))
            }
        }

        let errors = totalErrors(results)
        targets.append(Target(name: "request errors (all sections)", goal: "0", measured: String(errors), met: errors == 0))
        set(&members, "disturbances", .array(disturbances.map { .str($0) }))
        set(&members, "targets", .array(targets.map { .obj([("name", .str($0.name)), ("goal", .str($0.goal)), ("measured", .str($0.measured)), ("met", .bool($0.met))]) }))
        return (.object(JSONObject(members: members)), targets)
    }

    static func totalErrors(_ results: JSON) -> Int {
        var errors = 0
        for row in results["handler"]?.array ?? [] { errors += Int(row["errors"]?.double ?? 0) }
        for row in results["http"]?["scenarios"]?.array ?? [] { errors += Int(row["errors"]?.double ?? 0) }
        for row in results["cold"]?.array ?? [] { errors += Int(row["errors"]?.double ?? 0) }
        return errors
    }

    /// Ratios are stored to three places, rounded down like the printed percentages.
    static func floor3(_ value: Double) -> Double { ((value * 1000) + 1e-9).rounded(.down) / 1000 }

    /// Whole percent, rounded down: a ratio shows as 85% only when it meets an 85% target.
    static func percent(_ ratio: Double) -> String { formatDouble((ratio * 100 + 1e-9).rounded(.down), digits: 0) + "%" }

    // MARK: Table

    static func table(_ results: JSON, targets: [Target]) -> String {
        var out: [String] = []
        let meta = results["meta"] ?? .null
        out.append("Baton benchmark (\(meta["mode"]?.stringValue ?? "")) \(meta["date"]?.stringValue ?? "") on \(meta["cpu"]?.stringValue ?? "") (\(meta["cpus"]?.double.map { String(Int($0)) } ?? "?") CPUs), load average at start \(meta["load_average"]?.stringValue ?? "?")")
        out.append("Rates are per core (per CPU-second of the measured process); ceilings use the faster library per operation.")
        out.append("Sections 1 and 2: each rate is the best of \(measurementRounds) rounds (`openssl speed` too), ceilings and grants alike (other tenants only slow a round).")

        if let crypto = results["crypto"] {
            out.append("")
            out.append("1. Crypto ceiling (signatures per second per core)")
            var rows = [["alg", "swift-crypto sign", "verify", "OpenSSL sign", "verify", "Baton sign", "verify", "Baton signs with"]]
            for algorithm in Fixture.algorithms.map(\.rawValue) {
                let cell = { (library: String, op: String) in crypto[library]?[algorithm]?[op]?.double.map { formatDouble($0, digits: 0) } ?? "-" }
                rows.append([algorithm, cell("swift_crypto", "sign"), cell("swift_crypto", "verify"), cell("openssl", "sign"), cell("openssl", "verify"),
                             cell("baton", "sign"), cell("baton", "verify"), crypto["backends"]?[algorithm]?.stringValue ?? "-"])
            }
            out.append(contentsOf: grid(rows))
            if let version = crypto["openssl_version"]?.stringValue { out.append("   (\(version); PS256 uses the RSA-2048 figures of `openssl speed`)") }
            if let sign = crypto["input_bytes"]?["sign"]?.double, let verify = crypto["input_bytes"]?["verify"]?.double {
                out.append("   (swift-crypto and Baton sign \(Int(sign))-byte inputs and verify \(Int(verify))-byte ones, the signing inputs of this run's access token and assertion)")
            }
        }

        if let handler = results["handler"]?.arrayValue {
            out.append("")
            out.append("2. Handler only, in process, one thread")
            var rows = [["scenario", "crypto per grant", "ceiling/s", "grants/s", "ratio", "errors"]]
            for row in handler {
                let ops = row["operations"]?.array.compactMap(\.stringValue).joined(separator: " + ") ?? ""
                rows.append([row["name"]?.stringValue ?? "", ops.isEmpty ? "none" : ops, number(row["ceiling"]), number(row["rate"]),
                             row["ratio"]?.double.map(percent) ?? "-", number(row["errors"])])
            }
            out.append(contentsOf: grid(rows))
        }

        if let http = results["http"] {
            out.append("")
            out.append("3. Over HTTP: baton serve pinned to one core; load on the other (\(http["load_generator"]?.stringValue ?? ""))")
            var rows = [["scenario", "peak/s", "per core/s", "combined ceiling", "ratio", "HTTP share", "p50 ms", "p99 ms", "at rate/s", "RSS MiB", "errors"]]
            for row in http["scenarios"]?.array ?? [] {
                rows.append([row["name"]?.stringValue ?? "", number(row["peak_rate"]), number(row["rate_per_core"]), number(row["ceiling_combined"]),
                             row["ratio"]?.double.map(percent) ?? "-", row["http_share"]?.double.map(percent) ?? "-",
                             number(row["p50_ms"], digits: 2), number(row["p99_ms"], digits: 2), number(row["fixed_rate"]), mib(row["rss_after_kib"]),
                             number(row["errors"])])
            }
            out.append(contentsOf: grid(rows))
            out.append("   (per core: requests per CPU-second of the server; ratio: per core / 1/(1/crypto ceiling + 1/echo per core); HTTP share: echo cost / grant cost;")
            out.append("    p50/p99 from an open-loop client at half the peak; RSS: the server's resident set after the scenario, replay store included)")
            if let first = http["scenarios"]?.array.first, let rounds = first["peak_rounds"]?.double, let length = first["peak_round_seconds"]?.double, rounds > 1 {
                out.append("   (peak: the best of \(Int(rounds)) rounds of \(Int(length)) s by per-core rate, each with its own distinct bodies)")
            }
            for server in http["servers"]?.array ?? [] {
                var line = "   baton serve \(server["signing_alg"]?.stringValue ?? ""): idle RSS \(mib(server["idle_rss_kib"])) MiB, peak RSS \(mib(server["peak_rss_kib"])) MiB"
                if server["idle_anon_kib"] != nil {
                    line += "; anonymous (allocated, not file pages) \(mib(server["idle_anon_kib"])) MiB idle, \(mib(server["anon_after_kib"])) MiB after the load"
                }
                out.append(line)
            }
        }

        if let cold = results["cold"]?.arrayValue {
            out.append("")
            out.append("4. Cold invocation: process start to response")
            var rows = [["command", "runs", "median ms", "p90 ms", "peak RSS MiB", "errors"]]
            for row in cold {
                rows.append([row["name"]?.stringValue ?? "", number(row["runs"]), number(row["median_ms"], digits: 2), number(row["p90_ms"], digits: 2),
                             mib(row["max_rss_kib"]), number(row["errors"])])
            }
            out.append(contentsOf: grid(rows))
        }

        if let stores = results["stores"]?.arrayValue {
            out.append("")
            out.append("5. Replay store: one claim (first use), sequential")
            var rows = [["store", "µs per claim", "CPU µs per claim", "claims/s"]]
            for row in stores {
                rows.append([row["store"]?.stringValue ?? "", number(row["micros_per_claim"], digits: 2), number(row["cpu_micros_per_claim"], digits: 2),
                             number(row["claims_per_second"])])
            }
            out.append(contentsOf: grid(rows))
        }

        if let failures = results["failures"]?.arrayValue {
            out.append("")
            out.append("FAILED SECTIONS")
            for failure in failures { out.append("   " + (failure.stringValue ?? "")) }
        }

        if let disturbances = results["disturbances"]?.arrayValue, !disturbances.isEmpty, meta["mode"]?.stringValue != "quick" {
            out.append("")
            out.append("DISTURBED RUN: other work on this machine skewed a measurement; re-run when it is quiet before quoting it")
            for disturbance in disturbances { out.append("   " + (disturbance.stringValue ?? "")) }
        }

        out.append("")
        out.append("Targets\(meta["mode"]?.stringValue == "quick" ? " (quick mode: informational, only errors fail)" : "")")
        var rows = [["target", "goal", "measured", "met"]]
        for target in targets { rows.append([target.name, target.goal, target.measured, target.met ? "yes" : "NO"]) }
        out.append(contentsOf: grid(rows))
        return out.joined(separator: "\n") + "\n"
    }

    static func number(_ value: JSON?, digits: Int = 0) -> String {
        value?.double.map { formatDouble($0, digits: digits) } ?? "-"
    }

    static func mib(_ value: JSON?) -> String { value?.double.map { formatDouble($0 / 1024, digits: 1) } ?? "-" }

    /// Left-aligned first column, right-aligned numbers, two spaces between columns.
    static func grid(_ rows: [[String]]) -> [String] {
        let columns = rows.map(\.count).max() ?? 0
        var widths = Array(repeating: 0, count: columns)
        for row in rows { for (index, cell) in row.enumerated() { widths[index] = max(widths[index], cell.count) } }
        return rows.enumerated().flatMap { rowIndex, row -> [String] in
            var line = "   "
            for (index, cell) in row.enumerated() {
                let pad = String(repeating: " ", count: widths[index] - cell.count)
                line += index == 0 ? cell + pad : "  " + pad + cell
            }
            var lines = [line]
            if rowIndex == 0 { lines.append("   " + String(repeating: "-", count: widths.reduce(0, +) + 2 * (columns - 1))) }
            return lines
        }
    }
}

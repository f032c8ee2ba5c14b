#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// posix_spawn without Foundation: the benchmark starts servers, wrk, openssl and cold invocations.
struct Subprocess {
    let pid: pid_t

    struct Exit {
        var code: Int32
        var signalled: Bool
        /// Peak resident set of the child, KiB (Linux `ru_maxrss`).
        var maxRSSKiB: Int
        var userSeconds: Double
        var systemSeconds: Double
    }

    /// Starts `arguments[0]` (searched in PATH) with the current environment plus `environment`.
    /// stdin/stdout/stderr come from the named files; nil means /dev/null.
    static func spawn(
        _ arguments: [String], environment: [String: String] = [:],
        stdin: String? = nil, stdout: String? = nil, stderr: String? = nil
    ) throws -> Subprocess {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, stdin ?? "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, stdout ?? "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, stderr ?? "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0o644)

        var env: [String] = []
        var index = 0
        while let entry = environ[index] {
            let text = String(cString: entry)
            let name = text.split(separator: "=", maxSplits: 1).first.map(String.init) ?? text
            if environment[name] == nil { env.append(text) }
            index += 1
        }
        for (name, value) in environment { env.append("\(name)=\(value)") }

        let argv = arguments.map { strdup($0) } + [nil]
        let envp = env.map { strdup($0) } + [nil]
        defer {
            for pointer in argv { free(pointer) }
            for pointer in envp { free(pointer) }
        }
        // Spawned from a concurrency-pool thread, the child would inherit that thread's blocked signals
        // (and `openssl speed`, which times itself with SIGALRM, would never stop): reset both.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t()
        sigemptyset(&empty)
        var all = sigset_t()
        sigfillset(&all)
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        var pid: pid_t = 0
        let result = posix_spawnp(&pid, arguments[0], &actions, &attributes, argv, envp)
        guard result == 0 else { throw BenchError("cannot start \(arguments[0]): \(String(cString: strerror(result)))") }
        return Subprocess(pid: pid)
    }

    func wait() -> Exit {
        var status: Int32 = 0
        var usage = rusage()
        while wait4(pid, &status, 0, &usage) < 0 && errno == EINTR {}
        let signalled = (status & 0x7F) != 0
        return Exit(
            code: signalled ? -1 : (status >> 8) & 0xFF, signalled: signalled, maxRSSKiB: usage.ru_maxrss,
            userSeconds: Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6,
            systemSeconds: Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
        )
    }

    func terminate() { kill(pid, SIGTERM) }

    /// Runs to completion and returns stdout.
    static func run(_ arguments: [String], environment: [String: String] = [:], scratch: String) throws -> (Exit, String) {
        let out = scratch + "/spawn.out"
        let process = try spawn(arguments, environment: environment, stdout: out, stderr: scratch + "/spawn.err")
        let exit = process.wait()
        return (exit, (try? Files.readText(out)) ?? "")
    }

    /// `/proc/PID/status` fields in KiB (VmHWM = peak RSS, VmRSS = current).
    static func memoryKiB(pid: pid_t, field: String) -> Int? {
        guard let text = try? Files.readText("/proc/\(pid)/status") else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix(field + ":") {
            return Int(line.dropFirst(field.count + 1).split(whereSeparator: { $0 == " " || $0 == "\t" }).first ?? "")
        }
        return nil
    }

    /// utime + stime of a process from /proc/PID/stat, seconds.
    static func cpuSeconds(pid: pid_t) -> Double? {
        guard let text = try? Files.readText("/proc/\(pid)/stat"), let close = text.lastIndex(of: ")") else { return nil }
        let fields = text[text.index(after: close)...].split(separator: " ")
        // After the command: state(0) ppid(1) ... utime(11) stime(12).
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }
}

import Crypto
import Handlers
import Logging
import Synchronization

/// A replay store with resources to set up and release: a file handle, a connection pool.
public protocol ManagedReplayStore: ReplayStore {
    /// Connects (and creates the schema) now rather than on the first claim. Throws when the store
    /// cannot be reached; a later claim tries again.
    func prepare() async throws(ReplayStoreUnavailable)
    /// Releases connections and background tasks. Claims after `close()` throw `ReplayStoreUnavailable`.
    func close() async
}

/// The text stored in the `key` column: `ReplayKey.storageKey`, or, when that is longer than
/// `maxPlainBytes` UTF-8 bytes, `sha256:` and the hex SHA-256 of it, so that an index entry stays small
/// (PostgreSQL refuses B-tree entries over about 2.7 kB) whatever `jti` an issuer chooses.
enum StoredKey {
    static let maxPlainBytes = 512

    static func make(_ key: ReplayKey) -> String {
        let plain = key.storageKey
        guard plain.utf8.count > maxPlainBytes else { return plain }
        let digest = SHA256.hash(data: Array(plain.utf8))
        return "sha256:" + digest.map { byte in
            let hex = Array("0123456789abcdef".utf8)
            return String(decoding: [hex[Int(byte >> 4)], hex[Int(byte & 0x0F)]], as: UTF8.self)
        }.joined()
    }
}

/// When to delete expired rows, without a background job: on a claim, with probability 1/`oneIn`
/// (so one-claim processes such as `baton invoke` purge too), and at least every `interval` seconds
/// in a long-running process.
public struct PurgePolicy: Sendable {
    public var oneIn: UInt64
    public var interval: Int64
    /// Rows deleted per purge at most, so that one purge never holds locks for long.
    public var batch: Int

    public init(oneIn: UInt64 = 100, interval: Int64 = 60, batch: Int = 1000) {
        self.oneIn = max(1, oneIn)
        self.interval = interval
        self.batch = max(1, batch)
    }

    /// Every claim purges: for tests.
    public static let everyClaim = PurgePolicy(oneIn: 1, interval: 0)
}

final class PurgeSchedule: Sendable {
    private let policy: PurgePolicy
    private let nextPurge = Mutex<Int64?>(nil)

    init(_ policy: PurgePolicy) { self.policy = policy }

    func due(now: Int64) -> Bool {
        let lucky = UInt64.random(in: 0..<policy.oneIn) == 0
        return nextPurge.withLock { next in
            guard let scheduled = next else {
                next = now + policy.interval
                return lucky
            }
            if lucky || now >= scheduled {
                next = now + policy.interval
                return true
            }
            return false
        }
    }
}

/// Runs `operation` but gives up after `timeout`: the caller gets `ReplayStoreUnavailable` on time even
/// when the operation ignores cancellation (a query stuck on a dead connection). `onTimeout` runs when
/// the deadline wins, e.g. to close that connection.
func withDeadline<T: Sendable>(
    _ timeout: Duration, what: String, onTimeout: @escaping @Sendable () -> Void = {},
    _ operation: @escaping @Sendable () async throws -> T
) async throws -> T {
    let race = DeadlineRace<T>()
    return try await withTaskCancellationHandler {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            race.continuation.withLock { $0 = continuation }
            let work = Task {
                let result: Result<T, any Error>
                do { result = .success(try await operation()) } catch { result = .failure(error) }
                if race.finish(result) { race.cancelAll() }
            }
            let timer = Task {
                do { try await Task.sleep(for: timeout) } catch { return }
                if race.finish(.failure(ReplayStoreUnavailable("\(what) did not answer within \(timeout)"))) {
                    onTimeout()
                    work.cancel()
                }
            }
            race.tasks.withLock { $0 = [work, timer] }
            // The work may have finished before the timer was registered: stop the timer too.
            if race.continuation.withLock({ $0 == nil }) { timer.cancel() }
        }
    } onCancel: {
        if race.finish(.failure(ReplayStoreUnavailable("the request was cancelled"))) { race.cancelAll() }
    }
}

private final class DeadlineRace<T: Sendable>: Sendable {
    let continuation = Mutex<CheckedContinuation<T, any Error>?>(nil)
    let tasks = Mutex<[Task<Void, Never>]>([])

    func finish(_ result: Result<T, any Error>) -> Bool {
        guard let continuation = continuation.withLock({ $0.take() }) else { return false }
        continuation.resume(with: result)
        return true
    }

    func cancelAll() { for task in tasks.withLock({ $0 }) { task.cancel() } }
}

/// Reports store failures on standard error at most once per `interval` seconds, so an outage does not
/// flood the log. Reasons never contain connection secrets.
final class FailureLog: Sendable {
    private let logger: Logger
    private let last = Mutex<ContinuousClock.Instant?>(nil)
    private let lastWarning = Mutex<ContinuousClock.Instant?>(nil)
    private let interval: Duration

    init(label: String, interval: Duration = .seconds(10)) {
        var logger = Logger(label: label)
        logger.logLevel = .notice
        self.logger = logger
        self.interval = interval
    }

    func report(_ reason: String) {
        if Self.isDue(last, interval: interval) { logger.error("replay store unavailable, token requests fail with 503: \(reason)") }
    }

    /// A problem that does not stop claims (such as a failed SQLite checkpoint), at most once per interval.
    func warn(_ message: String) {
        if Self.isDue(lastWarning, interval: interval) { logger.warning("\(message)") }
    }

    /// True, and `last` set to now, when nothing was logged through `last` within `interval`.
    private static func isDue(_ last: borrowing Mutex<ContinuousClock.Instant?>, interval: Duration) -> Bool {
        let now = ContinuousClock.now
        return last.withLock { last in
            if let previous = last, previous.duration(to: now) < interval { return false }
            last = now
            return true
        }
    }

    func recovered() {
        let wasFailing = last.withLock { last in
            defer { last = nil }
            return last != nil
        }
        if wasFailing { logger.notice("replay store reachable again") }
    }
}

/// A value behind a lock that escaping closures can share.
final class Locked<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>
    init(_ value: Value) { mutex = Mutex(value) }
    var value: Value {
        get { mutex.withLock { $0 } }
        set { mutex.withLock { $0 = newValue } }
    }
}

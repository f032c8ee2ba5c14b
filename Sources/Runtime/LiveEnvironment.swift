#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import CRuntimeSupport
import Handlers
import JOSE
import Synchronization

/// The real clock and randomness, for adapters. Tests build `HandlerEnvironment` with fixed values.
public struct LiveEnvironment: Sendable {
    public let replayStore: any ReplayStore

    public init(replayStore: any ReplayStore) {
        self.replayStore = replayStore
    }

    public func make() -> HandlerEnvironment {
        HandlerEnvironment(now: Self.unixSeconds(), makeTokenID: Self.randomTokenID, replayStore: replayStore)
    }

    /// The wall clock in whole seconds, read directly: `Date()` costs a Foundation round trip per request.
    static func unixSeconds() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Int64(now.tv_sec)
    }

    /// 128 random bits, base64url: unguessable and unique without coordination between replicas.
    @Sendable public static func randomTokenID() -> String {
        randomBytes.withNext16 { Base64URL.encodeToString($0) }
    }

    private static let randomBytes = RandomBytePool()
}

/// Kernel randomness fetched 4 KiB at a time: one getrandom call per 256 token ids instead of one or
/// two per token. Baton never forks, so no two processes can hand out the same buffered bytes.
final class RandomBytePool: Sendable {
    private static let capacity = 4096
    private let state = Mutex<(bytes: [UInt8], offset: Int)>(([], capacity))

    /// Hands the next 16 unused bytes to `body`, under the lock, without copying them out first.
    func withNext16<Result>(_ body: (ArraySlice<UInt8>) -> Result) -> Result {
        state.withLock { state in
            if state.offset + 16 > Self.capacity {
                var fresh = [UInt8](repeating: 0, count: Self.capacity)
                let status = fresh.withUnsafeMutableBytes { baton_random_bytes($0.baseAddress, UInt(Self.capacity)) }
                // getrandom fails only before the kernel's pool is seeded or on a broken seccomp filter;
                // a token id must never be predictable, so there is no fallback.
                precondition(status == 0, "the kernel refused random bytes (getrandom)")
                state = (fresh, 0)
            }
            defer { state.offset += 16 }
            return body(state.bytes[state.offset..<(state.offset + 16)])
        }
    }
}

import Synchronization

/// Single-process replay store. A mutex, not an actor: a claim is a few hash operations and an actor
/// hop would cost more than the work.
///
/// Keys are kept as 128-bit digests beside their expiry: 24 bytes per entry plus the table's slack, no
/// per-entry allocation, whatever the length of issuer and jti. A digest collision could only refuse a
/// fresh token as a replay, never accept a replayed one; at 2^-128 per pair, under a key an attacker
/// never sees, it does not happen.
public final class MemoryReplayStore: ReplayStore {
    private struct State {
        var expiries: [KeyDigest: Int64] = [:]
        var nextPurge: Int64 = 0

        /// In place: a filtered copy would hold the table twice at the moment it is largest.
        mutating func purge(before now: Int64) {
            var expired: [KeyDigest] = []
            for (key, expiry) in expiries where expiry <= now { expired.append(key) }
            for key in expired { expiries.removeValue(forKey: key) }
        }
    }

    private let state = Mutex(State())
    private let maxEntries: Int

    /// Room for a burst of claims from the start, so that the first thousands of grants after start-up
    /// do not each pay a share of the table's regrowth.
    static let initialCapacity = 4096

    public init(maxEntries: Int = 1_000_000) {
        self.maxEntries = maxEntries
        state.withLock { $0.expiries.reserveCapacity(min(maxEntries, Self.initialCapacity)) }
    }

    public func claim(_ key: ReplayKey, expiresAt: Int64, now: Int64) async throws(ReplayStoreUnavailable) -> Bool {
        let digest = KeyDigest(key)
        let result: Bool? = state.withLock { state in
            // Purge at most once a second, amortised over the claims, so no background task is needed;
            // a full store is not purged on every claim either, or each refused claim would cost a scan.
            // A clock stepped backwards counts as due, or a store filled meanwhile would stay full.
            if now >= state.nextPurge || state.nextPurge > now + 1 {
                state.purge(before: now)
                state.nextPurge = now + 1
            }
            let previous = state.expiries[digest]
            if let previous, previous > now { return false }
            // Full of unexpired entries: refusing is safer than forgetting a live one. An expired entry
            // for this very key is replaced, which does not grow the table.
            if previous == nil, state.expiries.count >= maxEntries { return nil }
            state.expiries[digest] = expiresAt
            return true
        }
        guard let result else { throw ReplayStoreUnavailable("the in-memory replay store is full") }
        return result
    }

    public var count: Int { state.withLock { $0.expiries.count } }

    /// Two 64-bit SipHash values of the key's fields: one word for which hasher, the purpose and the
    /// issuer's length, then the issuer's and the jti's bytes. The length keeps issuer and jti apart as
    /// the prefix of `ReplayKey.storageKey` does, and SipHash's finalisation counts the bytes, so no
    /// two keys feed a hasher the same input. Swift's `Hasher` is keyed with a random seed per process,
    /// so nobody outside can aim one key at another's digest; the leading word tells the two hashers
    /// apart and together they give 128 bits. SHA-256 took 0.27 µs per claim where both SipHash values
    /// take 0.16 (perf, jwt-bearer grants), for no property this table needs: its keys live only as
    /// long as the process that chose the seed.
    struct KeyDigest: Hashable {
        var high: UInt64
        var low: UInt64

        init(_ key: ReplayKey) {
            var issuer = key.issuer
            var jti = key.jti
            let purpose: UInt64 = switch key.purpose {
            case .grantAssertion: 1
            case .clientAssertion: 2
            }
            let fields = purpose << 48 | UInt64(issuer.utf8.count)
            var first = Hasher()
            var second = Hasher()
            first.combine(fields)
            second.combine(1 << 56 | fields)
            issuer.withUTF8 { utf8 in
                first.combine(bytes: UnsafeRawBufferPointer(utf8))
                second.combine(bytes: UnsafeRawBufferPointer(utf8))
            }
            jti.withUTF8 { utf8 in
                first.combine(bytes: UnsafeRawBufferPointer(utf8))
                second.combine(bytes: UnsafeRawBufferPointer(utf8))
            }
            high = UInt64(UInt(bitPattern: first.finalize()))
            low = UInt64(UInt(bitPattern: second.finalize()))
        }

        /// Already uniformly spread: one word is enough for the table's own hash.
        func hash(into hasher: inout Hasher) {
            hasher.combine(low)
        }
    }
}

import Crypto
import Synchronization

/// Single-process replay store. A mutex, not an actor: a claim is a few hash operations and an actor
/// hop would cost more than the work.
///
/// Keys are kept as 128-bit digests beside their expiry: 24 bytes per entry plus the table's slack, no
/// per-entry allocation, whatever the length of issuer and jti. A digest collision could only refuse a
/// fresh token as a replay, never accept a replayed one, and at 2^-128 per pair it does not happen.
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

    public init(maxEntries: Int = 1_000_000) {
        self.maxEntries = maxEntries
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

    /// The first 128 bits of SHA-256 over the key's unambiguous storage form (`ReplayKey.storageKey`),
    /// fed piece by piece rather than built as one string.
    struct KeyDigest: Hashable {
        var high: UInt64
        var low: UInt64

        init(_ key: ReplayKey) {
            // Gathered into one scratch buffer and hashed in one call: each incremental update through
            // swift-crypto costs more than copying the few bytes of a piece.
            var length = 0
            key.forEachStoragePiece { length += $0.utf8.count }
            let digest = withUnsafeTemporaryAllocation(of: UInt8.self, capacity: length) { buffer in
                var offset = 0
                key.forEachStoragePiece { piece in
                    var piece = piece
                    piece.withUTF8 { utf8 in
                        _ = UnsafeMutableBufferPointer(rebasing: buffer[offset...]).initialize(fromContentsOf: utf8)
                        offset += utf8.count
                    }
                }
                return SHA256.hash(data: UnsafeRawBufferPointer(buffer))
            }
            (high, low) = digest.withUnsafeBytes { ($0.loadUnaligned(as: UInt64.self), $0.loadUnaligned(fromByteOffset: 8, as: UInt64.self)) }
        }
    }
}

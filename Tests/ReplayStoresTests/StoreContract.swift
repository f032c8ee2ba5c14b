import Handlers
import ReplayStores
import Testing

/// What every replay store promises, checked the same way for each implementation.
enum StoreContract {
    static func key(_ jti: String = uniqueJTI(), purpose: ReplayPurpose = .grantAssertion, issuer: String = "https://idp.example") -> ReplayKey {
        ReplayKey(purpose: purpose, issuer: issuer, jti: jti)
    }

    /// First claim true, every later claim while it lasts false.
    static func firstClaimWins(_ store: any ReplayStore) async throws {
        let key = key()
        #expect(try await store.claim(key, expiresAt: 2_000, now: 1_000))
        #expect(try await store.claim(key, expiresAt: 2_000, now: 1_000) == false)
        #expect(try await store.claim(key, expiresAt: 3_000, now: 1_999) == false)
    }

    /// Once `now` reaches the stored expiry the key can be claimed again, and the new expiry holds.
    static func expiredEntryIsReclaimable(_ store: any ReplayStore) async throws {
        let key = key()
        #expect(try await store.claim(key, expiresAt: 1_100, now: 1_000))
        #expect(try await store.claim(key, expiresAt: 1_200, now: 1_099) == false)
        #expect(try await store.claim(key, expiresAt: 1_300, now: 1_100))
        #expect(try await store.claim(key, expiresAt: 1_400, now: 1_200) == false)
        #expect(try await store.claim(key, expiresAt: 1_400, now: 1_300))
    }

    /// Distinct keys never refuse each other: other jti, other issuer, other purpose, a prefix, long keys.
    static func distinctKeysNeverRefused(_ store: any ReplayStore) async throws {
        let jti = uniqueJTI()
        let long = String(repeating: "j", count: 3_000)
        let keys = [
            key(jti), key(jti + "x"), key(String(jti.dropLast())), key(jti, issuer: "https://other.example"),
            key(jti, purpose: .clientAssertion), key(jti + long), key(jti + long + "y"),
            // The storage key is length-prefixed: these two would collide if it were not.
            ReplayKey(purpose: .grantAssertion, issuer: "a:b", jti: jti), ReplayKey(purpose: .grantAssertion, issuer: "a", jti: "b:" + jti),
        ]
        for key in keys { #expect(try await store.claim(key, expiresAt: 5_000, now: 1_000), "\(key.storageKey.prefix(80))") }
        for key in keys { #expect(try await store.claim(key, expiresAt: 5_000, now: 1_000) == false) }
        // Many fresh keys in a row: never refused.
        for index in 0..<200 {
            #expect(try await store.claim(self.key("\(jti)-\(index)"), expiresAt: 5_000, now: 1_000))
        }
    }

    /// The same key claimed concurrently by `stores` (several connections or processes' worth): one winner.
    static func concurrentClaimsHaveOneWinner(_ stores: [any ReplayStore], attempts: Int = 60) async throws {
        let key = key()
        let wins = try await withThrowingTaskGroup(of: Bool.self) { group in
            for index in 0..<attempts {
                let store = stores[index % stores.count]
                group.addTask { try await store.claim(key, expiresAt: 10_000, now: 1_000) }
            }
            var wins = 0
            for try await won in group where won { wins += 1 }
            return wins
        }
        #expect(wins == 1)
    }
}

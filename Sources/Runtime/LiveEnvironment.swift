#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Handlers
import JOSE

/// The real clock and randomness, for adapters. Tests build `HandlerEnvironment` with fixed values.
public struct LiveEnvironment: Sendable {
    public let replayStore: any ReplayStore

    public init(replayStore: any ReplayStore) {
        self.replayStore = replayStore
    }

    public func make() -> HandlerEnvironment {
        HandlerEnvironment(now: Int64(Date().timeIntervalSince1970), makeTokenID: Self.randomTokenID, replayStore: replayStore)
    }

    /// 128 random bits, base64url: unguessable and unique without coordination between replicas.
    @Sendable public static func randomTokenID() -> String {
        var generator = SystemRandomNumberGenerator()
        var bytes = [UInt8](repeating: 0, count: 16)
        let high = generator.next() as UInt64
        let low = generator.next() as UInt64
        for index in 0..<8 {
            bytes[index] = UInt8(truncatingIfNeeded: high >> (index * 8))
            bytes[8 + index] = UInt8(truncatingIfNeeded: low >> (index * 8))
        }
        return Base64URL.encodeToString(bytes)
    }
}

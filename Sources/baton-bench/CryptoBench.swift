import Crypto
import JOSE
import _CryptoExtras

/// Section 1: per-core signature rates, measured in this run on this machine.
/// - `swift_crypto`: swift-crypto called directly (BoringSSL underneath);
/// - `baton`: Baton's own `SigningKey`/`PublicKeyMaterial` path, with the backend it chose at load;
/// - `openssl`: `openssl speed` (OpenSSL 3, CPU time), for the machine's crypto limit.
enum CryptoBench {
    /// Signing inputs of a typical size (header.payload of an access token), all different: a server
    /// signs and verifies a new token each time. Verifying one signature over and over measured about 6%
    /// faster for ES256 here than verifying distinct ones (the same swift-crypto call), which would set
    /// the ceiling above what any server handling real traffic can reach.
    static let inputs: [[UInt8]] = (0..<2048).map { serial in
        (0..<320).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7 &+ serial &* 131) }
    }

    static func run(seconds: Double, scratch: String) async throws -> JSON {
        var swift: [(String, JSON?)] = []
        var baton: [(String, JSON?)] = []
        for algorithm in Fixture.algorithms {
            let (sign, verify) = try await swiftCrypto(algorithm, seconds: seconds)
            swift.append((algorithm.rawValue, .obj([("sign", .num(round1(sign))), ("verify", .num(round1(verify)))])))
            let (batonSign, batonVerify) = try await batonPath(algorithm, seconds: seconds)
            baton.append((algorithm.rawValue, .obj([("sign", .num(round1(batonSign))), ("verify", .num(round1(batonVerify)))])))
            Log.note("crypto \(algorithm.rawValue): swift-crypto sign \(formatDouble(sign, digits: 0))/s verify \(formatDouble(verify, digits: 0))/s; Baton sign \(formatDouble(batonSign, digits: 0))/s verify \(formatDouble(batonVerify, digits: 0))/s")
        }
        // Best of the same number of rounds as Baton's own rates (one round in a quick run), so that a
        // ceiling taken from OpenSSL is measured like the grants it is compared with.
        let rounds = seconds >= Double(measurementRounds) ? measurementRounds : 1
        let openssl = try openSSLSpeed(seconds: max(1, Int((seconds / Double(rounds)).rounded())), rounds: rounds, scratch: scratch)
        return .obj([
            ("swift_crypto", .obj(swift)), ("baton", .obj(baton)), ("openssl", openssl.rates), ("openssl_version", .str(openssl.version)),
            ("backends", .obj(Fixture.algorithms.map { ($0.rawValue, .str(SigningBackend.name(for: $0))) })),
        ])
    }

    static func swiftCrypto(_ algorithm: JWSAlgorithm, seconds: Double) async throws -> (Double, Double) {
        switch algorithm {
        case .rs256, .ps256:
            let key = try _RSA.Signing.PrivateKey(keySize: .bits2048)
            let publicKey = key.publicKey
            let padding: _RSA.Signing.Padding = algorithm == .rs256 ? .insecurePKCS1v1_5 : .PSS
            return try await rates(seconds: seconds, signBatch: 1, sign: { try key.signature(for: $0, padding: padding) }) {
                publicKey.isValidSignature($0, for: $1, padding: padding)
            }
        case .es256:
            let key = P256.Signing.PrivateKey()
            let publicKey = key.publicKey
            return try await rates(seconds: seconds, sign: { try key.signature(for: $0) }) { publicKey.isValidSignature($0, for: $1) }
        case .es384:
            let key = P384.Signing.PrivateKey()
            let publicKey = key.publicKey
            return try await rates(seconds: seconds, sign: { try key.signature(for: $0) }) { publicKey.isValidSignature($0, for: $1) }
        case .edDSA:
            let key = Curve25519.Signing.PrivateKey()
            let publicKey = key.publicKey
            return try await rates(seconds: seconds, sign: { try key.signature(for: $0) }) { publicKey.isValidSignature($0, for: $1) }
        }
    }

    /// Through JOSE, as the handlers call it.
    static func batonPath(_ algorithm: JWSAlgorithm, seconds: Double) async throws -> (Double, Double) {
        let key = try SigningKey(kid: "bench", algorithm: algorithm, material: try PrivateKeyMaterial.generate(for: algorithm))
        let publicKey = key.material.publicKey
        return try await rates(seconds: seconds, signBatch: algorithm.keyType == .rsa ? 1 : 10, sign: { try key.signature(for: $0) }) {
            publicKey.isValidSignature($0, for: $1, algorithm: algorithm)
        }
    }

    /// Sign and verify rates over `inputs`, one after another, each verified with its own signature.
    static func rates<Signature>(
        seconds: Double, signBatch: Int = 10, sign: ([UInt8]) throws -> Signature, verify: (Signature, [UInt8]) -> Bool
    ) async throws -> (Double, Double) {
        let signatures = try inputs.map(sign)
        var next = 0
        let signRate = try await measureRate(seconds: seconds, batch: signBatch) {
            _ = try sign(inputs[next % inputs.count])
            next += 1
        }
        let verifyRate = try await measureRate(seconds: seconds, batch: 10) {
            let index = next % inputs.count
            guard verify(signatures[index], inputs[index]) else { throw BenchError("verify failed") }
            next += 1
        }
        return (signRate.rate, verifyRate.rate)
    }

    /// `openssl speed`: RSA-2048 (RS256 and PS256 share the private-key operation), P-256, P-384, Ed25519.
    static func openSSLSpeed(seconds: Int, rounds: Int, scratch: String) throws -> (rates: JSON, version: String) {
        let (_, version) = try Subprocess.run(["openssl", "version"], scratch: scratch)
        var outputs: [String] = []
        for _ in 0..<rounds {
            let (exit, output) = try Subprocess.run(
                ["openssl", "speed", "-seconds", String(seconds), "rsa2048", "ecdsap256", "ecdsap384", "ed25519"], scratch: scratch
            )
            guard exit.code == 0 else { throw BenchError("openssl speed failed (exit \(exit.code))") }
            outputs.append(output)
        }
        var rates: [(String, JSON?)] = []
        /// Sign and verify rates of the line holding `marker`, the best of the rounds.
        func find(_ marker: String) -> (Double, Double)? {
            var best: (Double, Double)?
            for output in outputs {
                for line in output.split(separator: "\n") where line.contains(marker) {
                    let numbers = line.split(separator: " ").compactMap { Double($0) }
                    if numbers.count >= 2 {
                        let (sign, verify) = (numbers[numbers.count - 2], numbers[numbers.count - 1])
                        best = (max(best?.0 ?? 0, sign), max(best?.1 ?? 0, verify))
                        break
                    }
                }
            }
            return best
        }
        for (algorithm, marker) in [(JWSAlgorithm.rs256, "rsa 2048 bits"), (.ps256, "rsa 2048 bits"), (.es256, "(nistp256)"), (.es384, "(nistp384)"), (.edDSA, "(Ed25519)")] {
            guard let (sign, verify) = find(marker) else { throw BenchError("openssl speed: no line for \(marker)") }
            rates.append((algorithm.rawValue, .obj([("sign", .num(sign)), ("verify", .num(verify))])))
            Log.note("crypto \(algorithm.rawValue): openssl sign \(formatDouble(sign, digits: 0))/s verify \(formatDouble(verify, digits: 0))/s")
        }
        return (.obj(rates), version.split(separator: "\n").first.map(String.init) ?? "")
    }
}

/// Which library signs each algorithm on this machine, as chosen when a key is loaded.
enum SigningBackend {
    static func name(for algorithm: JWSAlgorithm) -> String {
        guard let material = try? PrivateKeyMaterial.generate(for: algorithm),
              let key = try? SigningKey(kid: "probe", algorithm: algorithm, material: material) else { return "?" }
        return key.backend
    }
}

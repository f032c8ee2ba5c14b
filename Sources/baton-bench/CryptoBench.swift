import Crypto
import JOSE
import _CryptoExtras

/// Section 1: per-core signature rates, measured in this run on this machine.
/// - `swift_crypto`: swift-crypto called directly (BoringSSL underneath);
/// - `baton`: Baton's own `SigningKey`/`PublicKeyMaterial` path, with the backend it chose at load;
/// - `openssl`: `openssl speed` (OpenSSL 3, CPU time), for the machine's crypto limit.
enum CryptoBench {
    /// A signing input of a typical size (header.payload of an access token).
    static let input: [UInt8] = Array((0..<320).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) })

    static func run(seconds: Double, scratch: String) throws -> JSON {
        var swift: [(String, JSON?)] = []
        var baton: [(String, JSON?)] = []
        for algorithm in Fixture.algorithms {
            let (sign, verify) = try swiftCrypto(algorithm, seconds: seconds)
            swift.append((algorithm.rawValue, .obj([("sign", .num(round1(sign))), ("verify", .num(round1(verify)))])))
            let (batonSign, batonVerify) = try batonPath(algorithm, seconds: seconds)
            baton.append((algorithm.rawValue, .obj([("sign", .num(round1(batonSign))), ("verify", .num(round1(batonVerify)))])))
            Log.note("crypto \(algorithm.rawValue): swift-crypto sign \(formatDouble(sign, digits: 0))/s verify \(formatDouble(verify, digits: 0))/s; Baton sign \(formatDouble(batonSign, digits: 0))/s verify \(formatDouble(batonVerify, digits: 0))/s")
        }
        let openssl = try openSSLSpeed(seconds: max(1, Int(seconds.rounded())), scratch: scratch)
        return .obj([
            ("swift_crypto", .obj(swift)), ("baton", .obj(baton)), ("openssl", openssl.rates), ("openssl_version", .str(openssl.version)),
            ("backends", .obj(Fixture.algorithms.map { ($0.rawValue, .str(SigningBackend.name(for: $0))) })),
        ])
    }

    static func swiftCrypto(_ algorithm: JWSAlgorithm, seconds: Double) throws -> (Double, Double) {
        let data = input
        switch algorithm {
        case .rs256, .ps256:
            let key = try _RSA.Signing.PrivateKey(keySize: .bits2048)
            let padding: _RSA.Signing.Padding = algorithm == .rs256 ? .insecurePKCS1v1_5 : .PSS
            let signature = try key.signature(for: data, padding: padding)
            let sign = try measureRate(seconds: seconds) { _ = try key.signature(for: data, padding: padding) }
            let publicKey = key.publicKey
            let verify = try measureRate(seconds: seconds, batch: 10) {
                guard publicKey.isValidSignature(signature, for: data, padding: padding) else { throw BenchError("RSA verify failed") }
            }
            return (sign.rate, verify.rate)
        case .es256:
            let key = P256.Signing.PrivateKey()
            let signature = try key.signature(for: data)
            let sign = try measureRate(seconds: seconds, batch: 10) { _ = try key.signature(for: data) }
            let verify = try measureRate(seconds: seconds, batch: 10) {
                guard key.publicKey.isValidSignature(signature, for: data) else { throw BenchError("P-256 verify failed") }
            }
            return (sign.rate, verify.rate)
        case .es384:
            let key = P384.Signing.PrivateKey()
            let signature = try key.signature(for: data)
            let sign = try measureRate(seconds: seconds, batch: 10) { _ = try key.signature(for: data) }
            let verify = try measureRate(seconds: seconds, batch: 10) {
                guard key.publicKey.isValidSignature(signature, for: data) else { throw BenchError("P-384 verify failed") }
            }
            return (sign.rate, verify.rate)
        case .edDSA:
            let key = Curve25519.Signing.PrivateKey()
            let signature = try key.signature(for: data)
            let sign = try measureRate(seconds: seconds, batch: 10) { _ = try key.signature(for: data) }
            let verify = try measureRate(seconds: seconds, batch: 10) {
                guard key.publicKey.isValidSignature(signature, for: data) else { throw BenchError("Ed25519 verify failed") }
            }
            return (sign.rate, verify.rate)
        }
    }

    /// Through JOSE, as the handlers call it.
    static func batonPath(_ algorithm: JWSAlgorithm, seconds: Double) throws -> (Double, Double) {
        let key = try SigningKey(kid: "bench", algorithm: algorithm, material: try PrivateKeyMaterial.generate(for: algorithm))
        let publicKey = key.material.publicKey
        let signature = try key.signature(for: input)
        let batch = algorithm.keyType == .rsa ? 1 : 10
        let sign = try measureRate(seconds: seconds, batch: batch) { _ = try key.signature(for: input) }
        let verify = try measureRate(seconds: seconds, batch: 10) {
            guard publicKey.isValidSignature(signature, for: input, algorithm: algorithm) else { throw BenchError("\(algorithm.rawValue) verify failed") }
        }
        return (sign.rate, verify.rate)
    }

    /// `openssl speed`: RSA-2048 (RS256 and PS256 share the private-key operation), P-256, P-384, Ed25519.
    static func openSSLSpeed(seconds: Int, scratch: String) throws -> (rates: JSON, version: String) {
        let (_, version) = try Subprocess.run(["openssl", "version"], scratch: scratch)
        let (exit, output) = try Subprocess.run(
            ["openssl", "speed", "-seconds", String(seconds), "rsa2048", "ecdsap256", "ecdsap384", "ed25519"], scratch: scratch
        )
        guard exit.code == 0 else { throw BenchError("openssl speed failed (exit \(exit.code))") }
        var rates: [(String, JSON?)] = []
        func find(_ marker: String) -> (Double, Double)? {
            for line in output.split(separator: "\n") where line.contains(marker) {
                let numbers = line.split(separator: " ").compactMap { Double($0) }
                if numbers.count >= 2 { return (numbers[numbers.count - 2], numbers[numbers.count - 1]) }
            }
            return nil
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

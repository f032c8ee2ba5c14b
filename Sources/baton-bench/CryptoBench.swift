import Crypto
import Handlers
import JOSE
import Runtime
import _CryptoExtras

/// Section 1: per-core signature rates, measured in this run on this machine.
/// - `swift_crypto`: swift-crypto called directly (BoringSSL underneath);
/// - `baton`: Baton's own `SigningKey`/`PublicKeyMaterial` path, with the backend it chose at load;
/// - `openssl`: `openssl speed` (OpenSSL 3, CPU time), for the machine's crypto limit.
enum CryptoBench {
    /// What the signatures of section 1 are computed over: inputs the size of the tokens this run signs
    /// (an access token's header.payload) and verifies (a jwt-bearer assertion's), all different.
    /// The length matters: EdDSA hashes its input twice with SHA-512, and a 343-byte access token signs
    /// 1.5% slower than a 320-byte stand-in did. Distinct inputs because verifying one signature over and
    /// over measured about 6% faster for ES256 than verifying distinct ones (the same swift-crypto call),
    /// which would set the ceiling above what any server handling real traffic can reach.
    struct Inputs {
        var sign: [[UInt8]]
        var verify: [[UInt8]]

        init(signLength: Int, verifyLength: Int) {
            sign = Self.make(length: signLength)
            verify = Self.make(length: verifyLength)
        }

        static func make(length: Int) -> [[UInt8]] {
            (0..<2048).map { serial in (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7 &+ serial &* 131) } }
        }
    }

    /// Signing-input lengths of a client-credentials access token issued by the fixture's ES256 domain
    /// and of a jwt-bearer assertion from its identity provider. The other algorithms' headers differ
    /// by at most a byte or two.
    static func tokenLengths(_ fixture: Fixture) async throws -> (sign: Int, verify: Int) {
        let domain = try fixture.domain(.es256)
        let cc = Scenario(kind: .clientCredentials, tokenAlgorithm: .es256)
        let body = try await cc.bodies(fixture, domain: domain, count: 1, run: "length", now: Clock.unixSeconds())[0]
        let response = await RouteTable(domain: domain).respond(
            to: EndpointRequest(method: "POST", path: "/token", headers: cc.headers, body: Array(body.utf8)),
            in: LiveEnvironment(replayStore: MemoryReplayStore()).make()
        )
        guard response.status == 200, let token = (try? JSONParser.parse(response.body))?["access_token"]?.stringValue else {
            throw BenchError("could not issue a token to size the signing inputs")
        }
        let assertion = try fixture.userAssertion(.es256, serial: 0, run: "length\(Clock.unixSeconds())", now: Clock.unixSeconds())
        return (signingInputLength(token), signingInputLength(assertion))
    }

    /// header.payload: everything before the second dot.
    static func signingInputLength(_ token: String) -> Int {
        let dots = token.utf8.indices.filter { token.utf8[$0] == UInt8(ascii: ".") }
        return dots.count >= 2 ? token.utf8.distance(from: token.utf8.startIndex, to: dots[1]) : token.utf8.count
    }

    static func run(seconds: Double, fixture: Fixture, scratch: String) async throws -> JSON {
        let lengths = try await tokenLengths(fixture)
        let inputs = Inputs(signLength: lengths.sign, verifyLength: lengths.verify)
        Log.note("crypto: signing \(lengths.sign)-byte inputs, verifying \(lengths.verify)-byte ones (this run's token and assertion)")
        var swift: [(String, JSON?)] = []
        var baton: [(String, JSON?)] = []
        for algorithm in Fixture.algorithms {
            let (sign, verify) = try await swiftCrypto(algorithm, seconds: seconds, inputs: inputs)
            swift.append((algorithm.rawValue, .obj([("sign", .num(round1(sign))), ("verify", .num(round1(verify)))])))
            let (batonSign, batonVerify) = try await batonPath(algorithm, seconds: seconds, inputs: inputs)
            baton.append((algorithm.rawValue, .obj([("sign", .num(round1(batonSign))), ("verify", .num(round1(batonVerify)))])))
            Log.note("crypto \(algorithm.rawValue): swift-crypto sign \(formatDouble(sign, digits: 0))/s verify \(formatDouble(verify, digits: 0))/s; Baton sign \(formatDouble(batonSign, digits: 0))/s verify \(formatDouble(batonVerify, digits: 0))/s")
        }
        // Best of the same number of rounds as Baton's own rates (one round in a quick run), so that a
        // ceiling taken from OpenSSL is measured like the grants it is compared with.
        let rounds = seconds >= Double(measurementRounds) ? measurementRounds : 1
        let openssl = try openSSLSpeed(seconds: max(1, Int((seconds / Double(rounds)).rounded())), rounds: rounds, scratch: scratch)
        return .obj([
            ("input_bytes", .obj([("sign", .num(Double(lengths.sign))), ("verify", .num(Double(lengths.verify)))])),
            ("swift_crypto", .obj(swift)), ("baton", .obj(baton)), ("openssl", openssl.rates), ("openssl_version", .str(openssl.version)),
            ("backends", .obj(Fixture.algorithms.map { ($0.rawValue, .str(SigningBackend.name(for: $0))) })),
        ])
    }

    static func swiftCrypto(_ algorithm: JWSAlgorithm, seconds: Double, inputs: Inputs) async throws -> (Double, Double) {
        switch algorithm {
        case .rs256, .ps256:
            let key = try _RSA.Signing.PrivateKey(keySize: .bits2048)
            let publicKey = key.publicKey
            let padding: _RSA.Signing.Padding = algorithm == .rs256 ? .insecurePKCS1v1_5 : .PSS
            return try await rates(inputs, seconds: seconds, signBatch: 1, sign: { try key.signature(for: $0, padding: padding) }) {
                publicKey.isValidSignature($0, for: $1, padding: padding)
            }
        case .es256:
            let key = P256.Signing.PrivateKey()
            let publicKey = key.publicKey
            return try await rates(inputs, seconds: seconds, sign: { try key.signature(for: $0) }) { publicKey.isValidSignature($0, for: $1) }
        case .es384:
            let key = P384.Signing.PrivateKey()
            let publicKey = key.publicKey
            return try await rates(inputs, seconds: seconds, sign: { try key.signature(for: $0) }) { publicKey.isValidSignature($0, for: $1) }
        case .edDSA:
            let key = Curve25519.Signing.PrivateKey()
            let publicKey = key.publicKey
            return try await rates(inputs, seconds: seconds, sign: { try key.signature(for: $0) }) { publicKey.isValidSignature($0, for: $1) }
        }
    }

    /// Through JOSE, as the handlers call it.
    static func batonPath(_ algorithm: JWSAlgorithm, seconds: Double, inputs: Inputs) async throws -> (Double, Double) {
        let key = try SigningKey(kid: "bench", algorithm: algorithm, material: try PrivateKeyMaterial.generate(for: algorithm))
        let publicKey = key.material.publicKey
        return try await rates(inputs, seconds: seconds, signBatch: algorithm.keyType == .rsa ? 1 : 10, sign: { try key.signature(for: $0) }) {
            publicKey.isValidSignature($0, for: $1, algorithm: algorithm)
        }
    }

    /// Sign rate over `inputs.sign`; verify rate over `inputs.verify`, each with its own signature.
    static func rates<Signature>(
        _ inputs: Inputs, seconds: Double, signBatch: Int = 10, sign: ([UInt8]) throws -> Signature, verify: (Signature, [UInt8]) -> Bool
    ) async throws -> (Double, Double) {
        let signatures = try inputs.verify.map(sign)
        var next = 0
        let signRate = try await measureRate(seconds: seconds, batch: signBatch) {
            _ = try sign(inputs.sign[next % inputs.sign.count])
            next += 1
        }
        let verifyRate = try await measureRate(seconds: seconds, batch: 10) {
            let index = next % inputs.verify.count
            guard verify(signatures[index], inputs.verify[index]) else { throw BenchError("verify failed") }
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

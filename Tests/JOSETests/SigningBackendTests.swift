import Crypto
import Foundation
import JOSE
import Testing
import _CryptoExtras

/// RS256/PS256 keys sign with OpenSSL 3 when the process can load it (bench/run: 2.4x faster on
/// AVX-512 machines), else with swift-crypto. Either way the tokens must be exactly what a verifier
/// expects.
@Suite struct SigningBackendTests {
    static let input: [UInt8] = Array("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9".utf8)

    @Test(arguments: [JWSAlgorithm.rs256, .ps256])
    func rsaSignaturesVerifyWithSwiftCrypto(_ algorithm: JWSAlgorithm) throws {
        let key = TestKeys.signer(algorithm)
        for _ in 0..<3 {
            let signature = try key.signature(for: Self.input)
            #expect(signature.count == 256)
            #expect(key.material.publicKey.isValidSignature(signature, for: Self.input, algorithm: algorithm))
            #expect(!key.material.publicKey.isValidSignature(signature, for: Self.input + [0], algorithm: algorithm))
            // RS256 and PS256 stay apart whichever library signed.
            let other: JWSAlgorithm = algorithm == .rs256 ? .ps256 : .rs256
            #expect(!key.material.publicKey.isValidSignature(signature, for: Self.input, algorithm: other))
        }
    }

    /// PKCS#1 v1.5 is deterministic: OpenSSL and swift-crypto must produce the same bytes.
    @Test func rs256MatchesSwiftCryptoExactly() throws {
        let key = TestKeys.signer(.rs256)
        #expect(try key.signature(for: Self.input) == key.material.signature(for: Self.input, algorithm: .rs256))
    }

    @Test func backendIsChosenAtLoad() throws {
        #expect(TestKeys.signer(.es256).backend == "swift-crypto")
        #expect(TestKeys.signer(.edDSA).backend == "swift-crypto")
        let rsa = TestKeys.signer(.rs256).backend
        #expect(rsa == "OpenSSL" || rsa == "swift-crypto")
        #if os(Linux)
        // Where OpenSSL 3 is installed (CI installs `openssl`), it is the one used.
        if Self.hasLibcrypto3 {
            #expect(rsa == "OpenSSL")
        }
        #endif
    }

    @Test(arguments: [JWSAlgorithm.rs256, .ps256, .es256, .es384, .edDSA])
    func signedTokensVerify(_ algorithm: JWSAlgorithm) throws {
        let key = TestKeys.signer(algorithm)
        let token = try key.sign(type: "at+jwt", payload: standardPayload())
        let parsed = try CompactJWS.parse(token)
        #expect(parsed.type == "at+jwt")
        #expect(parsed.kid == "test-kid")
        #expect(parsed.algorithmName == algorithm.rawValue)
        _ = try parsed.verify(with: [key.verificationKey], allowedAlgorithms: [algorithm])
        // A type without a prepared header takes the general path and still verifies.
        let other = try CompactJWS.parse(try key.sign(type: "oauth-id-jag+jwt", payload: standardPayload()))
        #expect(other.type == "oauth-id-jag+jwt")
        _ = try other.verify(with: [key.verificationKey], allowedAlgorithms: [algorithm])
    }

    /// Concurrent signers share one key: every signature must still verify.
    @Test func concurrentRSASigning() async throws {
        let key = TestKeys.signer(.rs256)
        let results = await withTaskGroup(of: Bool.self) { group in
            for index in 0..<16 {
                group.addTask {
                    let input = Self.input + Array(String(index).utf8)
                    guard let signature = try? key.signature(for: input) else { return false }
                    return key.material.publicKey.isValidSignature(signature, for: input, algorithm: .rs256)
                }
            }
            var all: [Bool] = []
            for await result in group { all.append(result) }
            return all
        }
        #expect(results.count == 16 && results.allSatisfy { $0 })
    }

    static var hasLibcrypto3: Bool {
        ["/usr/lib/x86_64-linux-gnu/libcrypto.so.3", "/usr/lib/aarch64-linux-gnu/libcrypto.so.3", "/usr/lib64/libcrypto.so.3", "/lib64/libcrypto.so.3"]
            .contains { FileManager.default.fileExists(atPath: $0) }
    }
}

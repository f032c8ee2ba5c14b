#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Crypto
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Synchronization
import _CryptoExtras

/// RSA signing (RS256, PS256) with the system's OpenSSL 3, when the process can load it.
///
/// Issuing an RS256 token is one RSA-2048 private-key operation, and on x86-64 with AVX-512 IFMA
/// OpenSSL 3 does it 2.4 times faster than swift-crypto's BoringSSL (bench/run measures both). The
/// library is opened with `dlopen` when a signing key is loaded, so Baton neither builds nor runs
/// against OpenSSL headers: where `libcrypto.so.3` is missing (or anything about it does not check
/// out) the key signs with swift-crypto, as before. Either way one key has one code path, chosen at
/// load. Verification stays with swift-crypto, which is as fast as OpenSSL there.
///
/// Before a key is used, a test signature made with OpenSSL must verify with swift-crypto's public key:
/// a library that signs differently is never used.
final class OpenSSLRSASigner: @unchecked Sendable {
    // EVP_PKEY* is immutable once built and OpenSSL 3 allows sharing it between threads; each
    // EVP_PKEY_CTX is used by one thread at a time (taken from and returned to the pool under a lock).
    private let library: OpenSSLLibrary
    private let key: OpaquePointer
    private let padding: Int32
    private let isPSS: Bool
    private let signatureLength: Int
    private let pool = Mutex<[Context]>([])

    /// An `EVP_PKEY_CTX*` handed between threads through the pool, never used by two at once.
    private struct Context: @unchecked Sendable {
        let pointer: OpaquePointer
    }

    private init(library: OpenSSLLibrary, key: OpaquePointer, algorithm: JWSAlgorithm, signatureLength: Int) {
        self.library = library
        self.key = key
        self.isPSS = algorithm == .ps256
        self.padding = isPSS ? 6 : 1 // RSA_PKCS1_PSS_PADDING, RSA_PKCS1_PADDING
        self.signatureLength = signatureLength
    }

    deinit {
        for context in pool.withLock({ $0 }) { library.contextFree(context.pointer) }
        library.keyFree(key)
    }

    /// The OpenSSL signer for `material`, or nil when OpenSSL is unavailable or does not check out.
    static func make(_ material: PrivateKeyMaterial, algorithm: JWSAlgorithm) -> OpenSSLRSASigner? {
        guard algorithm == .rs256 || algorithm == .ps256, case .rsa(let rsa) = material, let library = OpenSSLLibrary.shared else { return nil }
        let der = Array(rsa.derRepresentation)
        let key: OpaquePointer? = der.withUnsafeBufferPointer { buffer in
            var cursor: UnsafePointer<UInt8>? = buffer.baseAddress
            return library.decodePrivateKey(6 /* EVP_PKEY_RSA */, nil, &cursor, buffer.count)
        }
        guard let key else {
            library.clearErrors()
            return nil
        }
        let signer = OpenSSLRSASigner(library: library, key: key, algorithm: algorithm, signatureLength: rsa.keySizeInBits / 8)
        // The signature must be one swift-crypto accepts for the same key.
        let probe: [UInt8] = Array("baton: OpenSSL self-test".utf8)
        guard let signature = try? signer.signature(for: probe),
              material.publicKey.isValidSignature(signature, for: probe, algorithm: algorithm) else { return nil }
        return signer
    }

    /// RSASSA-PKCS1-v1_5 or RSASSA-PSS (salt = digest length, MGF1-SHA-256) over SHA-256 of `input`.
    func signature<Input: DataProtocol>(for input: Input) throws(KeyError) -> [UInt8] {
        let digest = Digests.sha256(input)
        guard let context = takeContext() else { throw KeyError("OpenSSL could not prepare an RSA signature") }
        var signature = [UInt8](repeating: 0, count: signatureLength)
        var length = signatureLength
        let status = digest.withUnsafeBytes { digestBytes in
            signature.withUnsafeMutableBufferPointer { output in
                library.sign(context.pointer, output.baseAddress, &length, digestBytes.baseAddress!.assumingMemoryBound(to: UInt8.self), digestBytes.count)
            }
        }
        guard status == 1, length == signatureLength else {
            library.contextFree(context.pointer)
            library.clearErrors()
            throw KeyError("OpenSSL could not sign")
        }
        pool.withLock { $0.append(context) }
        return signature
    }

    /// A context initialised for this key, padding and digest; reused across signatures.
    private func takeContext() -> Context? {
        if let context = pool.withLock({ $0.popLast() }) { return context }
        guard let context = library.contextNew(key, nil) else { return nil }
        guard library.signInit(context) == 1,
              library.setPadding(context, padding) == 1,
              library.setSignatureDigest(context, library.sha256()) == 1,
              !isPSS || library.setPSSSaltLength(context, -1 /* RSA_PSS_SALTLEN_DIGEST */) == 1 else {
            library.contextFree(context)
            library.clearErrors()
            return nil
        }
        return Context(pointer: context)
    }
}

/// The few libcrypto 3 functions the signer calls, resolved once per process.
final class OpenSSLLibrary: Sendable {
    typealias DecodePrivateKey = @convention(c) (Int32, UnsafeMutablePointer<OpaquePointer?>?, UnsafeMutablePointer<UnsafePointer<UInt8>?>, Int) -> OpaquePointer?
    typealias Free = @convention(c) (OpaquePointer?) -> Void
    typealias ContextNew = @convention(c) (OpaquePointer?, OpaquePointer?) -> OpaquePointer?
    typealias ContextOperation = @convention(c) (OpaquePointer?) -> Int32
    typealias ContextInt = @convention(c) (OpaquePointer?, Int32) -> Int32
    typealias ContextPointer = @convention(c) (OpaquePointer?, OpaquePointer?) -> Int32
    typealias Digest = @convention(c) () -> OpaquePointer?
    typealias Sign = @convention(c) (OpaquePointer?, UnsafeMutablePointer<UInt8>?, UnsafeMutablePointer<Int>, UnsafePointer<UInt8>?, Int) -> Int32
    typealias Void0 = @convention(c) () -> Void
    typealias VersionNumber = @convention(c) () -> UInt

    let decodePrivateKey: DecodePrivateKey
    let keyFree: Free
    let contextNew: ContextNew
    let contextFree: Free
    let signInit: ContextOperation
    let setPadding: ContextInt
    let setSignatureDigest: ContextPointer
    let setPSSSaltLength: ContextInt
    let sha256: Digest
    let sign: Sign
    let clearErrors: Void0

    /// Loaded on first use; nil when there is no OpenSSL 3 `libcrypto` to load.
    static let shared: OpenSSLLibrary? = OpenSSLLibrary()

    private init?() {
        #if os(Linux)
        let names = ["libcrypto.so.3"]
        #else
        let names: [String] = []
        #endif
        guard let handle = names.lazy.compactMap({ dlopen($0, RTLD_NOW | RTLD_LOCAL) }).first else { return nil }
        func symbol<T>(_ name: String, _ type: T.Type) -> T? {
            dlsym(handle, name).map { unsafeBitCast($0, to: type) }
        }
        guard let version = symbol("OpenSSL_version_num", VersionNumber.self), version() >> 28 == 3,
              let decodePrivateKey = symbol("d2i_PrivateKey", DecodePrivateKey.self),
              let keyFree = symbol("EVP_PKEY_free", Free.self),
              let contextNew = symbol("EVP_PKEY_CTX_new", ContextNew.self),
              let contextFree = symbol("EVP_PKEY_CTX_free", Free.self),
              let signInit = symbol("EVP_PKEY_sign_init", ContextOperation.self),
              let setPadding = symbol("EVP_PKEY_CTX_set_rsa_padding", ContextInt.self),
              let setSignatureDigest = symbol("EVP_PKEY_CTX_set_signature_md", ContextPointer.self),
              let setPSSSaltLength = symbol("EVP_PKEY_CTX_set_rsa_pss_saltlen", ContextInt.self),
              let sha256 = symbol("EVP_sha256", Digest.self),
              let sign = symbol("EVP_PKEY_sign", Sign.self),
              let clearErrors = symbol("ERR_clear_error", Void0.self) else {
            dlclose(handle)
            return nil
        }
        self.decodePrivateKey = decodePrivateKey
        self.keyFree = keyFree
        self.contextNew = contextNew
        self.contextFree = contextFree
        self.signInit = signInit
        self.setPadding = setPadding
        self.setSignatureDigest = setSignatureDigest
        self.setPSSSaltLength = setPSSSaltLength
        self.sha256 = sha256
        self.sign = sign
        self.clearErrors = clearErrors
    }
}

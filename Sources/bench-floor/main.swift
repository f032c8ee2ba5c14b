// The cold-start floor for `bench/run`: the least a Swift executable does to answer an invocation
// (start, write a fixed JSON response, exit). `baton invoke` is measured against it.
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

let response = #"{"statusCode":200,"headers":{"content-type":"application/json"},"body":"{\"ok\":true}","isBase64Encoded":false}"# + "\n"
_ = response.utf8CString.withUnsafeBufferPointer { write(1, $0.baseAddress, $0.count - 1) }

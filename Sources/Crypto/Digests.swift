import COpenSSL

/// HMAC-SHA256 and SHA-256 through OpenSSL's one-shot calls.
public enum Digest {
    /// HMAC-SHA256 of `message` under `key`. Throws when OpenSSL fails: the zeros left in the buffer must never
    /// pass for a MAC (a token signed with zeros would verify).
    public static func hmacSHA256(key: [UInt8], message: [UInt8]) throws(CryptoError) -> [UInt8] {
        guard !key.isEmpty else { throw .invalidKeyLength(expected: 32, actual: 0) }
        var output = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 0
        let result = key.withUnsafeBytes { keyBytes in
            message.withUnsafeBytes { messageBytes in
                HMAC(EVP_sha256(), keyBytes.baseAddress, Int32(keyBytes.count),
                     messageBytes.baseAddress?.assumingMemoryBound(to: UInt8.self), messageBytes.count,
                     &output, &length)
            }
        }
        guard result != nil, length == 32 else { throw .library("HMAC-SHA256 failed") }
        return output
    }

    /// SHA-256 of `bytes`.
    public static func sha256<Bytes: ContiguousBytes>(_ bytes: Bytes) -> [UInt8] {
        var output = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 0
        bytes.withUnsafeBytes { raw in
            _ = EVP_Digest(raw.baseAddress, raw.count, &output, &length, EVP_sha256(), nil)
        }
        return output
    }
}

/// Byte sequences that expose their contiguous storage.
public protocol ContiguousBytes {
    func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R
}

extension Array: ContiguousBytes where Element == UInt8 {}
extension ArraySlice: ContiguousBytes where Element == UInt8 {}

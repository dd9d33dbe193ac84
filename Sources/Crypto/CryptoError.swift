/// A cryptographic operation that could not be carried out.
public enum CryptoError: Error, Sendable, Equatable, CustomStringConvertible {
    case invalidKeyLength(expected: Int, actual: Int)
    /// The ciphertext, its tag or its associated data do not match: tampered, truncated or moved.
    case authenticationFailed
    case malformedInput(String)
    case library(String)

    public var description: String {
        switch self {
        case .invalidKeyLength(let expected, let actual): return "key must be \(expected) bytes, got \(actual)"
        case .authenticationFailed: return "authentication failed"
        case .malformedInput(let what): return "malformed input: \(what)"
        case .library(let what): return "OpenSSL: \(what)"
        }
    }
}

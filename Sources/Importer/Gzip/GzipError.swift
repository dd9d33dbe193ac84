/// Why a gzip stream could not be decoded. Every case names what was wrong, so that an operator can tell a
/// truncated download from a file that was never gzip.
public enum GzipError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The stream does not start with gzip's magic bytes.
    case notGzip
    /// A compression method other than deflate (8), or reserved header flags set.
    case unsupportedHeader(String)
    /// The input ended inside a member.
    case truncated
    /// The deflate data is invalid (the reason names the rule broken).
    case corrupt(String)
    /// A member's CRC-32 or length does not match what was decoded.
    case checksumMismatch(expected: UInt32, actual: UInt32)
    case lengthMismatch(expected: UInt32, actual: UInt32)
    /// Bytes after the last member that are not another member.
    case trailingData
    /// The underlying read failed.
    case read(String)

    public var description: String {
        switch self {
        case .notGzip: return "not a gzip stream (bad magic bytes)"
        case .unsupportedHeader(let reason): return "unsupported gzip header: \(reason)"
        case .truncated: return "the gzip stream is truncated"
        case .corrupt(let reason): return "corrupt deflate data: \(reason)"
        case .checksumMismatch(let expected, let actual):
            return "CRC-32 mismatch (trailer \(hex(expected)), data \(hex(actual))): the file is corrupt"
        case .lengthMismatch(let expected, let actual):
            return "length mismatch (trailer \(expected) bytes mod 2^32, data \(actual)): the file is corrupt"
        case .trailingData: return "unexpected data after the last gzip member"
        case .read(let reason): return reason
        }
    }

    private func hex(_ value: UInt32) -> String {
        let digits = String(value, radix: 16)
        return "0x" + String(repeating: "0", count: 8 - digits.count) + digits
    }
}

/// A file that could not be read to its end: missing, unreadable, a corrupt gzip stream, or JSON whose shape
/// is not an export's. The records read before it stay read; the file's remaining records are lost.
public struct ReadError: Error, Sendable, CustomStringConvertible {
    public let path: String
    public let reason: String

    public init(_ path: String, _ reason: String) {
        self.path = path
        self.reason = reason
    }

    public var description: String { "\(path): \(reason)" }
}

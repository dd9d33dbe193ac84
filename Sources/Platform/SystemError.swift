#if canImport(Glibc)
import Glibc
#endif

/// A failed system call: what was attempted and the errno it gave.
public struct SystemError: Error, CustomStringConvertible, Sendable {
    public let operation: String
    public let code: Int32

    public init(_ operation: String, code: Int32 = errno) {
        self.operation = operation
        self.code = code
    }

    /// What the system said, without the operation (`No such file or directory`).
    public var reason: String { String(cString: strerror(code)) }

    public var description: String {
        "\(operation): \(reason)"
    }
}

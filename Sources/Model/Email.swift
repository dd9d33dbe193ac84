/// A user's email: the key of every user row. Compared case-insensitively by storing it lower-cased.
public struct Email: Hashable, Sendable, Comparable, CustomStringConvertible {
    public let value: String

    /// Nil unless the text is ≤ 254 bytes with exactly one `@` and something on both sides of it.
    public init?(_ text: String) {
        guard text.utf8.count <= 254, !text.isEmpty else { return nil }
        let parts = text.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else { return nil }
        guard !text.unicodeScalars.contains(where: { $0.value <= 0x20 || $0.value == 0x7F }) else { return nil }
        value = text.lowercased()
    }

    public var description: String { value }

    public static func < (lhs: Email, rhs: Email) -> Bool { lhs.value < rhs.value }

    /// Case-insensitive equality with raw text.
    public func matches(_ text: String) -> Bool { text.lowercased() == value }
}

/// A user's email: the key of every user row. Compared case-insensitively by storing it lower-cased.
public struct Email: Hashable, Sendable, Comparable, CustomStringConvertible {
    public let value: String

    /// Nil unless the text is ≤ 254 bytes with exactly one `@` and something on both sides of it, and no
    /// spaces or control characters. One pass over the bytes: this runs on every request.
    public init?(_ text: String) {
        let utf8 = text.utf8
        guard !utf8.isEmpty, utf8.count <= 254 else { return nil }
        var at: Int?
        var ascii = true
        var hasUpper = false
        for (offset, byte) in utf8.enumerated() {
            switch byte {
            case 0...0x20, 0x7F: return nil
            case UInt8(ascii: "@"):
                guard at == nil else { return nil }
                at = offset
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): hasUpper = true
            case 0x80...: ascii = false
            default: break
            }
        }
        guard let at, at > 0, at < utf8.count - 1 else { return nil }
        if ascii {
            value = hasUpper ? String(decoding: utf8.map { $0 >= 65 && $0 <= 90 ? $0 + 32 : $0 }, as: UTF8.self) : text
        } else {
            guard !text.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else { return nil }
            value = text.lowercased()
        }
    }

    public var description: String { value }

    public static func < (lhs: Email, rhs: Email) -> Bool { lhs.value < rhs.value }

    /// Case-insensitive equality with raw text.
    public func matches(_ text: String) -> Bool { text.lowercased() == value }
}

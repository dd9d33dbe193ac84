/// Header names compared and folded byte by byte (they are ASCII): `lowercased()` builds a new string each time,
/// and header names are looked at several times in every request.
public enum ASCIICase {
    /// True when `name` has no upper-case ASCII letter.
    public static func isLower(_ name: String) -> Bool {
        !name.utf8.contains { $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") }
    }

    /// `a` and `b` are equal but for the case of ASCII letters.
    public static func equal(_ a: String, _ b: String) -> Bool {
        a.utf8.count == b.utf8.count && zip(a.utf8, b.utf8).allSatisfy { fold($0) == fold($1) }
    }

    private static func fold(_ byte: UInt8) -> UInt8 {
        byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte + 32 : byte
    }
}

import Text

/// Why a query string was refused.
public enum QueryStringError: Error, Sendable, Equatable, CustomStringConvertible {
    case duplicateKey(String)
    case malformedEscape
    case invalidUTF8

    public var description: String {
        switch self {
        case .duplicateKey(let key): return "query parameter \(key.prefix(64)) is given more than once"
        case .malformedEscape: return "malformed percent-escape in the query string"
        case .invalidUTF8: return "the query string is not valid UTF-8"
        }
    }
}

/// `application/x-www-form-urlencoded` query strings, strictly: each key once, valid escapes, valid UTF-8.
public enum QueryString {
    /// Key-value pairs in order. A key without `=` has an empty value.
    public static func parse(_ query: String) throws(QueryStringError) -> [(key: String, value: String)] {
        // The raw query reaches us already decoded from bytes with invalid UTF-8 replaced by U+FFFD (FastCGI
        // parameters are read leniently). A raw U+FFFD is therefore invalid input, never a character a client
        // meant: clients percent-encode what is not ASCII.
        if query.unicodeScalars.contains("\u{FFFD}") { throw .invalidUTF8 }
        var pairs: [(key: String, value: String)] = []
        var seen = Set<String>()
        for part in query.split(separator: "&", omittingEmptySubsequences: true) {
            let pieces = part.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let key = try decode(pieces[0])
            let value = pieces.count > 1 ? try decode(pieces[1]) : ""
            guard seen.insert(key).inserted else { throw .duplicateKey(key) }
            pairs.append((key, value))
        }
        return pairs
    }

    /// Percent-decoding with `+` as space.
    public static func decode(_ text: Substring) throws(QueryStringError) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count)
        var iterator = text.utf8.makeIterator()
        while let byte = iterator.next() {
            switch byte {
            case UInt8(ascii: "+"):
                bytes.append(UInt8(ascii: " "))
            case UInt8(ascii: "%"):
                guard let high = iterator.next().flatMap(hexValue), let low = iterator.next().flatMap(hexValue) else {
                    throw .malformedEscape
                }
                bytes.append(high << 4 | low)
            default:
                bytes.append(byte)
            }
        }
        guard let string = String(validating: bytes, as: UTF8.self) else { throw .invalidUTF8 }
        return string
    }

    /// Percent-encodes a value for use in a query string (unreserved characters kept).
    public static func encode(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                 UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                out += "%" + ZeroPadding.pad(byte, 2, radix: 16, uppercase: true)
            }
        }
        return out
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}

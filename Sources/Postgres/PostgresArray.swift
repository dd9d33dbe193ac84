/// PostgreSQL's text representation of one-dimensional arrays (PostgreSQL 15 documentation, §8.15.6).
public enum PostgresArray {
    /// `{"a","b\"c"}`: every element quoted, so no element can change the array's shape.
    public static func literal(_ elements: [String]) -> String {
        var out = "{"
        for (index, element) in elements.enumerated() {
            if index > 0 { out += "," }
            out += "\""
            for character in element {
                if character == "\"" || character == "\\" { out += "\\" }
                out.append(character)
            }
            out += "\""
        }
        return out + "}"
    }

    /// Parses `{a,"b c",NULL}` into elements (NULL elements become nil). Nil for anything malformed or
    /// multi-dimensional, as PostgreSQL would refuse it: an empty element, a quote or a brace inside an unquoted
    /// element, text after a closing quote. Unquoted elements lose surrounding white space, and an unquoted NULL
    /// (in any case) is the null value.
    public static func parse(_ bytes: UnsafeBufferPointer<UInt8>) -> [String?]? {
        guard bytes.count >= 2, bytes.first == UInt8(ascii: "{"), bytes.last == UInt8(ascii: "}") else { return nil }
        let end = bytes.count - 1
        var index = 1
        skipSpaces(bytes, &index, end)
        if index == end { return [] }
        var elements: [String?] = []
        while true {
            skipSpaces(bytes, &index, end)
            guard index < end else { return nil } // an empty element: "{a,}"
            if bytes[index] == UInt8(ascii: "\"") {
                index += 1
                var element: [UInt8] = []
                while index < end && bytes[index] != UInt8(ascii: "\"") {
                    if bytes[index] == UInt8(ascii: "\\") { index += 1 }
                    guard index < end else { return nil }
                    element.append(bytes[index])
                    index += 1
                }
                guard index < end else { return nil } // no closing quote
                index += 1
                elements.append(String(decoding: element, as: UTF8.self))
            } else {
                let start = index
                while index < end && bytes[index] != UInt8(ascii: ",") {
                    switch bytes[index] {
                    case UInt8(ascii: "\""), UInt8(ascii: "{"), UInt8(ascii: "}"), UInt8(ascii: "\\"): return nil
                    default: index += 1
                    }
                }
                var last = index
                while last > start && isSpace(bytes[last - 1]) { last -= 1 }
                guard last > start else { return nil } // an empty element: "{,a}"
                let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<last]), as: UTF8.self)
                elements.append(text.lowercased() == "null" ? nil : text)
            }
            skipSpaces(bytes, &index, end)
            if index == end { return elements }
            guard bytes[index] == UInt8(ascii: ",") else { return nil } // text after a closing quote
            index += 1
        }
    }

    private static func isSpace(_ byte: UInt8) -> Bool {
        byte == 0x20 || (0x09...0x0D).contains(byte)
    }

    private static func skipSpaces(_ bytes: UnsafeBufferPointer<UInt8>, _ index: inout Int, _ end: Int) {
        while index < end && isSpace(bytes[index]) { index += 1 }
    }
}

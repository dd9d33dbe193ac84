/// PostgreSQL's text representation of one-dimensional arrays.
public enum PostgresArray {
    /// `{"a","b\"c"}`
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

    /// Parses `{a,"b c",NULL}` into elements (NULL elements become nil). Nil for anything malformed.
    public static func parse(_ bytes: UnsafeBufferPointer<UInt8>) -> [String?]? {
        guard bytes.count >= 2, bytes.first == UInt8(ascii: "{"), bytes.last == UInt8(ascii: "}") else { return nil }
        var elements: [String?] = []
        var index = 1
        let end = bytes.count - 1
        if index == end { return [] }
        while index < end {
            if bytes[index] == UInt8(ascii: "\"") {
                index += 1
                var element: [UInt8] = []
                while index < end && bytes[index] != UInt8(ascii: "\"") {
                    if bytes[index] == UInt8(ascii: "\\") { index += 1 }
                    guard index < end else { return nil }
                    element.append(bytes[index])
                    index += 1
                }
                guard index < end else { return nil }
                index += 1
                elements.append(String(decoding: element, as: UTF8.self))
            } else {
                let start = index
                while index < end && bytes[index] != UInt8(ascii: ",") { index += 1 }
                let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
                elements.append(text == "NULL" ? nil : text)
            }
            if index < end {
                guard bytes[index] == UInt8(ascii: ",") else { return nil }
                index += 1
            }
        }
        return elements
    }
}

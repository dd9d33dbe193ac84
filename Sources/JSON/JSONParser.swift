/// Why a document was refused, and where.
public struct JSONError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Reason: Sendable, Equatable {
        case empty
        case invalidUTF8
        case unexpectedCharacter
        case unexpectedEnd
        case invalidEscape
        case invalidNumber
        case controlCharacterInString
        case tooDeep
        case duplicateKey(String)
        case trailingCharacters
    }

    public let reason: Reason
    public let offset: Int

    public var description: String {
        switch reason {
        case .empty: return "empty document"
        case .invalidUTF8: return "invalid UTF-8 at byte \(offset)"
        case .unexpectedCharacter: return "unexpected character at byte \(offset)"
        case .unexpectedEnd: return "unexpected end of document"
        case .invalidEscape: return "invalid escape sequence at byte \(offset)"
        case .invalidNumber: return "invalid number at byte \(offset)"
        case .controlCharacterInString: return "unescaped control character in a string at byte \(offset)"
        case .tooDeep: return "nesting deeper than allowed at byte \(offset)"
        case .duplicateKey(let key): return "duplicate key \"\(key.prefix(64))\" at byte \(offset)"
        case .trailingCharacters: return "unexpected data after the document at byte \(offset)"
        }
    }
}

/// A strict RFC 8259 parser: valid UTF-8 only, no duplicate keys, bounded nesting, numbers kept as written.
public struct JSONParser {
    public static let defaultMaxDepth = 64

    /// Parses a complete document.
    public static func parse(_ bytes: [UInt8], maxDepth: Int = defaultMaxDepth) throws(JSONError) -> JSON {
        try bytes.withUnsafeBufferPointer { buffer throws(JSONError) -> JSON in
            var parser = JSONParser(buffer: buffer, maxDepth: maxDepth)
            return try parser.parseDocument()
        }
    }

    public static func parse(_ text: String, maxDepth: Int = defaultMaxDepth) throws(JSONError) -> JSON {
        try parse(Array(text.utf8), maxDepth: maxDepth)
    }

    private let buffer: UnsafeBufferPointer<UInt8>
    private let maxDepth: Int
    private var position = 0
    private var depth = 0

    private init(buffer: UnsafeBufferPointer<UInt8>, maxDepth: Int) {
        self.buffer = buffer
        self.maxDepth = maxDepth
    }

    private mutating func parseDocument() throws(JSONError) -> JSON {
        skipWhitespace()
        guard position < buffer.count else { throw JSONError(reason: .empty, offset: 0) }
        let value = try parseValue()
        skipWhitespace()
        guard position == buffer.count else { throw JSONError(reason: .trailingCharacters, offset: position) }
        return value
    }

    private mutating func skipWhitespace() {
        while position < buffer.count {
            switch buffer[position] {
            case 0x20, 0x09, 0x0A, 0x0D: position += 1
            default: return
            }
        }
    }

    private func fail(_ reason: JSONError.Reason) -> JSONError {
        JSONError(reason: reason, offset: position)
    }

    private mutating func parseValue() throws(JSONError) -> JSON {
        guard position < buffer.count else { throw fail(.unexpectedEnd) }
        switch buffer[position] {
        case UInt8(ascii: "{"): return try parseObject()
        case UInt8(ascii: "["): return try parseArray()
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try expectLiteral("true"); return .bool(true)
        case UInt8(ascii: "f"): try expectLiteral("false"); return .bool(false)
        case UInt8(ascii: "n"): try expectLiteral("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try parseNumber())
        default: throw fail(.unexpectedCharacter)
        }
    }

    private mutating func expectLiteral(_ literal: StaticString) throws(JSONError) {
        let count = literal.utf8CodeUnitCount
        guard position + count <= buffer.count else { throw fail(.unexpectedEnd) }
        let expected = UnsafeBufferPointer(start: literal.utf8Start, count: count)
        for index in 0..<count where buffer[position + index] != expected[index] {
            throw JSONError(reason: .unexpectedCharacter, offset: position + index)
        }
        position += count
    }

    private mutating func enter() throws(JSONError) {
        depth += 1
        if depth > maxDepth { throw fail(.tooDeep) }
    }

    private mutating func parseObject() throws(JSONError) -> JSON {
        try enter()
        position += 1
        var object = JSONObject()
        var seen = Set<String>()
        skipWhitespace()
        if position < buffer.count && buffer[position] == UInt8(ascii: "}") {
            position += 1
            depth -= 1
            return .object(object)
        }
        while true {
            skipWhitespace()
            guard position < buffer.count else { throw fail(.unexpectedEnd) }
            guard buffer[position] == UInt8(ascii: "\"") else { throw fail(.unexpectedCharacter) }
            let keyOffset = position
            let key = try parseString()
            guard seen.insert(key).inserted else { throw JSONError(reason: .duplicateKey(key), offset: keyOffset) }
            skipWhitespace()
            guard position < buffer.count else { throw fail(.unexpectedEnd) }
            guard buffer[position] == UInt8(ascii: ":") else { throw fail(.unexpectedCharacter) }
            position += 1
            skipWhitespace()
            object.append(key, try parseValue())
            skipWhitespace()
            guard position < buffer.count else { throw fail(.unexpectedEnd) }
            switch buffer[position] {
            case UInt8(ascii: ","): position += 1
            case UInt8(ascii: "}"):
                position += 1
                depth -= 1
                return .object(object)
            default: throw fail(.unexpectedCharacter)
            }
        }
    }

    private mutating func parseArray() throws(JSONError) -> JSON {
        try enter()
        position += 1
        var elements: [JSON] = []
        skipWhitespace()
        if position < buffer.count && buffer[position] == UInt8(ascii: "]") {
            position += 1
            depth -= 1
            return .array(elements)
        }
        while true {
            skipWhitespace()
            elements.append(try parseValue())
            skipWhitespace()
            guard position < buffer.count else { throw fail(.unexpectedEnd) }
            switch buffer[position] {
            case UInt8(ascii: ","): position += 1
            case UInt8(ascii: "]"):
                position += 1
                depth -= 1
                return .array(elements)
            default: throw fail(.unexpectedCharacter)
            }
        }
    }

    private mutating func parseNumber() throws(JSONError) -> JSONNumber {
        let start = position
        if buffer[position] == UInt8(ascii: "-") { position += 1 }
        guard position < buffer.count else { throw fail(.invalidNumber) }
        if buffer[position] == UInt8(ascii: "0") {
            position += 1
        } else if isDigit(buffer[position]) {
            while position < buffer.count && isDigit(buffer[position]) { position += 1 }
        } else {
            throw fail(.invalidNumber)
        }
        if position < buffer.count && buffer[position] == UInt8(ascii: ".") {
            position += 1
            guard position < buffer.count && isDigit(buffer[position]) else { throw fail(.invalidNumber) }
            while position < buffer.count && isDigit(buffer[position]) { position += 1 }
        }
        if position < buffer.count && (buffer[position] == UInt8(ascii: "e") || buffer[position] == UInt8(ascii: "E")) {
            position += 1
            if position < buffer.count && (buffer[position] == UInt8(ascii: "+") || buffer[position] == UInt8(ascii: "-")) {
                position += 1
            }
            guard position < buffer.count && isDigit(buffer[position]) else { throw fail(.invalidNumber) }
            while position < buffer.count && isDigit(buffer[position]) { position += 1 }
        }
        // A number literal of absurd length is refused rather than kept (nothing legitimate needs it).
        guard position - start <= 64 else { throw JSONError(reason: .invalidNumber, offset: start) }
        return JSONNumber(literal: String(decoding: UnsafeBufferPointer(rebasing: buffer[start..<position]), as: UTF8.self))
    }

    private func isDigit(_ byte: UInt8) -> Bool {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
    }

    private mutating func parseString() throws(JSONError) -> String {
        position += 1
        // Fast path: no escapes.
        let start = position
        while position < buffer.count {
            let byte = buffer[position]
            if byte == UInt8(ascii: "\"") {
                let slice = UnsafeBufferPointer(rebasing: buffer[start..<position])
                try validateUTF8(slice, base: start)
                position += 1
                return String(decoding: slice, as: UTF8.self)
            }
            if byte == UInt8(ascii: "\\") { break }
            if byte < 0x20 { throw fail(.controlCharacterInString) }
            position += 1
        }
        var bytes = Array(UnsafeBufferPointer(rebasing: buffer[start..<position]))
        try validateUTF8(UnsafeBufferPointer(rebasing: buffer[start..<position]), base: start)
        while position < buffer.count {
            let byte = buffer[position]
            if byte == UInt8(ascii: "\"") {
                position += 1
                return String(decoding: bytes, as: UTF8.self)
            }
            if byte < 0x20 { throw fail(.controlCharacterInString) }
            if byte == UInt8(ascii: "\\") {
                try parseEscape(into: &bytes)
                continue
            }
            // Copy a run of plain bytes, validated.
            let runStart = position
            while position < buffer.count {
                let b = buffer[position]
                if b == UInt8(ascii: "\"") || b == UInt8(ascii: "\\") || b < 0x20 { break }
                position += 1
            }
            let run = UnsafeBufferPointer(rebasing: buffer[runStart..<position])
            try validateUTF8(run, base: runStart)
            bytes.append(contentsOf: run)
        }
        throw fail(.unexpectedEnd)
    }

    private mutating func parseEscape(into bytes: inout [UInt8]) throws(JSONError) {
        position += 1
        guard position < buffer.count else { throw fail(.unexpectedEnd) }
        let escape = buffer[position]
        position += 1
        switch escape {
        case UInt8(ascii: "\""): bytes.append(0x22)
        case UInt8(ascii: "\\"): bytes.append(0x5C)
        case UInt8(ascii: "/"): bytes.append(0x2F)
        case UInt8(ascii: "b"): bytes.append(0x08)
        case UInt8(ascii: "f"): bytes.append(0x0C)
        case UInt8(ascii: "n"): bytes.append(0x0A)
        case UInt8(ascii: "r"): bytes.append(0x0D)
        case UInt8(ascii: "t"): bytes.append(0x09)
        case UInt8(ascii: "u"):
            var scalar = try parseHex4()
            if (0xD800...0xDBFF).contains(scalar) {
                // A high surrogate must be followed by an escaped low surrogate.
                guard position + 1 < buffer.count, buffer[position] == UInt8(ascii: "\\"),
                      buffer[position + 1] == UInt8(ascii: "u") else { throw fail(.invalidEscape) }
                position += 2
                let low = try parseHex4()
                guard (0xDC00...0xDFFF).contains(low) else { throw fail(.invalidEscape) }
                scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
            } else if (0xDC00...0xDFFF).contains(scalar) {
                throw fail(.invalidEscape)
            }
            guard let unicode = Unicode.Scalar(scalar) else { throw fail(.invalidEscape) }
            UTF8.encode(unicode) { bytes.append($0) }
        default:
            throw JSONError(reason: .invalidEscape, offset: position - 1)
        }
    }

    private mutating func parseHex4() throws(JSONError) -> UInt32 {
        guard position + 4 <= buffer.count else { throw fail(.unexpectedEnd) }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = buffer[position]
            let digit: UInt32
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(byte - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(byte - UInt8(ascii: "A") + 10)
            default: throw fail(.invalidEscape)
            }
            value = value << 4 | digit
            position += 1
        }
        return value
    }

    private func validateUTF8(_ bytes: UnsafeBufferPointer<UInt8>, base: Int) throws(JSONError) {
        if let bad = UTF8Validation.firstInvalidByte(bytes) {
            throw JSONError(reason: .invalidUTF8, offset: base + bad)
        }
    }
}

/// Strict UTF-8 validation (no overlong forms, no surrogates, nothing above U+10FFFF).
public enum UTF8Validation {
    /// The offset of the first byte of an invalid sequence, or nil when all is valid.
    public static func firstInvalidByte(_ bytes: UnsafeBufferPointer<UInt8>) -> Int? {
        var index = 0
        let count = bytes.count
        while index < count {
            let lead = bytes[index]
            if lead < 0x80 { index += 1; continue }
            let length: Int
            var minimum: UInt32
            var scalar: UInt32
            switch lead {
            case 0xC2...0xDF: length = 2; scalar = UInt32(lead & 0x1F); minimum = 0x80
            case 0xE0...0xEF: length = 3; scalar = UInt32(lead & 0x0F); minimum = 0x800
            case 0xF0...0xF4: length = 4; scalar = UInt32(lead & 0x07); minimum = 0x10000
            default: return index
            }
            guard index + length <= count else { return index }
            for offset in 1..<length {
                let next = bytes[index + offset]
                guard next & 0xC0 == 0x80 else { return index }
                scalar = scalar << 6 | UInt32(next & 0x3F)
            }
            if scalar < minimum || scalar > 0x10FFFF || (0xD800...0xDFFF).contains(scalar) { return index }
            minimum = 0
            index += length
        }
        return nil
    }
}

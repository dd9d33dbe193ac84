/// A failure to read a value's text; the row adds the column and context.
public struct DecodingFailure: Error {
    public init() {}
}

/// Swift types that can be read from a value's text representation.
public protocol PostgresDecodable {
    init(postgresText bytes: UnsafeBufferPointer<UInt8>) throws(DecodingFailure)
}

extension String: PostgresDecodable {
    public init(postgresText bytes: UnsafeBufferPointer<UInt8>) throws(DecodingFailure) {
        self = String(decoding: bytes, as: UTF8.self)
    }
}

/// Numbers read from their text form by the standard library's parser.
public protocol PostgresNumber: PostgresDecodable, LosslessStringConvertible {}

extension PostgresNumber {
    public init(postgresText bytes: UnsafeBufferPointer<UInt8>) throws(DecodingFailure) {
        guard let value = Self(String(decoding: bytes, as: UTF8.self)) else { throw DecodingFailure() }
        self = value
    }
}

extension Int: PostgresNumber {}
extension Int64: PostgresNumber {}
extension Double: PostgresNumber {}

extension Bool: PostgresDecodable {
    public init(postgresText bytes: UnsafeBufferPointer<UInt8>) throws(DecodingFailure) {
        guard bytes.count == 1 else { throw DecodingFailure() }
        switch bytes[0] {
        case UInt8(ascii: "t"): self = true
        case UInt8(ascii: "f"): self = false
        default: throw DecodingFailure()
        }
    }
}

extension Array: PostgresDecodable where Element == String {
    /// A text[] value; NULL elements are not allowed.
    public init(postgresText bytes: UnsafeBufferPointer<UInt8>) throws(DecodingFailure) {
        guard let elements = PostgresArray.parse(bytes) else { throw DecodingFailure() }
        var result: [String] = []
        result.reserveCapacity(elements.count)
        for element in elements {
            guard let element else { throw DecodingFailure() }
            result.append(element)
        }
        self = result
    }
}

extension Bytea: PostgresDecodable {
    /// bytea in the hex output format (`\x0a1b…`).
    public init(postgresText bytes: UnsafeBufferPointer<UInt8>) throws(DecodingFailure) {
        guard bytes.count >= 2, bytes[0] == UInt8(ascii: "\\"), bytes[1] == UInt8(ascii: "x"), bytes.count % 2 == 0 else {
            throw DecodingFailure()
        }
        func nibble(_ byte: UInt8) throws(DecodingFailure) -> UInt8 {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
            default: throw DecodingFailure()
            }
        }
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count - 2) / 2)
        var index = 2
        while index < bytes.count {
            out.append(try nibble(bytes[index]) << 4 | nibble(bytes[index + 1]))
            index += 2
        }
        self.init(out)
    }
}

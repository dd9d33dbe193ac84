/// A query parameter as sent to the server: text, binary bytes (bytea), or NULL.
public enum PostgresValue: Sendable, Equatable {
    case text(String)
    case binary([UInt8])
    case null
}

/// Swift values usable as query parameters.
public protocol PostgresEncodable {
    var postgresValue: PostgresValue { get }
}

extension String: PostgresEncodable {
    public var postgresValue: PostgresValue { .text(self) }
}

extension Int: PostgresEncodable {
    public var postgresValue: PostgresValue { .text(String(self)) }
}

extension Int64: PostgresEncodable {
    public var postgresValue: PostgresValue { .text(String(self)) }
}

extension Bool: PostgresEncodable {
    public var postgresValue: PostgresValue { .text(self ? "true" : "false") }
}

extension Double: PostgresEncodable {
    public var postgresValue: PostgresValue { .text(String(self)) }
}

extension Array: PostgresEncodable where Element == String {
    /// A text[] literal; every element quoted, so no input can change the array's shape.
    public var postgresValue: PostgresValue { .text(PostgresArray.literal(self)) }
}

extension Optional: PostgresEncodable where Wrapped: PostgresEncodable {
    public var postgresValue: PostgresValue { self?.postgresValue ?? .null }
}

/// Bytes sent as binary (for bytea columns).
public struct Bytea: PostgresEncodable, Sendable, Equatable {
    public let bytes: [UInt8]
    public init(_ bytes: [UInt8]) { self.bytes = bytes }
    public var postgresValue: PostgresValue { .binary(bytes) }
}

/// A JSON document sent as text to a json/jsonb parameter.
public struct JSONText: PostgresEncodable, Sendable {
    public let text: String
    public init(_ text: String) { self.text = text }
    public var postgresValue: PostgresValue { .text(text) }
}

import Model
import Postgres

// Reading model values from query results (the session time zone is UTC, see Connection), and passing them as
// parameters.

/// A value read from its text by one of the model's parsers; a text it refuses is a decoding failure.
private func parsed<T>(_ bytes: UnsafeBufferPointer<UInt8>, _ parse: (String) -> T?) throws(DecodingFailure) -> T {
    guard let value = parse(String(decoding: bytes, as: UTF8.self)) else { throw DecodingFailure() }
    return value
}

extension Timestamp: PostgresDecodable {
    public init(postgresText bytes: UnsafeBufferPointer<UInt8>) throws(DecodingFailure) {
        self = try parsed(bytes) { Timestamp(parsing: $0) }
    }
}

extension Email: PostgresDecodable, PostgresEncodable {
    public init(postgresText bytes: UnsafeBufferPointer<UInt8>) throws(DecodingFailure) {
        self = try parsed(bytes) { Email($0) }
    }

    public var postgresValue: PostgresValue { .text(value) }
}

extension MonthKey: PostgresDecodable, PostgresEncodable {
    public init(postgresText bytes: UnsafeBufferPointer<UInt8>) throws(DecodingFailure) {
        self = try parsed(bytes) { MonthKey($0) }
    }

    public var postgresValue: PostgresValue { .text(description) }
}

extension CivilDate: PostgresDecodable, PostgresEncodable {
    public init(postgresText bytes: UnsafeBufferPointer<UInt8>) throws(DecodingFailure) {
        self = try parsed(bytes) { CivilDate($0) }
    }

    public var postgresValue: PostgresValue { .text(description) }
}

extension TokenStatus: PostgresDecodable {
    public init(postgresText bytes: UnsafeBufferPointer<UInt8>) throws(DecodingFailure) {
        self = try parsed(bytes) { TokenStatus(rawValue: $0) }
    }
}

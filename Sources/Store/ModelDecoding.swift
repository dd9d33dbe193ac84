import Model
import Postgres

// Reading model values from query results (the session time zone is UTC, see Connection).

extension Timestamp: PostgresDecodable {
    public init(postgresText bytes: UnsafeBufferPointer<UInt8>) throws(DecodingFailure) {
        guard let value = Timestamp(parsing: String(decoding: bytes, as: UTF8.self)) else { throw DecodingFailure() }
        self = value
    }
}

extension Email: PostgresDecodable {
    public init(postgresText bytes: UnsafeBufferPointer<UInt8>) throws(DecodingFailure) {
        guard let value = Email(String(decoding: bytes, as: UTF8.self)) else { throw DecodingFailure() }
        self = value
    }
}

extension MonthKey: PostgresDecodable {
    public init(postgresText bytes: UnsafeBufferPointer<UInt8>) throws(DecodingFailure) {
        guard let value = MonthKey(String(decoding: bytes, as: UTF8.self)) else { throw DecodingFailure() }
        self = value
    }
}

extension CivilDate: PostgresDecodable {
    public init(postgresText bytes: UnsafeBufferPointer<UInt8>) throws(DecodingFailure) {
        guard let value = CivilDate(String(decoding: bytes, as: UTF8.self)) else { throw DecodingFailure() }
        self = value
    }
}

extension TokenStatus: PostgresDecodable {
    public init(postgresText bytes: UnsafeBufferPointer<UInt8>) throws(DecodingFailure) {
        guard let value = TokenStatus(rawValue: String(decoding: bytes, as: UTF8.self)) else { throw DecodingFailure() }
        self = value
    }
}

extension Email: PostgresEncodable {
    public var postgresValue: PostgresValue { .text(value) }
}

extension MonthKey: PostgresEncodable {
    public var postgresValue: PostgresValue { .text(description) }
}

extension CivilDate: PostgresEncodable {
    public var postgresValue: PostgresValue { .text(description) }
}

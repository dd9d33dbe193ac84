import CPostgres

/// The rows of a finished command. Owns the libpq result and frees it when released.
public final class QueryResult {
    private let result: OpaquePointer
    public let rowCount: Int
    public let columnCount: Int

    init(_ result: OpaquePointer) {
        self.result = result
        rowCount = Int(PQntuples(result))
        columnCount = Int(PQnfields(result))
    }

    deinit { PQclear(result) }

    /// Rows affected by an INSERT, UPDATE or DELETE.
    public var affectedRows: Int {
        Int(String(cString: PQcmdTuples(result))) ?? 0
    }

    public var rows: Rows { Rows(result: self) }

    public subscript(row: Int) -> Row { Row(result: self, index: row) }

    public var first: Row? { rowCount > 0 ? Row(result: self, index: 0) : nil }

    /// The index of the column named `name`.
    public func column(named name: String) -> Int? {
        let index = PQfnumber(result, name)
        return index >= 0 ? Int(index) : nil
    }

    func isNull(row: Int, column: Int) -> Bool {
        PQgetisnull(result, Int32(row), Int32(column)) == 1
    }

    /// The raw text bytes of a value, valid while this result lives.
    func withBytes<R, E: Error>(row: Int, column: Int, _ body: (UnsafeBufferPointer<UInt8>) throws(E) -> R) throws(E) -> R {
        let length = Int(PQgetlength(result, Int32(row), Int32(column)))
        let pointer = UnsafeRawPointer(PQgetvalue(result, Int32(row), Int32(column))!)
        return try body(UnsafeBufferPointer(start: pointer.assumingMemoryBound(to: UInt8.self), count: length))
    }

    public struct Rows: Sequence {
        let result: QueryResult
        public func makeIterator() -> AnyIterator<Row> {
            var index = 0
            return AnyIterator {
                guard index < result.rowCount else { return nil }
                defer { index += 1 }
                return Row(result: result, index: index)
            }
        }
    }
}

/// One row; values are decoded by column index into Swift types.
public struct Row {
    let result: QueryResult
    public let index: Int

    public func isNull(_ column: Int) -> Bool {
        result.isNull(row: index, column: column)
    }

    /// The value at `column` as `T`; NULL is a decoding error (use the optional overload for nullable columns).
    public func decode<T: PostgresDecodable>(_ column: Int, as type: T.Type = T.self) throws(PostgresError) -> T {
        guard column >= 0 && column < result.columnCount else {
            throw .misuse("column \(column) out of range (\(result.columnCount) columns)")
        }
        guard !isNull(column) else { throw .decoding(column: column, expected: "\(T.self)", found: "NULL") }
        return try result.withBytes(row: index, column: column) { bytes throws(PostgresError) -> T in
            do {
                return try T(postgresText: bytes)
            } catch {
                throw .decoding(column: column, expected: "\(T.self)", found: String(decoding: bytes.prefix(40), as: UTF8.self))
            }
        }
    }

    /// The value at `column`, nil for NULL.
    public func decode<T: PostgresDecodable>(_ column: Int, as type: T?.Type = T?.self) throws(PostgresError) -> T? {
        guard column >= 0 && column < result.columnCount else {
            throw .misuse("column \(column) out of range (\(result.columnCount) columns)")
        }
        if isNull(column) { return nil }
        return try decode(column, as: T.self)
    }

    /// The length in bytes of a value's text (0 for NULL).
    public func byteCount(_ column: Int) -> Int {
        guard column >= 0 && column < result.columnCount, !isNull(column) else { return 0 }
        return result.withBytes(row: index, column: column) { $0.count }
    }

    /// Appends the raw text of a value to `buffer` without building a String (pre-rendered JSON).
    public func appendBytes(_ column: Int, to buffer: inout [UInt8]) {
        guard column >= 0 && column < result.columnCount, !isNull(column) else { return }
        result.withBytes(row: index, column: column) { buffer.append(contentsOf: $0) }
    }
}

/// One row; values are decoded by column position into Swift types (`NamedRow` decodes by name).
public struct Row {
    let result: QueryResult
    public let index: Int

    public func isNull(_ column: Int) -> Bool {
        result.isNull(row: index, column: column)
    }

    /// The value at `column` as `T`; NULL is a decoding error (use the optional overload for nullable columns).
    public func decode<T: PostgresDecodable>(_ column: Int, as type: T.Type = T.self) throws(PostgresError) -> T {
        try checkRange(column)
        guard !isNull(column) else {
            throw .decoding(column: result.columnName(column), expected: "\(T.self)", found: "NULL")
        }
        return try result.withBytes(row: index, column: column) { bytes throws(PostgresError) -> T in
            do {
                return try T(postgresText: bytes)
            } catch {
                throw .decoding(column: result.columnName(column), expected: "\(T.self)",
                                found: String(decoding: bytes.prefix(40), as: UTF8.self))
            }
        }
    }

    /// The value at `column`, nil for NULL.
    public func decode<T: PostgresDecodable>(_ column: Int, as type: T?.Type = T?.self) throws(PostgresError) -> T? {
        try checkRange(column)
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

    private func checkRange(_ column: Int) throws(PostgresError) {
        guard column >= 0 && column < result.columnCount else {
            throw .misuse("column \(column) out of range (\(result.columnCount) columns)")
        }
    }
}

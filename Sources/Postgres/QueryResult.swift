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

    public var rows: Rows { Rows(result: self) }

    public var first: Row? { rowCount > 0 ? Row(result: self, index: 0) : nil }

    /// The rows, their columns found by name once for the whole result (`Columns` names every column read).
    public func rows<Columns: ColumnSet>(named columns: Columns.Type) throws(PostgresError) -> NamedRows<Columns> {
        var positions: [Int] = []
        positions.reserveCapacity(Columns.allCases.count)
        for name in Columns.names {
            let index = PQfnumber(result, name)
            guard index >= 0 else { throw .misuse("the result has no column \(name)") }
            positions.append(Int(index))
        }
        return NamedRows(result: self, positions: positions)
    }

    /// The name of a column, for error messages.
    func columnName(_ column: Int) -> String {
        guard let name = PQfname(result, Int32(column)) else { return "#\(column)" }
        return String(cString: name)
    }

    func isNull(row: Int, column: Int) -> Bool {
        PQgetisnull(result, Int32(row), Int32(column)) == 1
    }

    /// The raw text bytes of a value, valid while this result lives.
    func withBytes<R, E: Error>(row: Int, column: Int, _ body: (UnsafeBufferPointer<UInt8>) throws(E) -> R) throws(E) -> R {
        let length = Int(PQgetlength(result, Int32(row), Int32(column)))
        // libpq returns "" (never NULL) for a NULL value or an empty text, for every row and column in range.
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

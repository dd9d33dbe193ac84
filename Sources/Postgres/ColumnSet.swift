import Synchronization

/// The columns a query reads by name: an enum with `Int` raw values whose cases spell the column names in
/// lowerCamelCase (`spotifyUserId` is the column `spotify_user_id`). A store writes its select list with
/// `selectList` and decodes with `NamedRow.decode(_:)`, so the list and the decoding cannot drift apart, and a
/// result's columns are found by name once (not per row).
public protocol ColumnSet: RawRepresentable, CaseIterable, Sendable where RawValue == Int, AllCases == [Self] {}

extension ColumnSet {
    /// The column names, in case order.
    public static var names: [String] { ColumnNameCache.names(of: Self.self) }

    /// `email, spotify_user_id, …` for a SELECT or RETURNING list.
    public static var selectList: String { names.joined(separator: ", ") }

    /// The column name of this case.
    public var name: String { Self.names[rawValue] }
}

/// Column names by enum type, derived once per type: a result looks them up by the type's identity instead of
/// reflecting on every query.
private enum ColumnNameCache {
    private static let cache = Mutex<[ObjectIdentifier: [String]]>([:])

    static func names<Columns: ColumnSet>(of type: Columns.Type) -> [String] {
        if let known = cache.withLock({ $0[ObjectIdentifier(type)] }) { return known }
        let names = Columns.allCases.map { snakeCase(String(describing: $0)) }
        cache.withLock { $0[ObjectIdentifier(type)] = names }
        return names
    }

    /// `spotifyUserId` → `spotify_user_id`.
    static func snakeCase(_ name: String) -> String {
        var out = ""
        for character in name {
            if character.isUppercase {
                out.append("_")
                out += character.lowercased()
            } else {
                out.append(character)
            }
        }
        return out
    }
}

/// The rows of a result, read by column name (positions looked up once, in `QueryResult.rows(named:)`).
public struct NamedRows<Columns: ColumnSet>: Sequence {
    let result: QueryResult
    let positions: [Int]

    public var first: NamedRow<Columns>? { result.first.map { NamedRow(row: $0, positions: positions) } }

    public var count: Int { result.rowCount }

    public func makeIterator() -> AnyIterator<NamedRow<Columns>> {
        let rows = result.rows.makeIterator()
        let positions = self.positions
        return AnyIterator { rows.next().map { NamedRow(row: $0, positions: positions) } }
    }
}

/// One row read by column name.
public struct NamedRow<Columns: ColumnSet> {
    public let row: Row
    let positions: [Int]

    public func decode<T: PostgresDecodable>(_ column: Columns, as type: T.Type = T.self) throws(PostgresError) -> T {
        try row.decode(positions[column.rawValue], as: T.self)
    }

    public func decode<T: PostgresDecodable>(_ column: Columns, as type: T?.Type = T?.self) throws(PostgresError) -> T? {
        try row.decode(positions[column.rawValue], as: T?.self)
    }

    public func isNull(_ column: Columns) -> Bool { row.isNull(positions[column.rawValue]) }
}

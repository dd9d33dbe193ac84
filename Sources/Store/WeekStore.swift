import JSON
import Model
import Postgres

/// Release radar weeks. The user's weeks revision is bumped by a trigger (sql/0007) whenever a week changes.
public struct WeekStore {
    private let database: Database

    public init(database: Database) {
        self.database = database
    }

    /// Whether the user is enrolled, whether any week is stored, and the revision of the weeks (nil: unknown user).
    public struct Summary: Sendable, Equatable {
        public var enrolled = false
        public var hasHistory = false
        public var weeksRevision: Int64?
    }

    enum Column: Int, ColumnSet {
        case weekKey, releases, artistCount, releaseCount, trackCount, albumCount, singleCount, playlistId, createdAt
    }

    private enum SQL {
        static let summary = PreparedStatement("""
            SELECT u.active AND u.active_release_radar, u.weeks_revision,
                   EXISTS (SELECT 1 FROM release_radar_weeks w WHERE w.email = u.email)
            FROM users u WHERE u.email = $1
            """)
        static let history = PreparedStatement("""
            SELECT \(Column.selectList) FROM release_radar_weeks WHERE email = $1 ORDER BY start_date DESC LIMIT $2
            """)
    }

    public func summary(_ email: Email) throws(StoreError) -> Summary {
        try database.read(SQL.summary, [email]) { result in
            guard let row = result.first else { return Summary() }
            return Summary(enrolled: try row.decode(0), hasHistory: try row.decode(2), weeksRevision: try row.decode(1))
        }
    }

    /// The newest `limit` weeks, newest first.
    public func history(_ email: Email, limit: Int) throws(StoreError) -> [RadarWeek] {
        try database.read(SQL.history, [email, limit]) { result in
            try result.rows(named: Column.self).map { row in try WeekStore.decodeWeek(row, email: email) }
        }
    }

    private static func decodeWeek(_ row: NamedRow<Column>, email: Email) throws -> RadarWeek {
        let key = try row.decode(.weekKey, as: String.self)
        guard let week = ReleaseWeek(key: key) else { throw StoreError.corrupt("week key \(key) of \(email)") }
        let releasesText = try row.decode(.releases, as: String.self)
        guard let releasesJSON = try? JSONParser.parse(releasesText), let items = releasesJSON.arrayValue else {
            throw StoreError.corrupt("releases of \(email) \(key): \(releasesText.prefix(40))")
        }
        let stats = WeekStats(artistCount: try row.decode(.artistCount), releaseCount: try row.decode(.releaseCount),
                              trackCount: try row.decode(.trackCount), albumCount: try row.decode(.albumCount),
                              singleCount: try row.decode(.singleCount))
        return RadarWeek(email: email, week: week, releases: items.compactMap(Release.init(json:)), stats: stats,
                         playlistID: try row.decode(.playlistId), createdAt: try row.decode(.createdAt))
    }
}

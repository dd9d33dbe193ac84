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
        static let save = PreparedStatement("""
            INSERT INTO release_radar_weeks AS w (email, week_key, start_date, end_date, releases, artist_count,
                release_count, track_count, album_count, single_count, playlist_id, created_at)
            VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7, $8, $9, $10, $11, to_timestamp($12))
            ON CONFLICT (email, week_key) DO UPDATE SET
                start_date = EXCLUDED.start_date, end_date = EXCLUDED.end_date, releases = EXCLUDED.releases,
                artist_count = EXCLUDED.artist_count, release_count = EXCLUDED.release_count,
                track_count = EXCLUDED.track_count, album_count = EXCLUDED.album_count,
                single_count = EXCLUDED.single_count, playlist_id = EXCLUDED.playlist_id, created_at = EXCLUDED.created_at
            WHERE (w.start_date, w.end_date, w.releases, w.artist_count, w.release_count, w.track_count, w.album_count,
                   w.single_count, w.playlist_id, w.created_at)
                  IS DISTINCT FROM
                  (EXCLUDED.start_date, EXCLUDED.end_date, EXCLUDED.releases, EXCLUDED.artist_count,
                   EXCLUDED.release_count, EXCLUDED.track_count, EXCLUDED.album_count, EXCLUDED.single_count,
                   EXCLUDED.playlist_id, EXCLUDED.created_at)
            RETURNING true
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

    /// Stores a week (replacing the stored one of the same key). Returns false when the stored week was already
    /// exactly this one (nothing written, its ETag unchanged).
    @discardableResult
    public func save(_ week: RadarWeek) throws(StoreError) -> Bool {
        try database.write(WeekStore.saveStatement, WeekStore.saveParameters(week)) { result in result.rowCount == 1 }
    }

    /// The statement of `save` (one row back when the week was written), shared with the importer (ImportStore).
    static var saveStatement: PreparedStatement { SQL.save }

    /// The row of a week as `save` writes it ($1…$12).
    static func saveParameters(_ week: RadarWeek) -> [any PostgresEncodable] {
        var writer = JSONWriter(capacity: 256 + 320 * week.releases.count)
        writer.beginArray()
        for release in week.releases { release.write(to: &writer) }
        writer.endArray()
        let stats = week.stats
        return [
            week.email, week.week.key, week.week.start, week.week.end, JSONText(String(decoding: writer.bytes, as: UTF8.self)),
            stats.artistCount, stats.releaseCount, stats.trackCount, stats.albumCount, stats.singleCount, week.playlistID,
            Int(week.createdAt.seconds),
        ]
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

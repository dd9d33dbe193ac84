import JSON
import Model
import Postgres

/// Release radar weeks as the API reads them.
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

    public func summary(_ email: Email) throws(StoreError) -> Summary {
        try database.run { connection throws(PostgresError) in
            guard let row = try connection.prepared("weeks_summary", """
                SELECT u.active AND u.active_release_radar, u.weeks_revision,
                       EXISTS (SELECT 1 FROM release_radar_weeks w WHERE w.email = u.email)
                FROM users u WHERE u.email = $1
                """, [email]).first else { return Summary() }
            return Summary(enrolled: try row.decode(0), hasHistory: try row.decode(2), weeksRevision: try row.decode(1))
        }
    }

    /// The newest `limit` weeks, newest first.
    public func history(_ email: Email, limit: Int) throws(StoreError) -> [RadarWeek] {
        try database.run { connection throws(PostgresError) in
            var weeks: [RadarWeek] = []
            for row in try connection.prepared("weeks_history", """
                SELECT week_key, releases::text, artist_count, release_count, track_count, album_count, single_count,
                       playlist_id, created_at
                FROM release_radar_weeks WHERE email = $1 ORDER BY start_date DESC LIMIT $2
                """, [email, limit]).rows {
                let key = try row.decode(0, as: String.self)
                guard let week = ReleaseWeek(key: key) else {
                    throw .decoding(column: 0, expected: "week key", found: key)
                }
                let releasesText = try row.decode(1, as: String.self)
                guard let releasesJSON = try? JSONParser.parse(releasesText), let items = releasesJSON.arrayValue else {
                    throw .decoding(column: 1, expected: "releases array", found: String(releasesText.prefix(40)))
                }
                let stats = WeekStats(artistCount: try row.decode(2), releaseCount: try row.decode(3),
                                      trackCount: try row.decode(4), albumCount: try row.decode(5),
                                      singleCount: try row.decode(6))
                weeks.append(RadarWeek(email: email, week: week, releases: items.compactMap(Release.init(json:)),
                                       stats: stats, playlistID: try row.decode(7), createdAt: try row.decode(8)))
            }
            return weeks
        }
    }
}

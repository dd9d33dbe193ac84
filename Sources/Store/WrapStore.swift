import JSON
import Model
import Postgres
import Text

/// Wraps. Each row keeps the wrap both as columns (for reporting and for the jobs) and as the API's JSON
/// (rendered here whenever the row is written), so reads concatenate stored JSON instead of building it.
/// The wrap's revision and the user's wraps revision are bumped by triggers (sql/0007) when the JSON changes.
public struct WrapStore {
    private let database: Database

    public init(database: Database) {
        self.database = database
    }

    /// The enrolment flags shown with the wraps, and the revision of the user's wraps (nil: unknown user).
    public struct Summary: Sendable, Equatable {
        public var active = false
        public var activeWrapped = false
        public var activeReleaseRadar = false
        public var wrapsRevision: Int64?
    }

    /// The columns of a stored wrap that a resumed job reads back.
    enum Column: Int, ColumnSet {
        case shortTermTrackIds, mediumTermTrackIds, longTermTrackIds, shortTermArtistIds, mediumTermArtistIds,
             longTermArtistIds, genreScores, playlistId, firstHalfPlaylistId, yearPlaylistId, createdAt
    }

    enum SQL {
        static let summary = PreparedStatement("""
            SELECT active, active_wrapped, active_release_radar, wraps_revision FROM users WHERE email = $1
            """)
        /// One row for the user (month_key NULL) and one per wrap, with no ORDER BY: sorting in PostgreSQL (a
        /// join followed by `ORDER BY month_key`) copies every ~5 KB api_json into sort memory, which cost about
        /// a third of PostgreSQL's time for this query (Benchmarks/README.md). The month keys are ordered here.
        static let summaryWithWraps = PreparedStatement("""
            SELECT active, active_wrapped, active_release_radar, wraps_revision, NULL::text, NULL::text
            FROM users WHERE email = $1
            UNION ALL
            SELECT NULL, NULL, NULL, NULL, month_key, api_json FROM wrapped_months WHERE email = $1
            """)
        static let monthJSON = PreparedStatement("SELECT api_json FROM wrapped_months WHERE email = $1 AND month_key = $2")
        static let monthRevision = PreparedStatement("""
            SELECT revision FROM wrapped_months WHERE email = $1 AND month_key = $2
            """)
        static let yearRevisions = PreparedStatement("""
            SELECT revision FROM wrapped_months WHERE email = $1 AND month_key LIKE $2 ORDER BY month_key DESC
            """)
        static let yearJSON = PreparedStatement("""
            SELECT api_json FROM wrapped_months WHERE email = $1 AND month_key LIKE $2 ORDER BY month_key DESC
            """)
        /// The upsert of a month's row with save's parameters, up to the columns it sets on a conflict besides
        /// the lists, genres and month playlist (the importer's upsert sets fewer: `ImportStore`).
        static let upsertHead = """
            INSERT INTO wrapped_months AS w (email, month_key, short_term_track_ids, medium_term_track_ids,
                long_term_track_ids, short_term_artist_ids, medium_term_artist_ids, long_term_artist_ids,
                genre_scores, playlist_id, first_half_playlist_id, year_playlist_id, created_at, api_json)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb, $10, $11, $12, to_timestamp($13), $14)
            ON CONFLICT (email, month_key) DO UPDATE SET
                short_term_track_ids = EXCLUDED.short_term_track_ids,
                medium_term_track_ids = EXCLUDED.medium_term_track_ids,
                long_term_track_ids = EXCLUDED.long_term_track_ids,
                short_term_artist_ids = EXCLUDED.short_term_artist_ids,
                medium_term_artist_ids = EXCLUDED.medium_term_artist_ids,
                long_term_artist_ids = EXCLUDED.long_term_artist_ids,
                genre_scores = EXCLUDED.genre_scores,
                playlist_id = EXCLUDED.playlist_id,
            """
        static let save = PreparedStatement("""
            \(upsertHead)
                first_half_playlist_id = EXCLUDED.first_half_playlist_id,
                year_playlist_id = EXCLUDED.year_playlist_id,
                created_at = EXCLUDED.created_at,
                api_json = EXCLUDED.api_json
            """)
        static let read = PreparedStatement("""
            SELECT \(Column.selectList) FROM wrapped_months WHERE email = $1 AND month_key = $2
            """)
    }

    public func summary(_ email: Email) throws(StoreError) -> Summary {
        try database.read(SQL.summary, [email]) { result in
            guard let row = result.first else { return Summary() }
            return Summary(active: try row.decode(0), activeWrapped: try row.decode(1),
                           activeReleaseRadar: try row.decode(2), wrapsRevision: try row.decode(3))
        }
    }

    /// The summary and every wrap, newest first, in one round trip.
    public func summaryWithWraps(_ email: Email) throws(StoreError) -> (Summary, WrapsJSON) {
        try database.read(SQL.summaryWithWraps, [email]) { result in
            var summaryRow: Row?
            var wraps: [(month: String, row: Row)] = []
            wraps.reserveCapacity(result.rowCount)
            for row in result.rows {
                if row.isNull(4) {
                    summaryRow = row
                } else {
                    wraps.append((try row.decode(4, as: String.self), row))
                }
            }
            guard let first = summaryRow else { return (Summary(), WrapsJSON(rows: [], column: 5)) }
            let summary = Summary(active: try first.decode(0), activeWrapped: try first.decode(1),
                                  activeReleaseRadar: try first.decode(2), wrapsRevision: try first.decode(3))
            wraps.sort { $0.month > $1.month }
            return (summary, WrapsJSON(rows: wraps.map(\.row), column: 5))
        }
    }

    /// The JSON of one wrap, nil when there is none.
    public func wrapJSON(_ email: Email, month: MonthKey) throws(StoreError) -> [UInt8]? {
        try database.read(SQL.monthJSON, [email, month]) { result in
            guard let row = result.first else { return nil }
            var bytes: [UInt8] = []
            row.appendBytes(0, to: &bytes)
            return bytes
        }
    }

    public func wrapRevision(_ email: Email, month: MonthKey) throws(StoreError) -> Int64? {
        try database.read(SQL.monthRevision, [email, month]) { result in try result.first?.decode(0, as: Int64.self) }
    }

    /// The revisions of a year's wraps, a fingerprint of that answer (ETag) without reading the wraps.
    public func yearRevisions(_ email: Email, year: Int) throws(StoreError) -> [Int64] {
        try database.read(SQL.yearRevisions, [email, WrapStore.yearPattern(year)]) { result in
            try result.rows.map { row in try row.decode(0, as: Int64.self) }
        }
    }

    /// A year's wraps, newest first.
    public func yearWraps(_ email: Email, year: Int) throws(StoreError) -> WrapsJSON {
        try database.read(SQL.yearJSON, [email, WrapStore.yearPattern(year)]) { result in
            WrapsJSON(rows: Array(result.rows), column: 0)
        }
    }

    private static func yearPattern(_ year: Int) -> String {
        ZeroPadding.pad(year, 4) + "-%"
    }

    // MARK: Writing (the wrapped job)

    /// Stores a wrap (replacing one for the same month).
    public func save(_ wrap: Wrap) throws(StoreError) {
        try database.write(SQL.save, WrapStore.saveParameters(wrap))
    }

    /// The row of a wrap as `save` writes it ($1…$14): its columns, the genre pairs in score order and the
    /// rendered API JSON. The importer writes wraps with the same parameters (ImportStore).
    static func saveParameters(_ wrap: Wrap) -> [any PostgresEncodable] {
        let api = String(decoding: wrap.apiJSON(), as: UTF8.self)
        let genres = WrapStore.genreScoresJSON(wrap.genres)
        return [
            wrap.email, wrap.month, wrap.topTrackIDs.shortTerm, wrap.topTrackIDs.mediumTerm, wrap.topTrackIDs.longTerm,
            wrap.topArtistIDs.shortTerm, wrap.topArtistIDs.mediumTerm, wrap.topArtistIDs.longTerm, JSONText(genres),
            wrap.playlistID, wrap.firstHalfPlaylistID, wrap.yearPlaylistID, Int(wrap.createdAt.seconds), api,
        ]
    }

    /// A stored wrap, read back from its columns (a resumed job continues from it).
    public func wrap(_ email: Email, month: MonthKey) throws(StoreError) -> Wrap? {
        try database.read(SQL.read, [email, month]) { result -> Wrap? in
            guard let row = try result.rows(named: Column.self).first else { return nil }
            let genresText = try row.decode(.genreScores, as: String.self)
            guard let genres = WrapStore.parseGenreScores(genresText) else {
                throw StoreError.corrupt("genre scores of \(email) \(month): \(genresText.prefix(40))")
            }
            return Wrap(email: email, month: month,
                        topTrackIDs: PerTimeRange(shortTerm: try row.decode(.shortTermTrackIds),
                                                  mediumTerm: try row.decode(.mediumTermTrackIds),
                                                  longTerm: try row.decode(.longTermTrackIds)),
                        topArtistIDs: PerTimeRange(shortTerm: try row.decode(.shortTermArtistIds),
                                                   mediumTerm: try row.decode(.mediumTermArtistIds),
                                                   longTerm: try row.decode(.longTermArtistIds)),
                        genres: genres, playlistID: try row.decode(.playlistId),
                        firstHalfPlaylistID: try row.decode(.firstHalfPlaylistId),
                        yearPlaylistID: try row.decode(.yearPlaylistId), createdAt: try row.decode(.createdAt))
        }
    }

    /// `{"short_term": [["pop", 40], ...], ...}`: pairs keep the score order that a jsonb object would lose.
    static func genreScoresJSON(_ genres: PerTimeRange<GenreScores>) -> String {
        var writer = JSONWriter()
        writer.beginObject()
        for range in TimeRange.allCases {
            writer.key(range.rawValue)
            writer.beginArray()
            for entry in genres[range].entries {
                writer.beginArray()
                writer.string(entry.genre)
                writer.int(entry.score)
                writer.endArray()
            }
            writer.endArray()
        }
        writer.endObject()
        return String(decoding: writer.bytes, as: UTF8.self)
    }

    static func parseGenreScores(_ text: String) -> PerTimeRange<GenreScores>? {
        guard let json = try? JSONParser.parse(text) else { return nil }
        var result = PerTimeRange<GenreScores>(shortTerm: .empty, mediumTerm: .empty, longTerm: .empty)
        for range in TimeRange.allCases {
            guard let pairs = json[range.rawValue].arrayValue else { return nil }
            var entries: [GenreScores.Entry] = []
            for pair in pairs {
                guard let items = pair.arrayValue, items.count == 2, let genre = items[0].stringValue,
                      let score = items[1].intValue else { return nil }
                entries.append(.init(genre: genre, score: score))
            }
            result[range] = GenreScores(entries: entries)
        }
        return result
    }
}

/// Wraps as the API returns them, still in the query's memory: the JSON array they make is written straight
/// into the caller's buffer, whose exact size is known before (a 24-month answer is about 125 KB; copying it or
/// growing a buffer for it costs more than reading it).
public struct WrapsJSON {
    fileprivate let rows: [Row]
    fileprivate let column: Int

    fileprivate init(rows: [Row], column: Int) {
        self.rows = rows
        self.column = column
    }

    public var count: Int { rows.count }

    /// The size of `[wrap,wrap,…]` in bytes.
    public var byteCount: Int {
        rows.reduce(2 + max(rows.count - 1, 0)) { $0 + $1.byteCount(column) }
    }

    /// Appends `[wrap,wrap,…]`.
    public func append(to buffer: inout [UInt8]) {
        buffer.append(UInt8(ascii: "["))
        for (index, row) in rows.enumerated() {
            if index > 0 { buffer.append(UInt8(ascii: ",")) }
            row.appendBytes(column, to: &buffer)
        }
        buffer.append(UInt8(ascii: "]"))
    }
}

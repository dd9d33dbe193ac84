import Postgres

/// Names of Spotify artists and tracks, kept for the psql reports (`reporting.monthly_top_artists`,
/// `reporting.monthly_top_tracks`). Filled from answers the jobs receive anyway: no request is made for a name.
public struct NameStore {
    private let database: Database

    public init(database: Database) {
        self.database = database
    }

    /// An artist or a track and its name.
    public struct Named: Sendable, Hashable {
        public let id: String
        public let name: String

        public init(id: String, name: String) {
            self.id = id
            self.name = name
        }
    }

    private enum SQL {
        /// Upserts (kind, id, name) triples; a name that did not change is not rewritten. Rows are taken in key
        /// order, so two runners upserting overlapping names lock them in the same order and never deadlock.
        static let remember = PreparedStatement("""
            INSERT INTO spotify_names AS n (kind, id, name)
            SELECT * FROM unnest($1::text[], $2::text[], $3::text[]) ORDER BY 1, 2
            ON CONFLICT (kind, id) DO UPDATE SET name = EXCLUDED.name, seen_at = now()
            WHERE n.name IS DISTINCT FROM EXCLUDED.name
            """)
    }

    /// Remembers the names of these artists and tracks (empty names are skipped).
    public func remember(artists: [Named], tracks: [Named]) throws(StoreError) {
        var kinds: [String] = [], ids: [String] = [], names: [String] = []
        var seen = Set<String>()
        for (kind, items) in [("artist", artists), ("track", tracks)] {
            for item in items where !item.name.isEmpty && seen.insert(kind + ":" + item.id).inserted {
                kinds.append(kind)
                ids.append(item.id)
                names.append(String(item.name.prefix(512)))
            }
        }
        guard !ids.isEmpty else { return }
        try database.write(SQL.remember, [kinds, ids, names])
    }
}

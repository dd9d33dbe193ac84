import JSON
import Model
import Postgres

/// The release radar's shared Spotify catalogue cache (sql/0008): per artist and week what a scan found, per
/// release its tracks, the claims that keep two runners from fetching the same thing at once, and what an
/// interrupted fetch had already received (sql/0009).
public struct CatalogueStore {
    private let database: Database

    public init(database: Database) {
        self.database = database
    }

    /// What part of an artist's listing a scan covers.
    public enum Scope: String, Sendable, CaseIterable {
        /// The artist's own albums and singles.
        case own
        /// The releases they appear on, and compilations (scanned for users who follow them with appears_on).
        case features
    }

    /// The result of one artist's scan for one week: the releases dated in it, and the requests it cost.
    public struct ArtistScan: Sendable, Equatable {
        public var artistID: String
        public var scope: Scope
        public var releases: [CatalogueRelease]
        public var requests: Int

        public init(artistID: String, scope: Scope, releases: [CatalogueRelease], requests: Int) {
            self.artistID = artistID
            self.scope = scope
            self.releases = releases
            self.requests = requests
        }
    }

    /// Something a runner means to fetch from Spotify.
    public enum Fetch: Sendable, Hashable {
        case artist(String, Scope, week: String)
        case album(String)

        var kind: String {
            switch self {
            case .artist(_, .own, _): return "artist_own"
            case .artist(_, .features, _): return "artist_features"
            case .album: return "album"
            }
        }

        var key: String {
            switch self {
            case .artist(let id, _, let week): return id + "/" + week
            case .album(let id): return id
            }
        }
    }

    /// Whether this runner may fetch something.
    public enum Claim: Sendable, Equatable {
        /// It is this runner's to fetch (until its lease runs out); `received` is what an interrupted fetch of it
        /// had already got, to go on from.
        case mine(received: JSON?)
        /// Another runner is fetching it; wait for the cache.
        case heldByAnother
    }

    private enum SQL {
        static let scans = PreparedStatement("""
            SELECT artist_id, scope, releases::text, requests FROM artist_week_releases
            WHERE week_key = $1 AND artist_id = ANY ($2::text[])
            """)
        static let saveScan = PreparedStatement("""
            INSERT INTO artist_week_releases (artist_id, week_key, scope, releases, requests)
            VALUES ($1, $2, $3, $4::jsonb, $5)
            ON CONFLICT (artist_id, week_key, scope) DO NOTHING
            """)
        static let tracks = PreparedStatement("""
            SELECT album_id, tracks::text FROM album_tracks WHERE album_id = ANY ($1::text[])
            """)
        static let saveTracks = PreparedStatement("""
            INSERT INTO album_tracks (album_id, tracks) VALUES ($1, $2::jsonb) ON CONFLICT (album_id) DO NOTHING
            """)
        /// Takes the claim when it is free or its holder's lease ran out; one row: the holder when it is this run
        /// (else NULL), and in the same round trip what an interrupted fetch kept (almost always nothing).
        static let claim = PreparedStatement("""
            WITH taken AS (
                INSERT INTO catalogue_claims AS c (kind, key, claimed_by, lease_until)
                VALUES ($1, $2, $3, now() + make_interval(secs => $4))
                ON CONFLICT (kind, key) DO UPDATE SET claimed_by = EXCLUDED.claimed_by, lease_until = EXCLUDED.lease_until
                WHERE c.lease_until < now() OR c.claimed_by = EXCLUDED.claimed_by
                RETURNING claimed_by)
            SELECT (SELECT claimed_by FROM taken),
                   (SELECT received::text FROM catalogue_partial_fetches WHERE kind = $1 AND key = $2)
            """)
        static let keepPartial = PreparedStatement("""
            INSERT INTO catalogue_partial_fetches (kind, key, received) VALUES ($1, $2, $3::jsonb)
            ON CONFLICT (kind, key) DO UPDATE SET received = EXCLUDED.received, saved_at = now()
            """)
        /// Kept pages older than a week belong to weeks no run will scan again (or to releases nobody follows now).
        static let forgetOldPartials = PreparedStatement("""
            DELETE FROM catalogue_partial_fetches WHERE saved_at < now() - interval '8 days'
            """)
        static let dropPartial = PreparedStatement("DELETE FROM catalogue_partial_fetches WHERE kind = $1 AND key = $2")
        static let release = PreparedStatement("DELETE FROM catalogue_claims WHERE kind = $1 AND key = $2 AND claimed_by = $3")
    }

    /// The cached scans of these artists for a week (each artist may have an `own` and a `features` scan).
    public func scans(week: String, artists: [String]) throws(StoreError) -> [ArtistScan] {
        guard !artists.isEmpty else { return [] }
        return try database.read(SQL.scans, [week, artists]) { result in
            try result.rows.map { row in
                let scope = try row.decode(1, as: String.self)
                guard let scope = Scope(rawValue: scope) else { throw StoreError.corrupt("scan scope \(scope)") }
                let text = try row.decode(2, as: String.self)
                guard let items = (try? JSONParser.parse(text))?.arrayValue else {
                    throw StoreError.corrupt("cached releases of \(try row.decode(0, as: String.self))")
                }
                return ArtistScan(artistID: try row.decode(0), scope: scope,
                                  releases: items.compactMap(CatalogueRelease.init(json:)), requests: try row.decode(3))
            }
        }
    }

    /// The cached tracks of these releases, by release id.
    public func tracks(albums: [String]) throws(StoreError) -> [String: [CatalogueTrack]] {
        guard !albums.isEmpty else { return [:] }
        return try database.read(SQL.tracks, [albums]) { result in
            var found: [String: [CatalogueTrack]] = [:]
            for row in result.rows {
                let id = try row.decode(0, as: String.self)
                guard let items = (try? JSONParser.parse(try row.decode(1, as: String.self)))?.arrayValue else {
                    throw StoreError.corrupt("cached tracks of \(id)")
                }
                found[id] = items.compactMap(CatalogueTrack.init(json:))
            }
            return found
        }
    }

    /// Claims `fetch` for `run` for `leaseSeconds`.
    public func claim(_ fetch: Fetch, run: JobStore.Run, leaseSeconds: Int) throws(StoreError) -> Claim {
        try database.write(SQL.claim, [fetch.kind, fetch.key, run.id, leaseSeconds]) { result in
            guard let row = result.first, !row.isNull(0) else { return .heldByAnother }
            guard let text = try row.decode(1, as: String?.self) else { return .mine(received: nil) }
            // Kept pages that do not parse are only a lost saving: fetch from the start.
            return .mine(received: try? JSONParser.parse(text))
        }
    }

    /// Keeps what an interrupted fetch received (the text of a JSON object of the fetcher's making), for the next
    /// claimant.
    public func keepPartial(_ fetch: Fetch, receivedJSON: String) throws(StoreError) {
        try database.transaction { connection in
            try connection.execute(SQL.keepPartial, [fetch.kind, fetch.key, JSONText(receivedJSON)])
            try connection.execute(SQL.forgetOldPartials)
        }
    }

    /// Stores an artist's scan and drops the claim, together (and the kept pages it went on from, if any). A scan
    /// already stored (by a runner whose lease ran out meanwhile) is kept: both saw the same listing.
    public func save(_ scan: ArtistScan, week: String, run: JobStore.Run?, resumed: Bool = false) throws(StoreError) {
        var writer = JSONWriter(capacity: 256 + 512 * scan.releases.count)
        writer.beginArray()
        for release in scan.releases { release.write(to: &writer) }
        writer.endArray()
        let json = JSONText(String(decoding: writer.bytes, as: UTF8.self))
        let fetch = Fetch.artist(scan.artistID, scan.scope, week: week)
        try database.transaction { connection in
            try connection.execute(SQL.saveScan, [scan.artistID, week, scan.scope.rawValue, json, scan.requests])
            if resumed { try connection.execute(SQL.dropPartial, [fetch.kind, fetch.key]) }
            if let run { try connection.execute(SQL.release, [fetch.kind, fetch.key, run.id]) }
        }
    }

    /// Stores a release's tracks and drops the claim, together (and the kept pages it went on from, if any).
    public func save(tracks: [CatalogueTrack], album: String, run: JobStore.Run?,
                     resumed: Bool = false) throws(StoreError) {
        var writer = JSONWriter(capacity: 64 + 160 * tracks.count)
        writer.beginArray()
        for track in tracks { track.write(to: &writer) }
        writer.endArray()
        let json = JSONText(String(decoding: writer.bytes, as: UTF8.self))
        let fetch = Fetch.album(album)
        try database.transaction { connection in
            try connection.execute(SQL.saveTracks, [album, json])
            if resumed { try connection.execute(SQL.dropPartial, [fetch.kind, fetch.key]) }
            if let run { try connection.execute(SQL.release, [fetch.kind, fetch.key, run.id]) }
        }
    }
}

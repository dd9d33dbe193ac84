import Crypto
import Model
import Postgres

/// What the importer writes (SPEC §13): users, wraps and weeks read from the old system's DynamoDB tables, in
/// batches of one transaction each. Idempotent: a row already as the export has it is not written at all (users
/// compared here, refresh tokens by their plaintext; wraps and weeks by `WHERE … IS DISTINCT FROM …`), so a
/// second import moves no revision, no `updated_at` and no ETag. Revisions are the triggers' (sql/0007).
/// Wraps and weeks are written with the parameters WrapStore.save and WeekStore.save write, so imported rows are
/// the rows the jobs would have written.
public struct ImportStore {
    private let database: Database
    private let keys: TokenKeyRing

    public init(database: Database, keys: TokenKeyRing) {
        self.database = database
        self.keys = keys
    }

    /// A user of the old users table. Fields left `.keep` (attributes the item does not have) keep their stored
    /// value, or their default for a new user; a refresh token is only ever added or replaced, never removed.
    public struct ImportedUser: Sendable, CustomStringConvertible {
        public var email: Email
        public var spotifyUserID: FieldUpdate<String> = .keep
        public var displayName: FieldUpdate<String> = .keep
        public var avatarURL: FieldUpdate<String> = .keep
        public var releaseRadarPlaylistID: FieldUpdate<String> = .keep
        public var active: Bool?
        public var activeWrapped: Bool?
        public var activeReleaseRadar: Bool?
        /// In plaintext, as DynamoDB held it: sealed here before it is stored.
        public var refreshToken: String?
        /// For a new row's `created_at` and `updated_at` (now when nil).
        public var createdAt: Timestamp?
        public var updatedAt: Timestamp?

        public init(email: Email) {
            self.email = email
        }

        /// Never the token: a user printed by mistake does not leak it.
        public var description: String { "ImportedUser(\(email), token: \(refreshToken == nil ? "none" : "present"))" }
    }

    public enum Record: Sendable {
        case user(ImportedUser)
        case wrap(Wrap)
        case week(RadarWeek)
    }

    public enum Outcome: Sendable, Equatable {
        /// Inserted, or an existing row changed to the export's values.
        case imported
        /// The row was already exactly this: nothing written.
        case unchanged
    }

    /// Writes `records` in one transaction, or, for a dry run, runs the very same statements in a transaction
    /// that is rolled back (so a dry run finds what the real run would, database refusals included). A refusal
    /// of any record fails the whole batch; the caller then writes its records one by one to find it.
    public func write(_ records: [Record], dryRun: Bool) throws(StoreError) -> [Outcome] {
        let body = { (connection: Connection) throws -> [Outcome] in
            var outcomes: [Outcome] = []
            outcomes.reserveCapacity(records.count)
            for record in records {
                switch record {
                case .user(let user): outcomes.append(try self.write(user, on: connection))
                case .wrap(let wrap):
                    let written = try connection.execute(SQL.upsertWrap, WrapStore.saveParameters(wrap)).rowCount == 1
                    outcomes.append(written ? .imported : .unchanged)
                case .week(let week):
                    let written = try connection.execute(WeekStore.saveStatement, WeekStore.saveParameters(week)).rowCount == 1
                    outcomes.append(written ? .imported : .unchanged)
                }
            }
            return outcomes
        }
        return dryRun ? try database.rolledBack(body) : try database.transaction(body)
    }

    /// Whether a user row exists (history may only be imported for one).
    public func userExists(_ email: Email) throws(StoreError) -> Bool {
        try database.read(SQL.userExists, [email]) { result in result.rowCount == 1 }
    }

    /// Rows per table, for the summary and for checking an import with psql's help.
    public func rowCounts() throws(StoreError) -> (users: Int, wraps: Int, weeks: Int) {
        try database.read(SQL.counts) { result in
            guard let row = result.first else { throw StoreError.fault("the counts query returned no row") }
            return (try row.decode(0), try row.decode(1), try row.decode(2))
        }
    }

    // MARK: Users

    /// The columns of a user row that the import sets.
    private struct UserColumns: Equatable {
        var spotifyUserID: String?
        var displayName: String?
        var avatarURL: String?
        var ciphertext: [UInt8]?
        var active = false
        var activeWrapped = false
        var activeReleaseRadar = false
        var releaseRadarPlaylistID: String?
        var tokenState = TokenStatus.missing.rawValue
        var tokenStateReason: String?
    }

    private enum Column: Int, ColumnSet {
        case spotifyUserId, displayName, avatarUrl, refreshTokenCiphertext, active, activeWrapped, activeReleaseRadar,
             releaseRadarPlaylistId, tokenState, tokenStateReason
    }

    private func write(_ user: ImportedUser, on connection: Connection) throws -> Outcome {
        let stored = try connection.execute(SQL.lockUser, [user.email]).rows(named: Column.self).first.map { row in
            UserColumns(spotifyUserID: try row.decode(.spotifyUserId), displayName: try row.decode(.displayName),
                        avatarURL: try row.decode(.avatarUrl),
                        ciphertext: try row.decode(.refreshTokenCiphertext, as: Bytea?.self)?.bytes,
                        active: try row.decode(.active), activeWrapped: try row.decode(.activeWrapped),
                        activeReleaseRadar: try row.decode(.activeReleaseRadar),
                        releaseRadarPlaylistID: try row.decode(.releaseRadarPlaylistId),
                        tokenState: try row.decode(.tokenState), tokenStateReason: try row.decode(.tokenStateReason))
        }
        let merged = try merge(user, into: stored ?? UserColumns())
        guard let stored else {
            try connection.execute(SQL.insertUser, [
                user.email, merged.spotifyUserID, merged.displayName, merged.avatarURL, merged.ciphertext.map(Bytea.init),
                merged.active, merged.activeWrapped, merged.activeReleaseRadar, merged.releaseRadarPlaylistID,
                merged.tokenState, (user.createdAt ?? user.updatedAt).map { Int($0.seconds) },
                (user.updatedAt ?? user.createdAt).map { Int($0.seconds) },
            ])
            return .imported
        }
        if merged == stored { return .unchanged }
        let tokenChanged = merged.ciphertext != stored.ciphertext || merged.tokenState != stored.tokenState
        let updated = try connection.execute(SQL.updateUser, [
            user.email, merged.spotifyUserID, merged.displayName, merged.avatarURL, merged.ciphertext.map(Bytea.init),
            merged.active, merged.activeWrapped, merged.activeReleaseRadar, merged.releaseRadarPlaylistID,
            merged.tokenState, merged.tokenStateReason, tokenChanged,
        ]).rowCount
        return updated == 1 ? .imported : .unchanged
    }

    /// The row the export asks for. A token equal to the stored one keeps its ciphertext (sealing it again
    /// would change the row with every import, a random nonce each time).
    private func merge(_ user: ImportedUser, into stored: UserColumns) throws -> UserColumns {
        var row = stored
        if case .set(let value) = user.spotifyUserID { row.spotifyUserID = value }
        if case .set(let value) = user.displayName { row.displayName = value }
        if case .set(let value) = user.avatarURL { row.avatarURL = value }
        if case .set(let value) = user.releaseRadarPlaylistID { row.releaseRadarPlaylistID = value }
        row.active = user.active ?? stored.active
        row.activeWrapped = user.activeWrapped ?? stored.activeWrapped
        row.activeReleaseRadar = user.activeReleaseRadar ?? stored.activeReleaseRadar
        if let token = user.refreshToken {
            let same = stored.ciphertext.flatMap { try? keys.open($0, email: user.email.value) } == token
            if !same {
                do { row.ciphertext = try keys.seal(token, email: user.email.value) } catch {
                    throw StoreError.fault("cannot encrypt the refresh token of \(user.email): \(error)")
                }
            }
            row.tokenState = TokenStatus.ok.rawValue
            row.tokenStateReason = nil
        }
        return row
    }

    // MARK: Statements

    private enum SQL {
        static let userExists = PreparedStatement("SELECT 1 FROM users WHERE email = $1")
        static let counts = PreparedStatement("""
            SELECT (SELECT count(*) FROM users), (SELECT count(*) FROM wrapped_months),
                   (SELECT count(*) FROM release_radar_weeks)
            """)
        static let lockUser = PreparedStatement("""
            SELECT \(Column.selectList) FROM users WHERE email = $1 FOR UPDATE
            """)
        static let insertUser = PreparedStatement("""
            INSERT INTO users (email, spotify_user_id, display_name, avatar_url, refresh_token_ciphertext, active,
                               active_wrapped, active_release_radar, release_radar_playlist_id, token_state,
                               token_state_at, created_at, updated_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::text, CASE WHEN $10::text = 'ok' THEN now() END,
                    coalesce(to_timestamp($11::bigint), now()), coalesce(to_timestamp($12::bigint), now()))
            """)
        /// Guarded as every import statement is: a row already equal is not touched (its updated_at and
        /// revision stay). updated_at and the revision are left to the trigger.
        static let updateUser = PreparedStatement("""
            UPDATE users SET spotify_user_id = $2, display_name = $3, avatar_url = $4, refresh_token_ciphertext = $5,
                             active = $6, active_wrapped = $7, active_release_radar = $8,
                             release_radar_playlist_id = $9, token_state = $10, token_state_reason = $11,
                             token_state_at = CASE WHEN $12 THEN now() ELSE token_state_at END
            WHERE email = $1
              AND (spotify_user_id, display_name, avatar_url, refresh_token_ciphertext, active, active_wrapped,
                   active_release_radar, release_radar_playlist_id, token_state, token_state_reason)
                  IS DISTINCT FROM
                  ($2::text, $3::text, $4::text, $5::bytea, $6::boolean, $7::boolean, $8::boolean, $9::text, $10::text,
                   $11::text)
            RETURNING true
            """)
        /// WrapStore.save's statement and parameters, guarded, and leaving alone the half-year and year playlist
        /// ids, which the old system never had (a row the new job already completed keeps them).
        static let upsertWrap = PreparedStatement("""
            \(WrapStore.SQL.upsertHead)
                created_at = EXCLUDED.created_at,
                api_json = EXCLUDED.api_json
            WHERE (w.short_term_track_ids, w.medium_term_track_ids, w.long_term_track_ids, w.short_term_artist_ids,
                   w.medium_term_artist_ids, w.long_term_artist_ids, w.genre_scores, w.playlist_id, w.created_at,
                   w.api_json)
                  IS DISTINCT FROM
                  (EXCLUDED.short_term_track_ids, EXCLUDED.medium_term_track_ids, EXCLUDED.long_term_track_ids,
                   EXCLUDED.short_term_artist_ids, EXCLUDED.medium_term_artist_ids, EXCLUDED.long_term_artist_ids,
                   EXCLUDED.genre_scores, EXCLUDED.playlist_id, EXCLUDED.created_at, EXCLUDED.api_json)
            RETURNING true
            """)
    }
}

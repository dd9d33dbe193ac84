import Crypto
import Model
import Postgres

/// Users and their refresh tokens. The only code that encrypts or decrypts a refresh token. Revisions and
/// `updated_at` are kept by the `users` trigger (sql/0007), not by these statements.
public struct UserStore {
    private let database: Database
    private let keys: TokenKeyRing

    public init(database: Database, keys: TokenKeyRing) {
        self.database = database
        self.keys = keys
    }

    /// The columns of the user object.
    enum Column: Int, ColumnSet {
        case email, spotifyUserId, displayName, avatarUrl, active, activeWrapped, activeReleaseRadar,
             releaseRadarPlaylistId, tokenState, revision, createdAt, updatedAt
    }

    static func decodeUser(_ row: NamedRow<Column>) throws(PostgresError) -> User {
        User(email: try row.decode(.email), spotifyUserID: try row.decode(.spotifyUserId),
             displayName: try row.decode(.displayName), avatarURL: try row.decode(.avatarUrl),
             active: try row.decode(.active), activeWrapped: try row.decode(.activeWrapped),
             activeReleaseRadar: try row.decode(.activeReleaseRadar),
             releaseRadarPlaylistID: try row.decode(.releaseRadarPlaylistId), tokenStatus: try row.decode(.tokenState),
             revision: try row.decode(.revision), createdAt: try row.decode(.createdAt), updatedAt: try row.decode(.updatedAt))
    }

    /// The first user of a result, if any.
    private static func firstUser(_ result: QueryResult) throws -> User? {
        try result.rows(named: Column.self).first.map(decodeUser)
    }

    private enum SQL {
        static let byEmail = PreparedStatement("SELECT \(Column.selectList) FROM users WHERE email = $1")
        static let bySpotifyID = PreparedStatement("SELECT \(Column.selectList) FROM users WHERE spotify_user_id = $1")
        static let revision = PreparedStatement("SELECT revision FROM users WHERE email = $1")
        static let enrol = PreparedStatement("""
            INSERT INTO users AS u (email, spotify_user_id, refresh_token_ciphertext, display_name, avatar_url,
                                    release_radar_playlist_id, active, active_wrapped, active_release_radar,
                                    token_state, token_state_at)
            VALUES ($1, $2, $3, $4, $5, $6, true, coalesce($7, false), coalesce($8, false), 'ok', now())
            ON CONFLICT (email) DO UPDATE SET
                spotify_user_id = EXCLUDED.spotify_user_id,
                refresh_token_ciphertext = EXCLUDED.refresh_token_ciphertext,
                display_name = CASE WHEN $9 THEN EXCLUDED.display_name ELSE u.display_name END,
                avatar_url = CASE WHEN $10 THEN EXCLUDED.avatar_url ELSE u.avatar_url END,
                release_radar_playlist_id = CASE WHEN $11 THEN EXCLUDED.release_radar_playlist_id
                                                 ELSE u.release_radar_playlist_id END,
                active = true,
                active_wrapped = coalesce($7, u.active_wrapped),
                active_release_radar = coalesce($8, u.active_release_radar),
                token_state = 'ok', token_state_reason = NULL, token_state_at = now(), updated_at = now()
            WHERE NOT $12 OR u.spotify_user_id IS NULL OR u.spotify_user_id = EXCLUDED.spotify_user_id
            RETURNING \(Column.selectList)
            """)
        static let binding = PreparedStatement("""
            SELECT spotify_user_id, refresh_token_ciphertext FROM users WHERE email = $1
            """)
        static let setEnrolment = PreparedStatement("""
            UPDATE users SET active_wrapped = coalesce($2, active_wrapped),
                             active_release_radar = coalesce($3, active_release_radar), updated_at = now()
            WHERE email = $1
            RETURNING \(Column.selectList)
            """)
        static let createForLogin = PreparedStatement("""
            INSERT INTO users AS u (email, spotify_user_id, display_name)
            VALUES ($1, $2, $3)
            ON CONFLICT (email) DO UPDATE SET
                spotify_user_id = EXCLUDED.spotify_user_id,
                display_name = coalesce(u.display_name, EXCLUDED.display_name),
                updated_at = now()
            WHERE u.spotify_user_id IS NULL OR u.spotify_user_id = EXCLUDED.spotify_user_id
            RETURNING \(Column.selectList)
            """)
        static let token = PreparedStatement("SELECT refresh_token_ciphertext FROM users WHERE email = $1")
        static let replaceToken = PreparedStatement("UPDATE users SET refresh_token_ciphertext = $2 WHERE email = $1")
        static let needsReauth = PreparedStatement("""
            UPDATE users SET token_state = 'needs_reauth', token_state_reason = $2, token_state_at = now(),
                             refresh_token_ciphertext = NULL
            WHERE email = $1
            """)
        static let touch = PreparedStatement("UPDATE users SET updated_at = now() WHERE email = $1")
        static let releaseRadarSettings = PreparedStatement("""
            SELECT release_radar_playlist_id, release_radar_appears_on FROM users WHERE email = $1
            """)
        static let setReleaseRadarPlaylist = PreparedStatement("""
            UPDATE users SET release_radar_playlist_id = $2 WHERE email = $1
            """)
    }

    public func user(_ email: Email) throws(StoreError) -> User? {
        try database.read(SQL.byEmail, [email], UserStore.firstUser)
    }

    public func user(spotifyID: String) throws(StoreError) -> User? {
        try database.read(SQL.bySpotifyID, [spotifyID], UserStore.firstUser)
    }

    /// The revision of a user row (its ETag), nil for an unknown user.
    public func revision(_ email: Email) throws(StoreError) -> Int64? {
        try database.read(SQL.revision, [email]) { result in try result.first?.decode(0, as: Int64.self) }
    }

    /// What a client posts to enrol or refresh its token, and which enrolment flags to set. Fields left as
    /// `.keep` (or nil flags) keep their stored value.
    public struct Enrolment: Sendable {
        public var userID: String
        public var refreshToken: String
        public var displayName: FieldUpdate<String> = .keep
        public var avatarURL: FieldUpdate<String> = .keep
        public var releaseRadarPlaylistID: FieldUpdate<String> = .keep
        public var wrapped: Bool?
        public var releaseRadar: Bool?
        /// When true, a row bound to another Spotify id is left as it is and `enrol` throws `.conflict` (a write
        /// under the legacy shared token may not rebind a row, SPEC §5.1). The check is part of the statement,
        /// so a row created or rebound since the caller looked is refused too.
        public var refuseRebinding = false

        public init(userID: String, refreshToken: String) {
            self.userID = userID
            self.refreshToken = refreshToken
        }
    }

    /// Creates or updates a user with a new refresh token (stored encrypted) in one statement: marks the account
    /// active, clears `needs_reauth`, and sets only the flags and fields given. `.conflict` when the Spotify id
    /// belongs to another email, or (with `refuseRebinding`) when the row is bound to another Spotify id.
    public func enrol(_ email: Email, _ enrolment: Enrolment) throws(StoreError) -> User {
        let ciphertext = try seal(enrolment.refreshToken, for: email)
        let user = try database.write(SQL.enrol, [
            email, enrolment.userID, Bytea(ciphertext), enrolment.displayName.value, enrolment.avatarURL.value,
            enrolment.releaseRadarPlaylistID.value, enrolment.wrapped, enrolment.releaseRadar,
            enrolment.displayName.isSet, enrolment.avatarURL.isSet, enrolment.releaseRadarPlaylistID.isSet,
            enrolment.refuseRebinding,
        ], UserStore.firstUser)
        guard let user else {
            guard enrolment.refuseRebinding else { throw .fault("the enrolment upsert returned no row") }
            throw .conflict("\(email) is bound to another Spotify account")
        }
        return user
    }

    /// What a row is bound to, as a write under the legacy shared token is checked against it (SPEC §5.1).
    public struct Binding: Sendable, Equatable {
        /// The row's Spotify id; nil when it has none yet.
        public let spotifyUserID: String?
        /// True when the refresh token offered is the one stored (compared after decrypting, in constant time).
        /// False when none is stored, or when the stored one does not decrypt (the offered token then has to be
        /// confirmed like any new one).
        public let holdsStoredRefreshToken: Bool

        public init(spotifyUserID: String?, holdsStoredRefreshToken: Bool) {
            self.spotifyUserID = spotifyUserID
            self.holdsStoredRefreshToken = holdsStoredRefreshToken
        }
    }

    /// The binding of `email`'s row, with `refreshToken` compared to the stored one; nil when there is no row.
    /// The plaintext never leaves the store.
    public func binding(_ email: Email, offering refreshToken: String) throws(StoreError) -> Binding? {
        let row = try database.read(SQL.binding, [email]) { result in
            try result.first.map { row in (try row.decode(0, as: String?.self), try row.decode(1, as: Bytea?.self)) }
        }
        guard let (spotifyUserID, stored) = row else { return nil }
        var holds = false
        if let stored, let plaintext = try? keys.open(stored.bytes, email: email.value) {
            holds = ConstantTime.equals(Array(plaintext.utf8), Array(refreshToken.utf8))
        }
        return Binding(spotifyUserID: spotifyUserID, holdsStoredRefreshToken: holds)
    }

    /// Sets enrolment flags of an existing user (nil leaves a flag as it is); nil when the user does not exist.
    public func setEnrolment(_ email: Email, wrapped: Bool?, releaseRadar: Bool?) throws(StoreError) -> User? {
        try database.write(SQL.setEnrolment, [email, wrapped, releaseRadar], UserStore.firstUser)
    }

    /// Creates a user for a first login (no refresh token yet) with its Spotify id; returns the existing user
    /// when the email is already known with that id. `.conflict` when the email belongs to another Spotify id.
    public func createForLogin(_ email: Email, spotifyID: String, displayName: String?) throws(StoreError) -> User {
        guard let user = try database.write(SQL.createForLogin, [email, spotifyID, displayName], UserStore.firstUser) else {
            throw .conflict("\(email) belongs to another Spotify account")
        }
        return user
    }

    // MARK: Tokens for the jobs

    /// The decrypted refresh token of a user, nil when none is stored.
    public func refreshToken(_ email: Email) throws(StoreError) -> String? {
        let stored = try database.read(SQL.token, [email]) { result in try result.first?.decode(0, as: Bytea?.self) }
        guard let stored else { return nil }
        do { return try keys.open(stored.bytes, email: email.value) } catch {
            throw .corrupt("the stored refresh token of \(email) does not decrypt: \(error)")
        }
    }

    /// Stores a refresh token Spotify rotated, at once and before anything else happens.
    public func replaceRefreshToken(_ email: Email, with token: String) throws(StoreError) {
        try database.write(SQL.replaceToken, [email, Bytea(try seal(token, for: email))])
    }

    /// Marks a user whose token Spotify refused: skipped by the jobs until they post a new one.
    public func markNeedsReauth(_ email: Email, reason: String) throws(StoreError) {
        try database.write(SQL.needsReauth, [email, String(reason.prefix(500))])
    }

    /// Notes the time of a job's visit without touching any other field.
    public func touch(_ email: Email) throws(StoreError) {
        try database.write(SQL.touch, [email])
    }

    /// What the release radar job needs of a user: their playlist's id, and their own appears_on setting (nil: the
    /// configured default applies).
    public func releaseRadarSettings(_ email: Email) throws(StoreError) -> (playlistID: String?, appearsOn: Bool?) {
        try database.read(SQL.releaseRadarSettings, [email]) { result in
            guard let row = result.first else { throw StoreError.fault("no user \(email)") }
            return (try row.decode(0, as: String?.self), try row.decode(1, as: Bool?.self))
        }
    }

    /// Stores the id of the user's release radar playlist (created, or recreated after a deletion).
    public func setReleaseRadarPlaylist(_ email: Email, id: String) throws(StoreError) {
        try database.write(SQL.setReleaseRadarPlaylist, [email, id])
    }

    private func seal(_ token: String, for email: Email) throws(StoreError) -> [UInt8] {
        do { return try keys.seal(token, email: email.value) } catch {
            throw .fault("cannot encrypt the refresh token: \(error)")
        }
    }
}

import Crypto
import Model
import Postgres

/// Users and their refresh tokens. The only code that encrypts or decrypts a refresh token.
public struct UserStore {
    private let database: Database
    private let keys: TokenKeyRing

    public init(database: Database, keys: TokenKeyRing) {
        self.database = database
        self.keys = keys
    }

    static let userColumns = """
        email, spotify_user_id, display_name, avatar_url, active, active_wrapped, active_release_radar,
        release_radar_playlist_id, token_state, revision, created_at, updated_at
        """

    static func decodeUser(_ row: Row) throws(PostgresError) -> User {
        User(email: try row.decode(0), spotifyUserID: try row.decode(1), displayName: try row.decode(2),
             avatarURL: try row.decode(3), active: try row.decode(4), activeWrapped: try row.decode(5),
             activeReleaseRadar: try row.decode(6), releaseRadarPlaylistID: try row.decode(7),
             tokenStatus: try row.decode(8), revision: try row.decode(9), createdAt: try row.decode(10),
             updatedAt: try row.decode(11))
    }

    public func user(_ email: Email) throws(StoreError) -> User? {
        try database.run { connection throws(PostgresError) in
            try connection.prepared("user_by_email", "SELECT \(UserStore.userColumns) FROM users WHERE email = $1", [email])
                .first.map { row throws(PostgresError) in try UserStore.decodeUser(row) }
        }
    }

    public func user(spotifyID: String) throws(StoreError) -> User? {
        try database.run { connection throws(PostgresError) in
            try connection.prepared("user_by_spotify_id",
                                    "SELECT \(UserStore.userColumns) FROM users WHERE spotify_user_id = $1", [spotifyID])
                .first.map { row throws(PostgresError) in try UserStore.decodeUser(row) }
        }
    }

    /// The revision of a user row (its ETag), nil for an unknown user.
    public func revision(_ email: Email) throws(StoreError) -> Int64? {
        try database.run { connection throws(PostgresError) in
            try connection.prepared("user_revision", "SELECT revision FROM users WHERE email = $1", [email])
                .first.map { row throws(PostgresError) in try row.decode(0, as: Int64.self) }
        }
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

        public init(userID: String, refreshToken: String) {
            self.userID = userID
            self.refreshToken = refreshToken
        }
    }

    /// Creates or updates a user with a new refresh token (stored encrypted) in one statement: marks the account
    /// active, clears `needs_reauth`, and sets only the flags and fields given. `.conflict` when the Spotify id
    /// belongs to another email.
    public func enrol(_ email: Email, _ enrolment: Enrolment) throws(StoreError) -> User {
        let ciphertext: [UInt8]
        do { ciphertext = try keys.seal(enrolment.refreshToken, email: email.value) } catch {
            throw .fault("cannot encrypt the refresh token: \(error)")
        }
        return try database.run { connection throws(PostgresError) in
            let row = try connection.prepared("user_enrol", """
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
                    token_state = 'ok', token_state_reason = NULL, token_state_at = now(),
                    revision = nextval('revisions'), updated_at = now()
                RETURNING \(UserStore.userColumns)
                """, [email, enrolment.userID, Bytea(ciphertext), enrolment.displayName.value, enrolment.avatarURL.value,
                      enrolment.releaseRadarPlaylistID.value, enrolment.wrapped, enrolment.releaseRadar,
                      enrolment.displayName.isSet, enrolment.avatarURL.isSet, enrolment.releaseRadarPlaylistID.isSet]).first
            guard let row else { throw .misuse("upsert returned no row") }
            return try UserStore.decodeUser(row)
        }
    }

    /// Sets enrolment flags of an existing user (nil leaves a flag as it is); nil when the user does not exist.
    public func setEnrolment(_ email: Email, wrapped: Bool?, releaseRadar: Bool?) throws(StoreError) -> User? {
        try database.run { connection throws(PostgresError) in
            try connection.prepared("user_set_enrolment", """
                UPDATE users SET active_wrapped = coalesce($2, active_wrapped),
                                 active_release_radar = coalesce($3, active_release_radar),
                                 revision = nextval('revisions'), updated_at = now()
                WHERE email = $1
                RETURNING \(UserStore.userColumns)
                """, [email, wrapped, releaseRadar]).first.map { row throws(PostgresError) in try UserStore.decodeUser(row) }
        }
    }

    /// Creates a user for a first login (no refresh token yet) with its Spotify id; returns the existing user
    /// when the email is already known with that id. `.conflict` when the email belongs to another Spotify id.
    public func createForLogin(_ email: Email, spotifyID: String, displayName: String?) throws(StoreError) -> User {
        let user = try database.run { connection throws(PostgresError) -> User? in
            try connection.prepared("user_create_for_login", """
                INSERT INTO users AS u (email, spotify_user_id, display_name)
                VALUES ($1, $2, $3)
                ON CONFLICT (email) DO UPDATE SET
                    spotify_user_id = EXCLUDED.spotify_user_id,
                    display_name = coalesce(u.display_name, EXCLUDED.display_name),
                    revision = nextval('revisions'), updated_at = now()
                WHERE u.spotify_user_id IS NULL OR u.spotify_user_id = EXCLUDED.spotify_user_id
                RETURNING \(UserStore.userColumns)
                """, [email, spotifyID, displayName]).first.map { row throws(PostgresError) in try UserStore.decodeUser(row) }
        }
        guard let user else { throw .conflict("\(email) belongs to another Spotify account") }
        return user
    }

    // MARK: Tokens for the jobs

    /// The decrypted refresh token of a user, nil when none is stored.
    public func refreshToken(_ email: Email) throws(StoreError) -> String? {
        let stored = try database.run { connection throws(PostgresError) -> Bytea? in
            try connection.prepared("user_token", "SELECT refresh_token_ciphertext FROM users WHERE email = $1", [email])
                .first.flatMap { row throws(PostgresError) in try row.decode(0, as: Bytea?.self) }
        }
        guard let stored else { return nil }
        do { return try keys.open(stored.bytes, email: email.value) } catch {
            throw .corrupt("the stored refresh token of \(email) does not decrypt: \(error)")
        }
    }

    /// Stores a refresh token Spotify rotated, at once and before anything else happens.
    public func replaceRefreshToken(_ email: Email, with token: String) throws(StoreError) {
        let ciphertext: [UInt8]
        do { ciphertext = try keys.seal(token, email: email.value) } catch {
            throw .fault("cannot encrypt the refresh token: \(error)")
        }
        try database.run { connection throws(PostgresError) in
            try connection.prepared("user_replace_token", """
                UPDATE users SET refresh_token_ciphertext = $2, updated_at = now() WHERE email = $1
                """, [email, Bytea(ciphertext)])
        }
    }

    /// Marks a user whose token Spotify refused: skipped by the jobs until they post a new one.
    public func markNeedsReauth(_ email: Email, reason: String) throws(StoreError) {
        try database.run { connection throws(PostgresError) in
            try connection.prepared("user_needs_reauth", """
                UPDATE users SET token_state = 'needs_reauth', token_state_reason = $2, token_state_at = now(),
                                 refresh_token_ciphertext = NULL, revision = nextval('revisions'), updated_at = now()
                WHERE email = $1
                """, [email, String(reason.prefix(500))])
        }
    }

    /// Notes the time of a job's visit without touching any other field.
    public func touch(_ email: Email) throws(StoreError) {
        try database.run { connection throws(PostgresError) in
            try connection.prepared("user_touch", "UPDATE users SET updated_at = now(), revision = nextval('revisions') WHERE email = $1", [email])
        }
    }
}

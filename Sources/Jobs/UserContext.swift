import JSON
import Log
import Model
import Spotify
import Store

/// One user's work in a run: their access token, the Spotify client, the database, and the item's progress,
/// which is saved before the next external side effect (SPEC §7.3).
final class UserContext: @unchecked Sendable {
    let email: Email
    let accessToken: String
    let spotify: SpotifyClient
    let database: JobDatabase
    let dryRun: Bool
    let log: Logger
    private(set) var progress: JSONObject
    private let persist: (JSONObject) throws(StoreError) -> Void

    init(email: Email, accessToken: String, spotify: SpotifyClient, database: JobDatabase, dryRun: Bool, log: Logger,
         progress: JSONObject, persist: @escaping (JSONObject) throws(StoreError) -> Void) {
        self.email = email
        self.accessToken = accessToken
        self.spotify = spotify
        self.database = database
        self.dryRun = dryRun
        self.log = log
        self.progress = progress
        self.persist = persist
    }

    /// Records a step (in the database, unless this is a dry run).
    func record(_ key: String, _ value: JSON) throws(TaskError) {
        progress.set(key, value)
        guard !dryRun else { return }
        try storeCall { () throws(StoreError) in try persist(progress) }
    }
}

/// Opens a user's Spotify session: their stored refresh token for an access token. A rotated refresh token is
/// stored at once, before anything else (even in a dry run: not storing it would lock the user out), and a
/// refused one marks the user `needs_reauth` (never retried).
func openSession(_ email: Email, spotify: SpotifyClient, database: JobDatabase, dryRun: Bool) async throws(TaskError) -> String {
    let stored = try storeCall { () throws(StoreError) in try database.with { stores throws(StoreError) in try stores.users.refreshToken(email) } }
    guard let refreshToken = stored else { throw TaskError.skip("no refresh token stored") }
    let grant: TokenGrant
    do {
        grant = try await spotify.refreshAccessToken(refreshToken)
    } catch {
        if case .invalidGrant(let why) = error {
            if !dryRun {
                try storeCall { () throws(StoreError) in
                    try database.with { stores throws(StoreError) in try stores.users.markNeedsReauth(email, reason: why) }
                }
            }
            throw TaskError.skip("needs_reauth")
        }
        throw TaskError(error)
    }
    if let rotated = grant.rotatedRefreshToken {
        try storeCall { () throws(StoreError) in
            try database.with { stores throws(StoreError) in try stores.users.replaceRefreshToken(email, with: rotated) }
        }
    }
    return grant.accessToken
}

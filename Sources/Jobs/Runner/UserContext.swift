import JSON
import Log
import Model
import Spotify
import Store
import Synchronization

/// What one job does for one user.
protocol UserTask: Sendable {
    var job: JobStore.Job { get }
    var period: String { get }
    /// The user's work; progress recorded through `user.record` survives a crash. Throws freely: the runner maps
    /// what it throws to an outcome (`JobOutcome`).
    func run(_ user: UserContext) async throws
}

/// One user's work in a run: their access token, the Spotify client, the database, and the item's progress,
/// which is saved before the next external side effect (SPEC §7.3).
final class UserContext: Sendable {
    let email: Email
    let accessToken: String
    let spotify: SpotifyClient
    let database: JobDatabase
    let dryRun: Bool
    let log: Logger
    private let state: Mutex<JSONObject>
    private let persist: @Sendable (JSONObject) async throws -> Void

    init(email: Email, accessToken: String, spotify: SpotifyClient, database: JobDatabase, dryRun: Bool, log: Logger,
         progress: JSONObject, persist: @escaping @Sendable (JSONObject) async throws -> Void) {
        self.email = email
        self.accessToken = accessToken
        self.spotify = spotify
        self.database = database
        self.dryRun = dryRun
        self.log = log
        state = Mutex(progress)
        self.persist = persist
    }

    /// The progress recorded so far (by this run or an interrupted one).
    var progress: JSONObject { state.withLock { $0 } }

    /// Records a step (in the database, unless this is a dry run).
    func record(_ key: String, _ value: JSON) async throws {
        let progress = state.withLock { progress -> JSONObject in
            progress.set(key, value)
            return progress
        }
        guard !dryRun else { return }
        try await persist(progress)
    }
}

/// Opens a user's Spotify session: their stored refresh token for an access token. A rotated refresh token is
/// stored at once, before anything else (even in a dry run: not storing it would lock the user out), and a
/// refused one marks the user `needs_reauth` (never retried).
func openSession(_ email: Email, spotify: SpotifyClient, database: JobDatabase, dryRun: Bool) async throws -> String {
    guard let refreshToken = try await database.with({ stores in try stores.users.refreshToken(email) }) else {
        throw TaskDecision.skip("no refresh token stored")
    }
    let grant: TokenGrant
    do {
        grant = try await spotify.refreshAccessToken(refreshToken)
    } catch {
        guard case .invalidGrant(let why) = error else { throw error }
        if !dryRun {
            try await database.with { stores in try stores.users.markNeedsReauth(email, reason: why) }
        }
        throw TaskDecision.skip("needs_reauth")
    }
    if let rotated = grant.rotatedRefreshToken {
        try await database.with { stores in try stores.users.replaceRefreshToken(email, with: rotated) }
    }
    return grant.accessToken
}

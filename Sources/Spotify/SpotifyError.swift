/// What a Spotify call can end with, in the terms the jobs act on (SPEC §6, §7.3).
public enum SpotifyError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The refresh token is revoked or expired: mark the user `needs_reauth`, never retry.
    case invalidGrant(String)
    /// The app's client id or secret is wrong: a configuration fault that stops the job.
    case invalidClient
    /// Spotify's quota is spent (`QUOTA_EXCEEDED`, or a Retry-After over 10 minutes): stop the run cleanly.
    case quotaExceeded(String)
    /// Spotify asked us to wait longer than this client may (its `Retry-After`, in seconds): a job stops the run,
    /// the API answers 503 with that `Retry-After`.
    case rateLimited(retryAfter: Double)
    /// Our own daily budget (XOMIFY_SPOTIFY_DAILY_BUDGET) is spent: stop the run cleanly.
    case budgetExhausted
    /// Our own budget could not be reserved: its database is unavailable, or a reservation's outcome is unknown
    /// (sent, answer lost; never repeated). A database fault, not this user's: stop the run, which leaves the
    /// user pending for the next one.
    case budgetUnavailable(String)
    /// The access token was refused (401).
    case unauthorized
    case forbidden(String)
    case notFound(String)
    case badRequest(String)
    /// 5xx, resets and timeouts that persisted through the retries.
    case unavailable(String)
    case malformedResponse(String)

    /// True for the outcomes that end a whole run rather than one user.
    public var stopsRun: Bool {
        switch self {
        case .invalidClient, .quotaExceeded, .rateLimited, .budgetExhausted, .budgetUnavailable: return true
        default: return false
        }
    }

    /// True when a playlist write found the playlist gone: deleted (404), or no longer the user's (403).
    public var meansPlaylistGone: Bool {
        switch self {
        case .notFound, .forbidden: return true
        default: return false
        }
    }

    public var description: String {
        switch self {
        case .invalidGrant(let why): return "refresh token refused (\(why))"
        case .invalidClient: return "Spotify refused the client id or secret (invalid_client)"
        case .quotaExceeded(let why): return "Spotify quota exceeded (\(why))"
        case .rateLimited(let seconds): return "Spotify asked to wait \(Int(seconds.rounded(.up))) s (Retry-After)"
        case .budgetExhausted: return "daily Spotify request budget spent"
        case .budgetUnavailable(let why): return "cannot reserve Spotify request budget: \(why)"
        case .unauthorized: return "access token refused"
        case .forbidden(let why): return "forbidden: \(why)"
        case .notFound(let what): return "not found: \(what)"
        case .badRequest(let why): return "bad request: \(why)"
        case .unavailable(let why): return "Spotify unavailable: \(why)"
        case .malformedResponse(let why): return "malformed response: \(why)"
        }
    }
}

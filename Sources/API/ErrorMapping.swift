import Spotify
import Store

extension APIError {
    /// The one place where an error a handler or a middleware threw becomes the API's answer.
    init(answering error: any Error) {
        switch error {
        case let error as APIError:
            self = error
        case let error as StoreError:
            switch error {
            case .unavailable, .outcomeUnknown:
                // A write whose outcome is unknown is not repeated here: the client retries, and every write of
                // this API is an upsert or a guarded update, so its retry converges.
                self = APIError.unavailable
            case .conflict:
                self = APIError(409, .conflict, "That Spotify account or email is already registered to another user")
            case .corrupt, .fault:
                self = APIError.internalError
            }
            cause = error.description
        case let error as LegacyWriteGuard.Refusal:
            switch error {
            case .rebinding:
                self = APIError(409, .conflict,
                                "This user is bound to another Spotify account; the shared token may not change that")
            case .unconfirmedRefreshToken:
                self = APIError(403, .forbidden,
                                "Spotify did not confirm the refresh token as this user's; nothing was changed")
            case .cannotConfirm(.invalidClient):
                // Our own client id or secret: a configuration fault, logged as a 500.
                self = APIError.internalError
            case .cannotConfirm(let spotify):
                self = APIError(503, .serviceUnavailable,
                                "Spotify could not confirm the refresh token now; nothing was changed, try again shortly")
                headers = [("Retry-After", String(APIError.retryAfter(spotify)))]
            }
            cause = error.description
        case let error as SpotifyError:
            // Only the login lets a Spotify error through (the legacy guard turns its own into refusals): a refusal
            // of the caller's access token is theirs (401), anything else is Spotify's (502).
            switch error {
            case .unauthorized, .forbidden, .badRequest:
                self = APIError.unauthorized("Spotify did not accept the access token")
            case .rateLimited(let seconds):
                self = APIError(503, .serviceUnavailable, "Spotify is busy; try again shortly")
                headers = [("Retry-After", String(max(1, Int(seconds.rounded(.up)))))]
            case .quotaExceeded:
                self = APIError(503, .serviceUnavailable, "Spotify's request quota is spent; try again later")
                headers = [("Retry-After", "3600")]
            default:
                self = APIError(502, .badGateway, "Spotify could not be reached; try again shortly")
            }
            cause = error.description
        default:
            self = APIError.internalError
            cause = "\(error)"
        }
    }

    /// Seconds a client should wait before asking again when Spotify could not be asked: Spotify's own
    /// `Retry-After` after a 429, an hour for a spent quota, a few seconds for an outage or a slow answer.
    private static func retryAfter(_ error: SpotifyError) -> Int {
        switch error {
        case .rateLimited(let seconds): return max(1, Int(seconds.rounded(.up)))
        case .quotaExceeded, .budgetExhausted: return 3600
        default: return 10
        }
    }
}

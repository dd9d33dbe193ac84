import Log
import Model
import Platform
import Spotify
import Store

/// What a token write (`POST /user/user-table` [`/user/update`], `POST /wrapped/data` [`/wrapped/update`]) may do
/// under the old clients' shared token (SPEC §5.1). That token is public (every old web bundle ships it) and names
/// the user by the request's `email`, so without this anyone could bind a victim's row to their own Spotify
/// account: the jobs would then read the attacker's listening into the victim's history and write the victim's
/// playlists into the attacker's account. So, under the legacy token:
///
/// - the row's Spotify id may not change: a body whose `userId` differs from it is refused (409), and the store
///   checks it again in the write itself (a row created or rebound meanwhile is refused too);
/// - a refresh token that is not the one stored (the store compares, after decrypting) is stored only once
///   Spotify confirms it belongs to that Spotify id: a refresh with it succeeds and `GET /v1/me` with the
///   resulting access token names the row's id (the body's `userId` for a row that has none, or a new row). Else
///   403. If Spotify rotated the token during that refresh, the rotated one is stored (the posted one is dead).
///   The check takes at most the bound of `BoundedSpotify`; a Spotify that is busy or away is a 503 with
///   `Retry-After`;
/// - the token the old apps post again and again (the web app on every profile load) is the stored one: no
///   Spotify request is made for it.
///
/// A refused write changes nothing: no row, ciphertext or revision. User tokens never come here, and the reads
/// and enrolment flags stay as open under the legacy token as they were in the old system.
struct LegacyWriteGuard {
    /// Why a write under the legacy token was refused; `ErrorMapping.swift` gives each its answer.
    enum Refusal: Error, Sendable, CustomStringConvertible {
        /// The row is bound to another Spotify id than the body's `userId` (409).
        case rebinding
        /// Spotify did not confirm the refresh token as the account's (403).
        case unconfirmedRefreshToken(String)
        /// Spotify could not be asked within the bound, or refused our own credentials (503, or 500 for the
        /// latter: a configuration fault).
        case cannotConfirm(SpotifyError)

        var description: String {
            switch self {
            case .rebinding: return "the row is bound to another Spotify id"
            case .unconfirmedRefreshToken(let why): return "refresh token not confirmed: \(why)"
            case .cannotConfirm(let error): return "cannot confirm the refresh token: \(error)"
            }
        }
    }

    let users: UserStore
    let spotify: BoundedSpotify
    let log: Logger
    let requestID: String
    let deadline: Deadline

    init(services: Services, requestID: String, deadline: Deadline) {
        users = services.users
        spotify = services.spotify
        log = services.log
        self.requestID = requestID
        self.deadline = deadline
    }

    /// Stores `enrolment` for `email` if the rules above allow it; the user as stored.
    func enrol(_ email: Email, _ enrolment: UserStore.Enrolment) throws -> User {
        var enrolment = enrolment
        enrolment.refuseRebinding = true
        let binding = try users.binding(email, offering: enrolment.refreshToken)
        if let bound = binding?.spotifyUserID, bound != enrolment.userID {
            throw refused(.rebinding, email)
        }
        if binding?.holdsStoredRefreshToken != true {
            enrolment.refreshToken = try confirmed(enrolment.refreshToken, owner: enrolment.userID, email)
        }
        return try users.enrol(email, enrolment)
    }

    /// The refresh token to store once Spotify says `refreshToken` is `owner`'s: itself, or what Spotify rotated
    /// it to.
    private func confirmed(_ refreshToken: String, owner: String, _ email: Email) throws(Refusal) -> String {
        let found: RefreshTokenOwner
        do {
            found = try spotify.owner(ofRefreshToken: refreshToken, deadline: deadline)
        } catch {
            switch error {
            case .invalidGrant, .badRequest:
                throw refused(.unconfirmedRefreshToken("Spotify refused the refresh token"), email)
            case .unauthorized, .forbidden, .notFound:
                throw refused(.unconfirmedRefreshToken("Spotify refused the profile request"), email)
            case .invalidClient, .quotaExceeded, .rateLimited, .budgetExhausted, .budgetUnavailable, .unavailable,
                 .malformedResponse:
                throw refused(.cannotConfirm(error), email)
            }
        }
        guard found.profile.id == owner else {
            throw refused(.unconfirmedRefreshToken("the refresh token belongs to another Spotify account"), email)
        }
        return found.rotatedRefreshToken ?? refreshToken
    }

    /// Logs a refusal (an operator watching the legacy warnings sees attempts too) and returns it to throw.
    private func refused(_ refusal: Refusal, _ email: Email) -> Refusal {
        log.warning("write refused under the legacy shared token", [
            "request_id": requestID, "user": email.value, "reason": refusal.description,
        ])
        return refusal
    }
}

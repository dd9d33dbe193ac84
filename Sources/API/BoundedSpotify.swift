import Dispatch
import Platform
import Spotify
import Synchronization

/// The Spotify calls a request makes: the profile behind `POST /auth/login`, and the owner of a refresh token
/// posted under the legacy shared token (`LegacyWriteGuard`). Made from a pool thread (which blocks, as it does
/// on PostgreSQL) through the worker's one Spotify client, and bounded: the thread waits `bound` seconds at
/// most in all (less when the request's deadline comes first), whatever Spotify does (the client itself waits for no 429 and retries a failure once).
final class BoundedSpotify: Sendable {
    private let client: SpotifyClient
    /// The longest a responder thread waits for Spotify, all the calls of one question together.
    let bound: Double

    init(client: SpotifyClient, bound: Double) {
        self.client = client
        self.bound = bound
    }

    /// `GET /v1/me` with the caller's access token.
    func profile(accessToken: String, deadline: Deadline) throws(SpotifyError) -> SpotifyProfile {
        try bounded(deadline) { client throws(SpotifyError) in try await client.currentUser(accessToken: accessToken) }
    }

    /// Whose refresh token this is: a refresh with it, then `GET /v1/me` with the access token that gives.
    /// `rotatedRefreshToken` is the token Spotify replaced it with during the refresh, if it did: the one to store.
    func owner(ofRefreshToken refreshToken: String, deadline: Deadline) throws(SpotifyError) -> RefreshTokenOwner {
        try bounded(deadline) { client throws(SpotifyError) in
            let grant = try await client.refreshAccessToken(refreshToken)
            let profile = try await client.currentUser(accessToken: grant.accessToken)
            return RefreshTokenOwner(profile: profile, rotatedRefreshToken: grant.rotatedRefreshToken)
        }
    }

    /// Runs `work` on the client and waits for it `bound` seconds at most, and never past `deadline`.
    private func bounded<T: Sendable>(
        _ deadline: Deadline, _ work: @escaping @Sendable (SpotifyClient) async throws(SpotifyError) -> T
    ) throws(SpotifyError) -> T {
        let wait = min(bound, deadline.remainingSeconds)
        guard wait > 0 else { throw .unavailable("the request's time ran out before Spotify was asked") }
        let outcome = Mutex<Result<T, SpotifyError>?>(nil)
        let done = DispatchSemaphore(value: 0)
        let client = self.client
        Task {
            let result: Result<T, SpotifyError>
            do throws(SpotifyError) {
                result = .success(try await work(client))
            } catch {
                result = .failure(error)
            }
            outcome.withLock { $0 = result }
            done.signal()
        }
        guard done.wait(timeout: .now() + wait) == .success, let result = outcome.withLock({ $0 }) else {
            // The request goes on in the client and its answer is dropped; the thread is back at once.
            throw .unavailable("no answer from Spotify within \(wait) s")
        }
        return try result.get()
    }
}

/// Who a refresh token belongs to, and what Spotify rotated it to while we asked.
struct RefreshTokenOwner: Sendable {
    let profile: SpotifyProfile
    let rotatedRefreshToken: String?
}

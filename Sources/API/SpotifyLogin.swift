import Dispatch
import Platform
import Spotify
import Synchronization

/// The Spotify call behind `POST /auth/login`, made from a pool thread (which blocks, as it does on
/// PostgreSQL) through the worker's one Spotify client. Bounded: the thread waits `bound` seconds at most (less
/// when the request's deadline comes first), whatever Spotify does (the client itself waits for no 429 and retries a failure once).
final class SpotifyLogin: Sendable {
    private let client: SpotifyClient
    /// The longest a responder thread waits for Spotify.
    let bound: Double

    init(client: SpotifyClient, bound: Double) {
        self.client = client
        self.bound = bound
    }

    /// `GET /v1/me` with the caller's access token.
    func profile(accessToken: String, deadline: Deadline) throws(SpotifyError) -> SpotifyProfile {
        let wait = min(bound, deadline.remainingSeconds)
        guard wait > 0 else { throw .unavailable("the request's time ran out before Spotify was asked") }
        let outcome = Mutex<Result<SpotifyProfile, SpotifyError>?>(nil)
        let done = DispatchSemaphore(value: 0)
        let client = self.client
        Task {
            let result: Result<SpotifyProfile, SpotifyError>
            do throws(SpotifyError) {
                result = .success(try await client.currentUser(accessToken: accessToken))
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

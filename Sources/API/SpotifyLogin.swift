import Dispatch
import Spotify
import Synchronization

/// The Spotify call behind `POST /auth/login`, made from a pool thread (which blocks, as it does on
/// PostgreSQL) through the worker's one Spotify client.
final class SpotifyLogin: Sendable {
    private let client: SpotifyClient

    init(client: SpotifyClient) {
        self.client = client
    }

    /// `GET /v1/me` with the caller's access token.
    func profile(accessToken: String) throws(SpotifyError) -> SpotifyProfile {
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
        done.wait()
        guard let result = outcome.withLock({ $0 }) else { throw .unavailable("no answer") }
        return try result.get()
    }
}

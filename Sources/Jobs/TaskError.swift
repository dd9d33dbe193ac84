import Spotify
import Store

/// How one user's work ended when it did not succeed.
enum TaskError: Error, Sendable {
    /// Not done and not a failure (needs re-authorisation, no longer enrolled).
    case skip(String)
    /// Will not get better by retrying.
    case fail(String)
    /// May succeed in a later run.
    case retry(String)
    /// The whole run must stop (quota, budget, configuration, database): exit with `status`.
    case stop(String, status: Int32)

    init(_ error: SpotifyError) {
        switch error {
        case .invalidClient: self = .stop(error.description, status: 78)
        case .quotaExceeded, .budgetExhausted: self = .stop(error.description, status: 75)
        case .invalidGrant: self = .skip("needs_reauth: \(error.description)")
        case .unauthorized, .unavailable, .malformedResponse: self = .retry(error.description)
        case .forbidden, .notFound, .badRequest: self = .fail(error.description)
        }
    }

    init(_ error: StoreError) {
        switch error {
        case .unavailable: self = .stop(error.description, status: 75)
        case .conflict, .corrupt, .fault: self = .fail(error.description)
        }
    }

    var reason: String {
        switch self {
        case .skip(let why), .fail(let why), .retry(let why), .stop(let why, _): return why
        }
    }
}

/// Runs a Spotify call, turning its failure into a task error.
func spotifyCall<T>(_ body: () async throws(SpotifyError) -> T) async throws(TaskError) -> T {
    do { return try await body() } catch { throw TaskError(error) }
}

/// Runs a store call, turning its failure into a task error.
func storeCall<T>(_ body: () throws(StoreError) -> T) throws(TaskError) -> T {
    do { return try body() } catch { throw TaskError(error) }
}

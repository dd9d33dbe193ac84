import Spotify
import Store

/// A decision a task makes about its user, thrown like any error.
enum TaskDecision: Error, Sendable {
    /// Not done and not a failure (needs re-authorisation, no longer enrolled, no token).
    case skip(String)
    /// Will not get better by retrying.
    case fail(String)
}

/// How one user's work ended, as the runner records it and reports it.
enum JobOutcome: Sendable, Equatable {
    case done
    case skipped(String)
    case failed(String)
    /// May succeed in a later run.
    case retryLater(String)
    /// The whole run must stop (quota, budget, configuration, database) and exit with `status`; the user stays
    /// pending for the next run.
    case stopRun(String, status: ExitStatus)

    /// The one place where whatever a task threw becomes an outcome.
    init(_ error: any Error) {
        switch error {
        case let decision as TaskDecision:
            switch decision {
            case .skip(let why): self = .skipped(why)
            case .fail(let why): self = .failed(why)
            }
        case let error as SpotifyError:
            switch error {
            case .invalidClient: self = .stopRun(error.description, status: .configuration)
            case .quotaExceeded, .rateLimited, .budgetExhausted, .budgetUnavailable:
                self = .stopRun(error.description, status: .stoppedEarly)
            case .invalidGrant: self = .skipped("needs_reauth: \(error.description)")
            case .unauthorized, .unavailable, .malformedResponse: self = .retryLater(error.description)
            case .forbidden, .notFound, .badRequest: self = .failed(error.description)
            }
        case let error as StoreError:
            switch error {
            // The database is gone, or a write's outcome is unknown: stop; the item's lease runs out, and the next
            // run reads the recorded progress again before it does anything.
            case .unavailable, .outcomeUnknown: self = .stopRun(error.description, status: .stoppedEarly)
            case .conflict, .corrupt, .fault: self = .failed(error.description)
            }
        case let error as JobDatabase.Closed:
            self = .stopRun(error.description, status: .stoppedEarly)
        case let error as SharedCatalogue.WaitedTooLong:
            self = .retryLater(error.description)
        default:
            self = .failed("\(error)")
        }
    }

    /// What the job item records.
    var itemOutcome: JobStore.Outcome {
        switch self {
        case .done: return .done
        case .skipped(let why): return .skipped(reason: why)
        case .failed(let why): return .failed(reason: why)
        case .retryLater(let why): return .retry(reason: why)
        case .stopRun(let why, _): return .interrupted(reason: why)
        }
    }
}

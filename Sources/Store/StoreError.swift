import Postgres

/// What a store operation can fail with, in the terms a handler or a job needs.
public enum StoreError: Error, Sendable, CustomStringConvertible {
    /// PostgreSQL cannot be reached or did not answer in time, and nothing was written: answer 503, retry later.
    case unavailable(String)
    /// The link broke after a write was sent: it may or may not have been applied. Never repeated
    /// automatically; a caller answers 503, or re-reads the state before deciding.
    case outcomeUnknown(String)
    /// A uniqueness rule was hit (for example a Spotify id already owned by another email).
    case conflict(String)
    /// Stored data could not be read back (a bad ciphertext, an undecodable row): a fault, logged.
    case corrupt(String)
    /// Any other database error: a fault, logged.
    case fault(String)

    /// The store's view of a database error; `writing` says whether a lost answer may hide an applied write.
    init(_ error: PostgresError, writing: Bool) {
        if error.sqlState == "57014" {
            // statement_timeout (or a cancel): the statement was stopped, so it did not take effect.
            self = .unavailable(error.description)
        } else if error.isUnavailable {
            self = writing && !error.isSafeToRetry ? .outcomeUnknown(error.description) : .unavailable(error.description)
        } else if error.isUniqueViolation {
            self = .conflict(error.description)
        } else if case .decoding = error {
            self = .corrupt(error.description)
        } else {
            self = .fault(error.description)
        }
    }

    /// Any error from a store body: database errors mapped as above, store errors as they are.
    init(_ error: any Error, writing: Bool) {
        switch error {
        case let error as StoreError: self = error
        case let error as PostgresError: self = StoreError(error, writing: writing)
        case let error as TransactionError<any Error>:
            switch error {
            case .body(let inner): self = StoreError(inner, writing: writing)
            case .database(let inner): self = StoreError(inner, writing: writing)
            }
        default: self = .fault("\(error)")
        }
    }

    public var description: String {
        switch self {
        case .unavailable(let message): return "database unavailable: \(message)"
        case .outcomeUnknown(let message): return "database write with unknown outcome: \(message)"
        case .conflict(let message): return "conflict: \(message)"
        case .corrupt(let message): return "corrupt data: \(message)"
        case .fault(let message): return "database error: \(message)"
        }
    }
}

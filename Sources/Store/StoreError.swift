import Postgres

/// What a store operation can fail with, in the terms a handler or a job needs.
public enum StoreError: Error, Sendable, CustomStringConvertible {
    /// PostgreSQL cannot be reached or did not answer in time: answer 503, retry later.
    case unavailable(String)
    /// A uniqueness rule was hit (for example a Spotify id already owned by another email).
    case conflict(String)
    /// Stored data could not be read back (a bad ciphertext, an undecodable row): a fault, logged.
    case corrupt(String)
    /// Any other database error: a fault, logged.
    case fault(String)

    init(_ error: PostgresError) {
        if error.isUnavailable {
            self = .unavailable(error.description)
        } else if error.isUniqueViolation {
            self = .conflict(error.description)
        } else if case .decoding = error {
            self = .corrupt(error.description)
        } else {
            self = .fault(error.description)
        }
    }

    public var description: String {
        switch self {
        case .unavailable(let message): return "database unavailable: \(message)"
        case .conflict(let message): return "conflict: \(message)"
        case .corrupt(let message): return "corrupt data: \(message)"
        case .fault(let message): return "database error: \(message)"
        }
    }
}

/// What went wrong talking to PostgreSQL. Server errors carry the SQLSTATE so callers can tell a unique
/// violation (23505) from a fault; a lost link says whether the command may have taken effect, so that only a
/// command that certainly did not is repeated.
public enum PostgresError: Error, Sendable, CustomStringConvertible {
    /// Whether a command that failed with its link may have been applied.
    public enum Effect: Sendable, Equatable {
        /// Certainly not applied: it never reached the server, or its transaction was never committed.
        case none
        /// It reached the server and its answer was lost: it may have been applied.
        case unknown
    }

    /// Could not connect (refused, unreachable, authentication) within the deadline; nothing was sent.
    case connectionFailed(String)
    /// The link broke around a command.
    case connectionLost(String, effect: Effect)
    /// No answer within the deadline; the connection was closed.
    case timeout(seconds: Double, effect: Effect)
    /// The caller's own deadline (a request's time, `Connection.limit`) had passed: nothing was sent.
    case deadlinePassed
    /// The server refused the command.
    case server(ServerError)
    /// A value could not be read as the requested Swift type.
    case decoding(column: String, expected: String, found: String)
    /// A caller error: a missing column, statement misuse.
    case misuse(String)

    public struct ServerError: Sendable, CustomStringConvertible {
        public let sqlState: String
        public let message: String
        public let detail: String?
        public let constraint: String?

        public var description: String {
            var text = "\(message) (SQLSTATE \(sqlState))"
            if let constraint { text += " constraint \(constraint)" }
            return text
        }

        /// Class 08 connection exceptions, 57P01-57P03 admin shutdown, crash shutdown, cannot connect now, and
        /// 53300 too many connections: the server is going away or full, not refusing the command itself.
        var isUnavailable: Bool {
            sqlState.hasPrefix("08") || ["57P01", "57P02", "57P03", "53300"].contains(sqlState)
        }
    }

    /// True when the database could not be reached or the link broke: the caller should answer 503 and the
    /// connection will be re-established, as opposed to an error in the command itself.
    public var isUnavailable: Bool {
        switch self {
        case .connectionFailed, .connectionLost, .timeout, .deadlinePassed: return true
        case .server(let error): return error.isUnavailable
        case .decoding, .misuse: return false
        }
    }

    /// True when repeating the command cannot apply it twice: it was certainly not applied the first time.
    public var isSafeToRetry: Bool {
        switch self {
        case .connectionFailed, .connectionLost(_, .none), .timeout(_, .none), .deadlinePassed: return true
        default: return false
        }
    }

    /// This failure for a command that cannot apply anything whatever became of it (preparing a statement,
    /// BEGIN): a link lost around it leaves nothing applied, so the caller may repeat what it was part of.
    var applyingNothing: PostgresError {
        switch self {
        case .connectionLost(let message, _): return .connectionLost(message, effect: .none)
        case .timeout(let seconds, _): return .timeout(seconds: seconds, effect: .none)
        default: return self
        }
    }

    public var sqlState: String? {
        if case .server(let error) = self { return error.sqlState }
        return nil
    }

    public var isUniqueViolation: Bool { sqlState == "23505" }

    /// A deadlock or a serialization failure: PostgreSQL rolled the command back, and running it again may well
    /// succeed.
    public var isTransientConflict: Bool { sqlState == "40P01" || sqlState == "40001" }

    public var description: String {
        switch self {
        case .connectionFailed(let message): return "cannot connect to PostgreSQL: \(message)"
        case .connectionLost(let message, let effect):
            return "lost the PostgreSQL connection\(effect == .unknown ? " (the command's outcome is unknown)" : ""): \(message)"
        case .timeout(let seconds, let effect):
            return "PostgreSQL did not answer within \(seconds) s\(effect == .unknown ? " (the command's outcome is unknown)" : "")"
        case .deadlinePassed: return "the request's time ran out before the command was sent"
        case .server(let error): return "PostgreSQL: \(error)"
        case .decoding(let column, let expected, let found): return "column \(column): expected \(expected), found \(found)"
        case .misuse(let message): return message
        }
    }
}

/// What went wrong talking to PostgreSQL. Server errors carry the SQLSTATE so callers can tell a unique
/// violation (23505) from a serialization failure (40001) from a fault.
public enum PostgresError: Error, Sendable, CustomStringConvertible {
    /// Could not connect (refused, unreachable, authentication) within the deadline.
    case connectionFailed(String)
    /// The connection broke during a command; the command's outcome is unknown.
    case connectionLost(String)
    /// No answer within the deadline; the connection was closed.
    case timeout(seconds: Double)
    /// The server refused the command.
    case server(ServerError)
    /// A value could not be read as the requested Swift type.
    case decoding(column: Int, expected: String, found: String)
    /// A caller error: wrong column index, statement misuse.
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
    }

    /// True when the database could not be reached or the link broke: the caller should answer 503 and the
    /// connection will be re-established, as opposed to an error in the command itself.
    public var isUnavailable: Bool {
        switch self {
        case .connectionFailed, .connectionLost, .timeout: return true
        case .server(let error):
            // Class 08 connection exceptions, 57P01-57P03 admin shutdown / crash shutdown / cannot connect now,
            // 53300 too many connections.
            return error.sqlState.hasPrefix("08") || ["57P01", "57P02", "57P03", "53300"].contains(error.sqlState)
        case .decoding, .misuse: return false
        }
    }

    public var sqlState: String? {
        if case .server(let error) = self { return error.sqlState }
        return nil
    }

    public var isUniqueViolation: Bool { sqlState == "23505" }
    public var isSerializationFailure: Bool { sqlState == "40001" || sqlState == "40P01" }

    public var description: String {
        switch self {
        case .connectionFailed(let message): return "cannot connect to PostgreSQL: \(message)"
        case .connectionLost(let message): return "lost the PostgreSQL connection: \(message)"
        case .timeout(let seconds): return "PostgreSQL did not answer within \(seconds) s"
        case .server(let error): return "PostgreSQL: \(error)"
        case .decoding(let column, let expected, let found): return "column \(column): expected \(expected), found \(found)"
        case .misuse(let message): return message
        }
    }
}

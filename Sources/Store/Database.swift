import Platform
import Postgres

/// A database session: one connection, owned by one thread (a pool thread or a job's database thread). Only
/// the stores of this module run SQL through it: its commands are internal, so the compiler keeps SQL here.
///
/// It reconnects on demand, and after a failed connect it answers "unavailable" at once for a short while
/// (`StoreOptions.reconnectInterval`). A command is repeated once only when repeating it cannot apply anything
/// twice: after a broken link, a read always, a write or a transaction only when PostgreSQL certainly did not
/// apply it (`PostgresError.isSafeToRetry`); after a deadlock or a serialization failure (rolled back).
public final class Database {
    let connection: Connection
    private let options: StoreOptions
    private var lastConnectFailure: Double?

    public init(conninfo: String, options: StoreOptions) {
        self.options = options
        connection = Connection(conninfo: conninfo, options: Connection.Options(
            connectTimeout: options.connectTimeout, commandTimeout: options.commandTimeout,
            statementTimeoutMilliseconds: options.statementTimeoutMilliseconds, applicationName: options.applicationName))
    }

    /// Runs a read-only statement and decodes its result.
    func read<T>(_ statement: PreparedStatement, _ parameters: [any PostgresEncodable] = [],
                 _ decode: (QueryResult) throws -> T) throws(StoreError) -> T {
        try attempt(writing: false) { connection in try decode(connection.execute(statement, parameters)) }
    }

    /// Runs one writing statement (an insert, an update, an upsert) and decodes what it returns.
    @discardableResult
    func write<T>(_ statement: PreparedStatement, _ parameters: [any PostgresEncodable] = [],
                  _ decode: (QueryResult) throws -> T) throws(StoreError) -> T {
        try attempt(writing: true) { connection in try decode(connection.execute(statement, parameters)) }
    }

    /// Runs one writing statement whose result is not needed.
    func write(_ statement: PreparedStatement, _ parameters: [any PostgresEncodable] = []) throws(StoreError) {
        try write(statement, parameters) { _ in () }
    }

    /// Runs `body` in one transaction (several statements that stand or fall together).
    @discardableResult
    func transaction<T>(_ body: (Connection) throws -> T) throws(StoreError) -> T {
        try attempt(writing: true) { connection in try connection.transaction { try body(connection) } }
    }

    /// Runs `body` in a transaction that is always rolled back: a dry run of writes, which PostgreSQL checks as
    /// it would the real ones and then forgets (sequences aside). Safe to repeat, like a read.
    func rolledBack<T>(_ body: (Connection) throws -> T) throws(StoreError) -> T {
        try attempt(writing: false) { connection in
            _ = try connection.query("BEGIN")
            let value: T
            do {
                value = try body(connection)
            } catch {
                _ = try? connection.query("ROLLBACK")
                throw error
            }
            _ = try connection.query("ROLLBACK")
            return value
        }
    }

    /// Cuts every command to `deadline` (a request's time; nil lifts it): a command that would end later is given
    /// up at the deadline (503), and none is sent once it has passed.
    public func limitCommands(until deadline: Deadline?) {
        connection.limit = deadline
    }

    /// True when PostgreSQL answers a trivial query within `timeout` seconds.
    public func ping(timeout: Double) -> Bool {
        do {
            return try attempt(writing: false) { connection in
                try connection.execute(Database.pingStatement, [], timeout: timeout).rowCount == 1
            }
        } catch {
            return false
        }
    }

    private static let pingStatement = PreparedStatement("SELECT 1")

    /// One call with at most one repetition, as the type comment says.
    private func attempt<T>(writing: Bool, _ body: (Connection) throws -> T) throws(StoreError) -> T {
        if !connection.isConnected, let failed = lastConnectFailure, Monotonic.seconds() - failed < options.reconnectInterval {
            throw .unavailable("reconnect pending")
        }
        do {
            let value = try body(connection)
            lastConnectFailure = nil
            return value
        } catch {
            guard let failure = Database.linkFailure(error), Database.worthRepeating(failure, writing: writing) else {
                noteFailure(error)
                throw StoreError(error, writing: writing)
            }
        }
        do {
            return try body(connection)
        } catch {
            noteFailure(error)
            throw StoreError(error, writing: writing)
        }
    }

    /// A link that broke (a read may always be repeated; a write only when it certainly did not take effect), or
    /// a deadlock or serialization failure, which PostgreSQL rolled back.
    static func worthRepeating(_ failure: PostgresError, writing: Bool) -> Bool {
        if failure.isTransientConflict { return true }
        guard case .connectionLost = failure else { return false }
        return !writing || failure.isSafeToRetry
    }

    private func noteFailure(_ error: any Error) {
        if case .connectionFailed = Database.linkFailure(error) { lastConnectFailure = Monotonic.seconds() }
    }

    /// The database error behind a failure, when there is one.
    private static func linkFailure(_ error: any Error) -> PostgresError? {
        switch error {
        case let error as PostgresError: return error
        case let error as TransactionError<any Error>:
            switch error {
            case .database(let inner): return inner
            case .body(let inner): return inner as? PostgresError
            }
        default: return nil
        }
    }
}

import Platform
import Postgres

/// A database session: one connection, owned by one thread (a pool thread or a job). It reconnects on demand,
/// and after a failed connect it answers "unavailable" at once for a short while instead of trying again on
/// every request, so an outage gives fast 503s rather than requests queueing behind connect attempts.
public final class Database {
    public let connection: Connection
    private var lastConnectFailure: Double?
    private let retryInterval: Double

    public init(conninfo: String, options: Connection.Options = Connection.Options(), retryInterval: Double = 0.25) {
        connection = Connection(conninfo: conninfo, options: options)
        self.retryInterval = retryInterval
    }

    /// Runs `body` on a live connection, mapping PostgreSQL errors to store errors.
    @discardableResult
    public func run<T>(_ body: (Connection) throws(PostgresError) -> T) throws(StoreError) -> T {
        if !connection.isConnected, let failed = lastConnectFailure, Monotonic.seconds() - failed < retryInterval {
            throw .unavailable("reconnect pending")
        }
        do {
            try connection.connect()
        } catch {
            lastConnectFailure = Monotonic.seconds()
            throw StoreError(error)
        }
        lastConnectFailure = nil
        do {
            return try body(connection)
        } catch {
            return try retryOnceIfBroken(error, body)
        }
    }

    /// A connection that broke before this command (PostgreSQL restarted while we were idle) fails the
    /// command's first attempt; one retry on a fresh connection hides that from the caller. Only for reads
    /// and idempotent writes: callers use `run` for both, and every write here is an upsert or guarded update.
    private func retryOnceIfBroken<T>(_ error: PostgresError, _ body: (Connection) throws(PostgresError) -> T) throws(StoreError) -> T {
        guard case .connectionLost = error else { throw StoreError(error) }
        do {
            try connection.connect()
            return try body(connection)
        } catch {
            if !connection.isConnected { lastConnectFailure = Monotonic.seconds() }
            throw StoreError(error)
        }
    }

    /// Runs `body` in one transaction.
    @discardableResult
    public func transaction<T>(_ body: (Connection) throws(PostgresError) -> T) throws(StoreError) -> T {
        try run { connection throws(PostgresError) in
            try connection.transaction { () throws(PostgresError) -> T in try body(connection) }
        }
    }

    /// True when PostgreSQL answers a trivial query within `timeout` seconds.
    public func ping(timeout: Double) -> Bool {
        do {
            return try run { connection throws(PostgresError) in
                try connection.prepared("ping", "SELECT 1", [], timeout: timeout).rowCount == 1
            }
        } catch {
            return false
        }
    }
}

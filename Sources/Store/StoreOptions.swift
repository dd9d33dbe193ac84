/// How a store session talks to PostgreSQL: its deadlines and its name in `pg_stat_activity`.
public struct StoreOptions: Sendable {
    /// Seconds allowed to (re)connect.
    public var connectTimeout: Double
    /// Seconds a command may take before the link is given up (a little over the statement timeout).
    public var commandTimeout: Double
    /// PostgreSQL's own `statement_timeout`, in milliseconds (0 = none).
    public var statementTimeoutMilliseconds: Int
    public var applicationName: String
    /// After a failed connect, how long every call answers "unavailable" at once instead of trying again (so
    /// that an outage gives fast 503s rather than requests queueing behind connect attempts).
    public var reconnectInterval: Double

    public init(connectTimeout: Double = 2, commandTimeout: Double = 10, statementTimeoutMilliseconds: Int = 0,
                applicationName: String = "xomify", reconnectInterval: Double = 0.25) {
        self.connectTimeout = connectTimeout
        self.commandTimeout = commandTimeout
        self.statementTimeoutMilliseconds = statementTimeoutMilliseconds
        self.applicationName = applicationName
        self.reconnectInterval = reconnectInterval
    }

    /// A pool thread's session: commands bounded by the request's database time.
    public static func apiRequest(statementTimeoutMilliseconds: Int) -> StoreOptions {
        StoreOptions(connectTimeout: 1, commandTimeout: Double(statementTimeoutMilliseconds) / 1000 + 1,
                     statementTimeoutMilliseconds: statementTimeoutMilliseconds, applicationName: "xomify-api")
    }

    /// A job runner's session.
    public static func job(applicationName: String = "xomify-job") -> StoreOptions {
        StoreOptions(connectTimeout: 5, commandTimeout: 30, statementTimeoutMilliseconds: 30000,
                     applicationName: applicationName)
    }

    /// Migrations and other administrative commands: long deadlines.
    public static let administration = StoreOptions(connectTimeout: 10, commandTimeout: 600, applicationName: "xomify-admin")
}

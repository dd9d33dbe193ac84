import Postgres

/// The Spotify request budget shared by all runners (SPEC §6, §11): requests counted per minute in PostgreSQL,
/// reserved under a transaction-scoped advisory lock so that runners on several hosts together stay within it.
public struct BudgetStore {
    private let database: Database
    /// Arbitrary, fixed: the advisory lock key of the budget ("spotify").
    static let lockKey = 0x7370_6f74_6966_79

    public init(database: Database) {
        self.database = database
    }

    private enum SQL {
        static let lock = PreparedStatement("SELECT pg_advisory_xact_lock($1)")
        static let used = PreparedStatement("""
            SELECT coalesce(sum(requests), 0)::bigint FROM spotify_request_budget WHERE minute > now() - interval '24 hours'
            """)
        static let take = PreparedStatement("""
            INSERT INTO spotify_request_budget (minute, requests) VALUES (date_trunc('minute', now()), $1)
            ON CONFLICT (minute) DO UPDATE SET requests = spotify_request_budget.requests + EXCLUDED.requests
            """)
        static let giveBack = PreparedStatement("""
            UPDATE spotify_request_budget SET requests = greatest(requests - $1, 0)
            WHERE minute = (SELECT max(minute) FROM spotify_request_budget)
            """)
        static let forget = PreparedStatement("DELETE FROM spotify_request_budget WHERE minute < now() - interval '2 days'")
    }

    /// Reserves up to `wanted` requests out of `dailyBudget` per rolling 24 h; returns how many were granted (0 when
    /// the budget is spent).
    public func reserve(_ wanted: Int, dailyBudget: Int) throws(StoreError) -> Int {
        try database.transaction { connection in
            try connection.execute(SQL.lock, [BudgetStore.lockKey])
            let used = try connection.execute(SQL.used).first?.decode(0, as: Int.self) ?? 0
            let granted = max(0, min(wanted, dailyBudget - used))
            if granted > 0 { try connection.execute(SQL.take, [granted]) }
            return granted
        }
    }

    /// Gives back reserved requests that were not sent.
    public func release(_ unused: Int) throws(StoreError) {
        guard unused > 0 else { return }
        try database.transaction { connection in
            try connection.execute(SQL.lock, [BudgetStore.lockKey])
            try connection.execute(SQL.giveBack, [unused])
            try connection.execute(SQL.forget)
        }
    }

    /// Requests left in the rolling 24 h window.
    public func remaining(dailyBudget: Int) throws(StoreError) -> Int {
        try database.read(SQL.used) { result in max(0, dailyBudget - (try result.first?.decode(0, as: Int.self) ?? 0)) }
    }
}

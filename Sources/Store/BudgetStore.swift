import Postgres

/// The Spotify request budget shared by all runners (SPEC §6, §11): requests counted per minute in PostgreSQL,
/// reserved under a transaction-scoped advisory lock so that runners on several hosts together stay within it.
public struct BudgetStore {
    private let database: Database
    static let lockKey = 0x7370_6f74_6966_79 // "spotify"

    public init(database: Database) {
        self.database = database
    }

    /// Reserves up to `wanted` requests out of `dailyBudget` per rolling 24 h; returns how many were granted (0 when
    /// the budget is spent).
    public func reserve(_ wanted: Int, dailyBudget: Int) throws(StoreError) -> Int {
        try database.transaction { connection throws(PostgresError) in
            try connection.prepared("budget_lock", "SELECT pg_advisory_xact_lock($1)", [BudgetStore.lockKey])
            let used = try connection.prepared("budget_used", """
                SELECT coalesce(sum(requests), 0)::bigint FROM spotify_request_budget WHERE minute > now() - interval '24 hours'
                """).first?.decode(0, as: Int.self) ?? 0
            let granted = max(0, min(wanted, dailyBudget - used))
            if granted > 0 {
                try connection.prepared("budget_take", """
                    INSERT INTO spotify_request_budget (minute, requests) VALUES (date_trunc('minute', now()), $1)
                    ON CONFLICT (minute) DO UPDATE SET requests = spotify_request_budget.requests + EXCLUDED.requests
                    """, [granted])
            }
            return granted
        }
    }

    /// Gives back reserved requests that were not sent.
    public func release(_ unused: Int) throws(StoreError) {
        guard unused > 0 else { return }
        try database.transaction { connection throws(PostgresError) in
            try connection.prepared("budget_lock", "SELECT pg_advisory_xact_lock($1)", [BudgetStore.lockKey])
            try connection.query("""
                UPDATE spotify_request_budget SET requests = greatest(requests - $1, 0)
                WHERE minute = (SELECT max(minute) FROM spotify_request_budget)
                """, [unused])
            try connection.query("DELETE FROM spotify_request_budget WHERE minute < now() - interval '2 days'")
        }
    }

    /// Requests left in the rolling 24 h window.
    public func remaining(dailyBudget: Int) throws(StoreError) -> Int {
        try database.run { connection throws(PostgresError) in
            let used = try connection.query("""
                SELECT coalesce(sum(requests), 0)::bigint FROM spotify_request_budget WHERE minute > now() - interval '24 hours'
                """).first?.decode(0, as: Int.self) ?? 0
            return max(0, dailyBudget - used)
        }
    }
}

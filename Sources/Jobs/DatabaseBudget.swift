import Spotify
import Store

/// The daily budget, reserved from PostgreSQL a few requests at a time (so that several runners on several hosts
/// share it without a database round trip per request); what is left unspent is given back at the end.
actor DatabaseBudget: RequestBudget {
    private let database: JobDatabase
    private let dailyBudget: Int
    private let chunk: Int
    private var reserved = 0
    private var exhausted = false

    init(database: JobDatabase, dailyBudget: Int, chunk: Int = 10) {
        self.database = database
        self.dailyBudget = dailyBudget
        self.chunk = chunk
    }

    func spend() async throws(SpotifyError) {
        if reserved == 0 {
            guard !exhausted else { throw .budgetExhausted }
            let granted: Int
            do {
                granted = try database.with { stores throws(StoreError) in
                    try stores.budget.reserve(chunk, dailyBudget: dailyBudget)
                }
            } catch {
                throw .unavailable("cannot reserve budget: \(error)")
            }
            guard granted > 0 else {
                exhausted = true
                throw .budgetExhausted
            }
            reserved = granted
        }
        reserved -= 1
    }

    func close() async {
        let unused = reserved
        reserved = 0
        _ = try? database.with { stores throws(StoreError) in try stores.budget.release(unused) }
    }
}

/// The budget of a dry run: what is left is read once and counted down in memory (a dry run writes nothing).
actor ReadOnlyBudget: RequestBudget {
    private var left: Int

    init(remaining: Int) {
        left = remaining
    }

    func spend() async throws(SpotifyError) {
        guard left > 0 else { throw .budgetExhausted }
        left -= 1
    }

    func close() async {}
}

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
    /// A reservation is in flight: the actor is free while it awaits the database, and the other requests wait
    /// for it (in `waiters`) instead of each reserving a chunk of their own.
    private var reserving = false
    private var waiters: [CheckedContinuation<Void, Never>] = []

    init(database: JobDatabase, dailyBudget: Int, chunk: Int = 10) {
        self.database = database
        self.dailyBudget = dailyBudget
        self.chunk = chunk
    }

    func spend() async throws(SpotifyError) {
        while reserved == 0 {
            guard !exhausted else { throw .budgetExhausted }
            if reserving {
                await withCheckedContinuation { waiters.append($0) }
                continue
            }
            reserving = true
            let outcome = await reserve()
            reserving = false
            for waiter in waiters { waiter.resume() }
            waiters.removeAll()
            let granted = try outcome.get()
            if granted == 0 { exhausted = true }
            reserved += granted
        }
        reserved -= 1
    }

    private func reserve() async -> Result<Int, SpotifyError> {
        let (wanted, daily) = (chunk, dailyBudget)
        do {
            return .success(try await database.with { stores in try stores.budget.reserve(wanted, dailyBudget: daily) })
        } catch {
            // Not Spotify's failure, and not the user's: stop the run as for any database failure. A reservation
            // whose outcome is unknown may have been committed; it is not repeated, and not given back either
            // (nothing identifies it), so the budget errs by at most one chunk on the safe side.
            return .failure(.budgetUnavailable("\(error)"))
        }
    }

    func close() async {
        let unused = reserved
        reserved = 0
        _ = try? await database.with { stores in try stores.budget.release(unused) }
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

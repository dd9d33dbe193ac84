import JSON
import Log
import Model
import Spotify
import Store

/// Takes users and works on up to `parallelism` of them at once until none is left or the run must stop: claimed
/// items (FOR UPDATE SKIP LOCKED, with a lease) in email order from where the last claim ended, then once more
/// from the start for items left behind (a lease that ran out meanwhile), or for a dry run the selection read page
/// by page. Each user's outcome is recorded on its item before the next user is taken.
struct WorkScheduler: Sendable {
    let task: any UserTask
    let options: RunOptions
    let settings: JobSettings
    let database: JobDatabase
    let spotify: SpotifyClient
    let report: JobReport
    let state: RunState
    let log: Logger
    /// Attempts a user gets over all runs before a retryable failure counts as a failure.
    static let maxAttempts = 3

    private struct WorkItem: Sendable {
        let email: Email
        let progress: JSONObject
    }

    func work(run: JobStore.Run?) async {
        var cursor: Email?
        var exhausted = false
        await withTaskGroup(of: Void.self) { group in
            var inFlight = 0
            while true {
                if await !state.isStopped && !exhausted && inFlight < settings.parallelism {
                    let items = await next(limit: settings.parallelism - inFlight, run: run, cursor: &cursor)
                    if items.isEmpty { exhausted = run == nil } // a dry run reads the selection once
                    for item in items {
                        group.addTask { await process(item, run: run) }
                        inFlight += 1
                    }
                    if !items.isEmpty { continue }
                }
                if inFlight == 0 { break }
                _ = await group.next()
                inFlight -= 1
            }
        }
    }

    private func next(limit: Int, run: JobStore.Run?, cursor: inout Email?) async -> [WorkItem] {
        let (job, period, only, lease) = (task.job, task.period, options.only, settings.leaseSeconds)
        do {
            if let run {
                // The cursor (one email, the greatest claimed) keeps each claim's index scan short however many
                // users the run has done; when nothing is left after it, the claim looks from the start.
                let claim = { (after: Email?) in
                    try await database.with { stores in
                        try stores.jobs.claim(job, period: period, run: run, limit: limit, leaseSeconds: lease,
                                              only: only, after: after)
                    }
                }
                var claimed = try await claim(cursor)
                if claimed.isEmpty && cursor != nil {
                    // Behind the cursor: what is found there leaves the cursor where it is.
                    claimed = try await claim(nil)
                } else if let last = claimed.last {
                    cursor = last.email // the database's order, which is what the next claim compares with
                }
                return claimed.map { WorkItem(email: $0.email, progress: $0.progress) }
            }
            var items: [WorkItem] = []
            while items.isEmpty {
                let after = cursor
                let page = try await database.with { stores in
                    try stores.jobs.selected(job, period: period, after: after, limit: max(limit, 1), only: only)
                }
                guard let last = page.last else { break }
                cursor = last.email
                report.setTotal(report.tally.total + page.count)
                for entry in page {
                    if entry.done { report.skipped(entry.email.value, "already done for \(period)") } else {
                        items.append(WorkItem(email: entry.email, progress: JSONObject()))
                    }
                }
            }
            return items
        } catch {
            await state.stop("database: \(error)", status: .stoppedEarly)
            return []
        }
    }

    private func process(_ item: WorkItem, run: JobStore.Run?) async {
        let outcome: JobOutcome
        do {
            try await work(on: item, run: run)
            outcome = .done
        } catch {
            outcome = JobOutcome(error)
        }
        await record(item.email, outcome, run: run)
    }

    private func work(on item: WorkItem, run: JobStore.Run?) async throws {
        let (job, period, email, database) = (task.job, task.period, item.email, database)
        guard try await database.with({ stores in try stores.jobs.stillSelected(job, email: email) }) else {
            throw TaskDecision.skip("no longer taking part")
        }
        let accessToken = try await openSession(email, spotify: spotify, database: database, dryRun: options.dryRun)
        let context = UserContext(email: email, accessToken: accessToken, spotify: spotify, database: database,
                                  dryRun: options.dryRun, log: log, progress: item.progress) { progress in
            guard let run else { return }
            try await database.with { stores in
                try stores.jobs.saveProgress(job, period: period, email: email, run: run, progress)
            }
        }
        try await task.run(context)
    }

    private func record(_ email: Email, _ outcome: JobOutcome, run: JobStore.Run?) async {
        if case .stopRun(let why, let status) = outcome { await state.stop(why, status: status) }
        var final: JobStore.ItemState?
        if let run {
            let (job, period) = (task.job, task.period)
            do {
                final = try await database.with { stores in
                    try stores.jobs.finish(job, period: period, email: email, run: run, outcome.itemOutcome,
                                           maxAttempts: WorkScheduler.maxAttempts)
                }
            } catch {
                await state.stop("database: \(error)", status: .stoppedEarly)
                log.error("cannot record a user's outcome", ["user": email.value, "error": "\(error)"])
                return
            }
            if final == nil {
                log.warning("the user's item was taken over by another runner before this one finished it",
                            ["user": email.value])
            }
        }
        switch outcome {
        case .done: report.done(email.value)
        case .skipped(let why): report.skipped(email.value, why)
        case .failed(let why): report.failed(email.value, why)
        case .retryLater(let why): final == .failed ? report.failed(email.value, why) : report.retrying(email.value, why)
        case .stopRun(let why, _): report.retrying(email.value, why)
        }
    }
}

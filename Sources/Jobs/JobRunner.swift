import JSON
import Log
import Model
import Platform
import Spotify
import Store

/// What one job does for one user.
protocol UserTask: Sendable {
    var job: JobStore.Job { get }
    var period: String { get }
    /// The user's work; progress recorded through `user.record` survives a crash.
    func run(_ user: UserContext) async throws(TaskError)
}

/// How a run was asked to go.
public struct RunOptions: Sendable {
    public var only: Email?
    public var dryRun: Bool

    public init(only: Email? = nil, dryRun: Bool = false) {
        self.only = only
        self.dryRun = dryRun
    }
}

/// The common machinery of both jobs (SPEC §7): stale runs taken over, items enlisted in the database and claimed
/// with FOR UPDATE SKIP LOCKED and a lease kept alive by a heartbeat, users worked on concurrently, each user's
/// failure recorded on its item, a run stopped cleanly by the quota or the budget, one job-run row, a summary,
/// and the exit status of §7.3.
final class JobRunner: Sendable {
    private let settings: JobSettings
    private let task: any UserTask
    private let options: RunOptions
    private let database: JobDatabase
    private let log: Logger
    private let state = RunState()
    private static let maxAttempts = 3

    init(settings: JobSettings, task: any UserTask, options: RunOptions) {
        self.settings = settings
        self.task = task
        self.options = options
        database = JobDatabase(conninfo: settings.conninfo, keys: settings.tokenKeys)
        log = Logger(task.job.rawValue)
    }

    /// Runs the job and returns the process exit status.
    func run() async -> Int32 {
        let budget: any RequestBudget
        do {
            budget = try makeBudget()
        } catch {
            log.error("cannot start", ["error": error.reason])
            return 75
        }
        let spotify: SpotifyClient
        do {
            spotify = try SpotifyClient(configuration: settings.spotify, budget: budget)
        } catch {
            log.error("cannot start the Spotify client", ["error": error.description])
            return 70
        }
        let title = "\(task.job == .wrapped ? "xomify-wrapped" : "xomify-release-radar") \(task.period)\(options.dryRun ? " (dry run)" : "")"
        let report = JobReport(title: title, counters: spotify.counters, log: log)
        log.info("run starting", ["period": task.period, "dry_run": options.dryRun, "user": options.only?.value ?? "all"])

        var run: JobStore.Run?
        if options.dryRun {
            await work(report: report, spotify: spotify, run: nil)
        } else {
            do {
                takeOverCrashedRuns()
                let started = try storeCall { () throws(StoreError) in
                    try database.with { stores throws(StoreError) in
                        try stores.jobs.startRun(task.job, period: task.period, host: Environment.hostName(),
                                                 pid: Processes.currentID(),
                                                 processStart: Processes.startTime(of: Processes.currentID()) ?? 0)
                    }
                }
                run = started
                let counts = try storeCall { () throws(StoreError) in
                    try database.with { stores throws(StoreError) in
                        try stores.jobs.enlist(task.job, period: task.period, only: options.only)
                    }
                }
                report.setTotal(counts.pending + counts.done + counts.failed + counts.skipped,
                                finishedEarlier: counts.done + counts.failed + counts.skipped)
                if counts.pending > 0 {
                    let heartbeat = startHeartbeat(started)
                    await work(report: report, spotify: spotify, run: started)
                    heartbeat.cancel()
                }
            } catch {
                await state.stop(error.reason, status: 75)
            }
        }
        await spotify.close()

        let stop = await state.stopped
        let tally = report.tally
        let status: Int32
        if let stop {
            status = stop.status
        } else if !tally.retrying.isEmpty {
            status = 75
        } else if !tally.failed.isEmpty {
            status = 1
        } else {
            status = 0
        }
        if let run {
            let summary = JobStore.RunSummary(
                status: status == 0 ? "succeeded" : status == 1 ? "partial" : status == 75 ? "stopped" : "failed",
                stopReason: stop?.reason, usersTotal: tally.total, usersDone: tally.done, usersFailed: tally.failed.count,
                usersSkipped: tally.skipped.count, requests: spotify.counters.total,
                requestsByEndpoint: spotify.counters.byEndpoint, status429: spotify.counters.rateLimited)
            do {
                try database.with { stores throws(StoreError) in try stores.jobs.finishRun(run, summary) }
            } catch {
                log.error("cannot record the end of the run", ["error": error.description])
            }
        }
        Console.out(report.summary(status: status, stopReason: stop?.reason))
        log.info("run finished", ["status": status, "done": tally.done, "failed": tally.failed.count,
                                  "skipped": tally.skipped.count, "requests": spotify.counters.total,
                                  "status_429": spotify.counters.rateLimited, "seconds": format1(report.elapsed)])
        return status
    }

    private func makeBudget() throws(TaskError) -> any RequestBudget {
        guard settings.dailyBudget > 0 else { return UnlimitedBudget() }
        if options.dryRun {
            let remaining = try storeCall { () throws(StoreError) in
                try database.with { stores throws(StoreError) in try stores.budget.remaining(dailyBudget: settings.dailyBudget) }
            }
            return ReadOnlyBudget(remaining: remaining)
        }
        return DatabaseBudget(database: database, dailyBudget: settings.dailyBudget)
    }

    /// Runs whose process is gone (same host: the pid and its start time; other hosts: a silent heartbeat) are
    /// marked crashed, and their items become claimable at once.
    private func takeOverCrashedRuns() {
        do {
            let host = Environment.hostName()
            let runs = try database.with { stores throws(StoreError) in try stores.jobs.runningRuns(task.job) }
            for stale in runs {
                let gone = stale.host == host ? !Processes.isRunning(pid: stale.pid, startTime: stale.processStart)
                                              : stale.silentSeconds > Double(settings.leaseSeconds)
                guard gone else { continue }
                try database.with { stores throws(StoreError) in try stores.jobs.markCrashed(stale.id) }
                log.warning("took over the items of a run that ended without finishing", ["run": stale.id, "host": stale.host])
            }
        } catch {
            log.warning("cannot check for crashed runs", ["error": error.description])
        }
    }

    private func startHeartbeat(_ run: JobStore.Run) -> Task<Void, Never> {
        let database = self.database
        let lease = settings.leaseSeconds
        let interval = Double(max(lease / 4, 5))
        return Task {
            while !Task.isCancelled {
                try? await Task.sleep(nanoseconds: UInt64(interval * 1e9))
                if Task.isCancelled { break }
                _ = try? database.with { stores throws(StoreError) in try stores.jobs.heartbeat(run, leaseSeconds: lease) }
            }
        }
    }

    // MARK: Work

    private struct WorkItem: Sendable {
        let email: Email
        let progress: JSONObject
    }

    /// Takes users (claimed items, or for a dry run the selection read page by page) and works on up to
    /// `parallelism` of them at once until none is left or the run must stop.
    private func work(report: JobReport, spotify: SpotifyClient, run: JobStore.Run?) async {
        var cursor: Email?
        var exhausted = false
        await withTaskGroup(of: Void.self) { group in
            var inFlight = 0
            while true {
                let stopped = await state.stopped != nil
                if !stopped && !exhausted && inFlight < settings.parallelism {
                    let items = await next(limit: settings.parallelism - inFlight, run: run, cursor: &cursor, report: report)
                    if items.isEmpty { exhausted = run == nil } // a dry run reads the selection once
                    for item in items {
                        await state.attempted(item.email.value)
                        group.addTask { await self.process(item, report: report, spotify: spotify, run: run) }
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

    private func next(limit: Int, run: JobStore.Run?, cursor: inout Email?, report: JobReport) async -> [WorkItem] {
        do {
            if let run {
                let excluded = await state.attemptedEmails
                return try database.with { stores throws(StoreError) in
                    try stores.jobs.claim(task.job, period: task.period, run: run, limit: limit,
                                          leaseSeconds: settings.leaseSeconds, only: options.only, excluding: excluded)
                }.map { WorkItem(email: $0.email, progress: $0.progress) }
            }
            var items: [WorkItem] = []
            while items.isEmpty {
                let page = try database.with { stores throws(StoreError) in
                    try stores.jobs.selected(task.job, period: task.period, after: cursor, limit: max(limit, 1), only: options.only)
                }
                guard let last = page.last else { break }
                cursor = last.email
                report.setTotal(report.tally.total + page.count)
                for entry in page {
                    if entry.done { report.skipped(entry.email.value, "already done for \(task.period)") } else {
                        items.append(WorkItem(email: entry.email, progress: JSONObject()))
                    }
                }
            }
            return items
        } catch {
            await state.stop("database: \(error)", status: 75)
            return []
        }
    }

    private func process(_ item: WorkItem, report: JobReport, spotify: SpotifyClient, run: JobStore.Run?) async {
        let email = item.email
        let database = self.database
        let outcome: TaskError?
        do throws(TaskError) {
            let selected = try storeCall { () throws(StoreError) in
                try database.with { stores throws(StoreError) in try stores.jobs.stillSelected(task.job, email: email) }
            }
            guard selected else { throw TaskError.skip("no longer taking part") }
            let accessToken = try await openSession(email, spotify: spotify, database: database, dryRun: options.dryRun)
            let job = task.job
            let period = task.period
            let context = UserContext(email: email, accessToken: accessToken, spotify: spotify, database: database,
                                      dryRun: options.dryRun, log: log, progress: item.progress) { progress throws(StoreError) in
                guard let run else { return }
                try database.with { stores throws(StoreError) in
                    try stores.jobs.saveProgress(job, period: period, email: email, run: run, progress)
                }
            }
            try await task.run(context)
            outcome = nil
        } catch {
            outcome = error
        }
        await record(email, outcome, report: report, run: run)
    }

    private func record(_ email: Email, _ outcome: TaskError?, report: JobReport, run: JobStore.Run?) async {
        let storeOutcome: JobStore.Outcome
        switch outcome {
        case nil: storeOutcome = .done
        case .skip(let why): storeOutcome = .skipped(reason: why)
        case .fail(let why): storeOutcome = .failed(reason: why)
        case .retry(let why): storeOutcome = .retry(reason: why)
        case .stop(let why, let status):
            await state.stop(why, status: status)
            storeOutcome = .interrupted(reason: why)
        }
        var final = "dry-run"
        if let run {
            do {
                final = try database.with { stores throws(StoreError) in
                    try stores.jobs.finish(task.job, period: task.period, email: email, run: run, storeOutcome,
                                           maxAttempts: JobRunner.maxAttempts)
                }
            } catch {
                await state.stop("database: \(error)", status: 75)
                log.error("cannot record a user's outcome", ["user": email.value, "error": error.description])
                return
            }
        }
        switch outcome {
        case nil: report.done(email.value)
        case .skip(let why): report.skipped(email.value, why)
        case .fail(let why): report.failed(email.value, why)
        case .retry(let why): final == "failed" ? report.failed(email.value, why) : report.retrying(email.value, why)
        case .stop(let why, _): report.retrying(email.value, why)
        }
    }
}

/// The mutable state of a run shared by its user tasks.
actor RunState {
    private(set) var stopped: (reason: String, status: Int32)?
    private(set) var attemptedEmails: [String] = []

    func stop(_ reason: String, status: Int32) {
        // A configuration fault (78) outranks a quota stop (75).
        if stopped == nil || (status == 78 && stopped?.status != 78) { stopped = (reason, status) }
    }

    func attempted(_ email: String) {
        attemptedEmails.append(email)
    }
}

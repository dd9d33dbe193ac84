import Log
import Model
import Platform
import Spotify
import Store

/// How a run was asked to go.
public struct RunOptions: Sendable {
    public var only: Email?
    public var dryRun: Bool

    public init(only: Email? = nil, dryRun: Bool = false) {
        self.only = only
        self.dryRun = dryRun
    }
}

/// The common machinery of both jobs (SPEC §7), its lifecycle: stale runs taken over, one job-run row, the
/// period's items enlisted, a heartbeat while users are worked on (`WorkScheduler`), the row finished with a
/// summary, and the exit status of §7.3.
final class JobRunner: Sendable {
    /// What a job's task may need from the run that works it.
    struct RunContext: Sendable {
        let spotify: SpotifyClient
        let database: JobDatabase
        /// Nil for a dry run.
        let run: JobStore.Run?
    }

    private let settings: JobSettings
    private let job: JobStore.Job
    private let period: String
    private let options: RunOptions
    private let makeTask: @Sendable (RunContext) -> any UserTask
    private let log: Logger

    init(settings: JobSettings, job: JobStore.Job, period: String, options: RunOptions,
         makeTask: @escaping @Sendable (RunContext) -> any UserTask) {
        self.settings = settings
        self.job = job
        self.period = period
        self.options = options
        self.makeTask = makeTask
        log = Logger(job.rawValue)
    }

    /// Runs the job and returns the process exit status.
    func run() async -> ExitStatus {
        let database: JobDatabase
        do {
            database = try JobDatabase(conninfo: settings.conninfo, keys: settings.tokenKeys,
                                       tasks: settings.parallelism)
        } catch {
            log.error("cannot start the database session", ["error": error.description])
            return .software
        }
        defer { database.close() }
        let budget: any RequestBudget
        do {
            budget = try await makeBudget(database)
        } catch {
            log.error("cannot start", ["error": "\(error)"])
            return .stoppedEarly
        }
        let spotify: SpotifyClient
        do {
            spotify = try SpotifyClient(configuration: settings.spotify, budget: budget)
        } catch {
            log.error("cannot start the Spotify client", ["error": error.description])
            return .software
        }
        let name = job == .wrapped ? "xomify-wrapped" : "xomify-release-radar"
        let report = JobReport(title: "\(name) \(period)\(options.dryRun ? " (dry run)" : "")",
                               counters: spotify.counters, log: log)
        log.info("run starting", ["period": period, "dry_run": options.dryRun, "user": options.only?.value ?? "all"])

        let state = RunState()
        var run: JobStore.Run?
        if options.dryRun {
            let task = makeTask(RunContext(spotify: spotify, database: database, run: nil))
            await WorkScheduler(task: task, options: options, settings: settings, database: database, spotify: spotify,
                                report: report, state: state, log: log).work(run: nil)
        } else {
            do {
                run = try await startRun(database, spotify: spotify, report: report, state: state)
            } catch {
                await state.stop("database: \(error)", status: .stoppedEarly)
            }
        }
        await spotify.close()

        let stop = await state.stopped
        let tally = report.tally
        let status: ExitStatus
        if let stop {
            status = stop.status
        } else if !tally.retrying.isEmpty {
            status = .stoppedEarly
        } else if !tally.failed.isEmpty {
            status = .someFailed
        } else {
            status = .success
        }
        if let run {
            await finish(run, status: status, stopReason: stop?.reason, tally: tally, counters: spotify.counters,
                         database: database)
        }
        Console.out(report.summary(status: status.rawValue, stopReason: stop?.reason))
        log.info("run finished", ["status": status.rawValue, "done": tally.done, "failed": tally.failed.count,
                                  "skipped": tally.skipped.count, "requests": spotify.counters.total,
                                  "status_429": spotify.counters.rateLimited, "seconds": format1(report.elapsed)])
        return status
    }

    /// Takes over crashed runs, records this one, enlists the period's items and works on what is pending.
    private func startRun(_ database: JobDatabase, spotify: SpotifyClient, report: JobReport,
                          state: RunState) async throws -> JobStore.Run {
        await RunTakeover(job: job, leaseSeconds: settings.leaseSeconds, database: database, log: log).takeOverCrashedRuns()
        let (job, period, only) = (self.job, self.period, options.only)
        let (host, pid) = (Environment.hostName(), Processes.currentID())
        let processStart = Processes.startTime(of: pid) ?? 0
        let run = try await database.with { stores in
            try stores.jobs.startRun(job, period: period, host: host, pid: pid, processStart: processStart)
        }
        let counts = try await database.with { stores in try stores.jobs.enlist(job, period: period, only: only) }
        report.setTotal(counts.total, finishedEarlier: counts.done + counts.failed + counts.skipped)
        if counts.pending > 0 {
            let task = makeTask(RunContext(spotify: spotify, database: database, run: run))
            let heartbeat = Heartbeat(run: run, leaseSeconds: settings.leaseSeconds, database: database, log: log)
            await WorkScheduler(task: task, options: options, settings: settings, database: database, spotify: spotify,
                                report: report, state: state, log: log).work(run: run)
            heartbeat.stop()
        }
        return run
    }

    private func finish(_ run: JobStore.Run, status: ExitStatus, stopReason: String?, tally: JobReport.Tally,
                        counters: RequestCounters, database: JobDatabase) async {
        let recorded: JobStore.RunStatus
        switch status {
        case .success: recorded = .succeeded
        case .someFailed: recorded = .partial
        case .stoppedEarly: recorded = .stopped
        case .software, .configuration: recorded = .failed
        }
        let summary = JobStore.RunSummary(
            status: recorded, stopReason: stopReason, usersTotal: tally.total, usersDone: tally.done,
            usersFailed: tally.failed.count, usersSkipped: tally.skipped.count, requests: counters.total,
            requestsByEndpoint: counters.byEndpoint, status429: counters.rateLimited)
        do {
            try await database.with { stores in try stores.jobs.finishRun(run, summary) }
        } catch {
            log.error("cannot record the end of the run", ["error": "\(error)"])
        }
    }

    private func makeBudget(_ database: JobDatabase) async throws -> any RequestBudget {
        let daily = settings.dailyBudget
        guard daily > 0 else { return UnlimitedBudget() }
        if options.dryRun {
            let remaining = try await database.with { stores in try stores.budget.remaining(dailyBudget: daily) }
            return ReadOnlyBudget(remaining: remaining)
        }
        return DatabaseBudget(database: database, dailyBudget: daily)
    }
}

import Log
import Platform
import Store

/// Finds runs of the job whose process is gone (same host: its pid and start time; another host: a heartbeat
/// silent for longer than the lease) and marks them crashed, which frees their items at once.
struct RunTakeover {
    let job: JobStore.Job
    let leaseSeconds: Int
    let database: JobDatabase
    let log: Logger

    func takeOverCrashedRuns() async {
        do {
            let host = Environment.hostName()
            let job = self.job
            let runs = try await database.with { stores in try stores.jobs.runningRuns(job) }
            for stale in runs {
                let gone = stale.host == host ? !Processes.isRunning(pid: stale.pid, startTime: stale.processStart)
                                              : stale.silentSeconds > Double(leaseSeconds)
                guard gone else { continue }
                try await database.with { stores in try stores.jobs.markCrashed(stale.run) }
                log.warning("took over the items of a run that ended without finishing",
                            ["run": stale.run.id, "host": stale.host])
            }
        } catch {
            log.warning("cannot check for crashed runs", ["error": "\(error)"])
        }
    }
}

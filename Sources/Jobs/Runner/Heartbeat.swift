import Log
import Store

/// Keeps a run's claims alive: every quarter of the lease (at least every 5 s) the run's heartbeat and its
/// items' leases are renewed, so another runner takes over the items only when this one has gone quiet.
struct Heartbeat {
    private let task: Task<Void, Never>

    init(run: JobStore.Run, leaseSeconds: Int, database: JobDatabase, log: Logger) {
        let interval = Double(max(leaseSeconds / 4, 5))
        task = Task {
            while !Task.isCancelled {
                try? await Task.sleep(nanoseconds: UInt64(interval * 1e9))
                if Task.isCancelled { break }
                do {
                    try await database.with { stores in try stores.jobs.heartbeat(run, leaseSeconds: leaseSeconds) }
                } catch {
                    log.warning("heartbeat failed; the leases run out unless a later one succeeds",
                                ["run": run.id, "error": "\(error)"])
                }
            }
        }
    }

    func stop() { task.cancel() }
}

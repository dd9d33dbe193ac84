import Log
import Platform

/// A worker's watch over its threads and connections, run by its main thread a few times a second: it closes a
/// connection that has not sent its whole request in time (whether it sent nothing or part of a record: a waiting
/// one, or, for a request too large to see whole before reading, one a thread is reading), closes kept
/// connections idle past the keep-alive time, and finds requests running past their limit plus a grace (a
/// thread cannot be stopped from outside, so the worker is replaced, as php-fpm's `request_terminate_timeout`
/// does).
final class Watchdog {
    private let activities: [ThreadActivity]
    private let connections: WorkerConnections
    private let scoreboard: Scoreboard
    private let readLimit: UInt64
    private let idleLimit: UInt64
    private let terminateAfter: UInt64
    private let log = Logger("pool")
    /// Threads already reported past their request's limit (each is counted and logged once).
    private var reported: Set<Int> = []
    /// Seconds between rounds: a quarter of the read timeout, at most 50 ms (how long a connection that has sent part
    /// of its request rests before it is looked at again).
    let interval: Double

    init(options: PoolOptions, activities: [ThreadActivity], connections: WorkerConnections, scoreboard: Scoreboard) {
        self.activities = activities
        self.connections = connections
        self.scoreboard = scoreboard
        readLimit = UInt64(options.requestReadTimeoutSeconds * 1e9)
        idleLimit = UInt64(options.keepAliveSeconds * 1e9)
        terminateAfter = UInt64((options.requestTimeoutSeconds + options.terminateGraceSeconds) * 1e9)
        interval = min(0.05, max(0.01, options.requestReadTimeoutSeconds / 4))
    }

    /// One round; returns how many threads are stuck in a request past its limit (the worker must be replaced).
    func check() -> Int {
        let now = Monotonic.nanoseconds()
        var stuck = 0
        for (index, activity) in activities.enumerated() {
            if activity.cutOffReading(after: readLimit, now: now) {
                log.warning("connection closed: its request did not arrive in time",
                            ["thread": index, "limit_ms": Int(readLimit / 1_000_000)])
            }
            if let busy = activity.busyFor(now: now), busy > terminateAfter {
                stuck += 1
                guard reported.insert(index).inserted else { continue }
                scoreboard.add(.terminatedRequests)
                log.error("request past its limit: the worker is replaced to end it",
                          ["thread": index, "request": activity.request, "ms": Int(busy / 1_000_000)])
            }
        }
        connections.closeExpired(readLimit: readLimit, idleLimit: idleLimit, now: now)
        connections.wakeResting()
        return stuck
    }
}

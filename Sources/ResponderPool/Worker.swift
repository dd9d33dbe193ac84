import FastCGI
import HTTP
import Log
import Platform
import Synchronization

/// State shared by a worker's responder threads.
final class WorkerState: Sendable {
    let served = Atomic<Int>(0)
    /// The worker has served its `maxRequestsPerWorker`: it drains, and the supervisor replaces it.
    let budgetSpent = Atomic<Bool>(false)
}

/// A worker process: T responder threads taking connections from the shared listening socket, and the main thread
/// taking signals and keeping watch (`Watchdog`). SIGTERM (or the request budget running out) drains it: it takes
/// no new connection, closes its idle kept ones, serves every connection it already accepted, and exits 0.
enum WorkerProcess {
    static func run(slot: Int, listenFD: Int32, scoreboard: Scoreboard, options: PoolOptions,
                    factory: any ResponderFactory) -> Never {
        let log = Logger("worker")
        let pid = Processes.currentID()
        setCurrentThreadName("xomify-w\(slot)")

        let events: WorkerEvents
        do {
            events = try WorkerEvents(listenFD: listenFD)
        } catch {
            log.error("cannot set up the worker", ["error": error.description])
            Processes.exitNow(1)
        }
        let connections = WorkerConnections(events: events, limit: options.maxWaitingConnections,
                                            scoreboard: scoreboard, slot: slot)
        let state = WorkerState()
        let poolStatus = PoolStatus(scoreboard: scoreboard, listenFD: listenFD)
        var activities: [ThreadActivity] = []
        for index in 0..<options.threadsPerWorker {
            let activity = ThreadActivity(scoreboard: scoreboard, slot: slot, thread: index)
            activities.append(activity)
            let thread = ResponderThread(index: index, slot: slot, listening: ListeningSocket(fd: listenFD),
                                         events: events, connections: connections, activity: activity, state: state,
                                         scoreboard: scoreboard, options: options, poolStatus: poolStatus,
                                         factory: factory)
            do {
                try OSThread.start(name: "xomify-w\(slot)t\(index)") { thread.run() }.detach()
            } catch {
                log.error("cannot start a responder thread", ["error": error.description])
                Processes.exitNow(1)
            }
        }
        scoreboard.setState(slot, .accepting)
        log.debug("worker accepting", ["pid": pid, "slot": slot, "threads": options.threadsPerWorker])

        let watchdog = Watchdog(options: options, activities: activities, connections: connections,
                                scoreboard: scoreboard)
        var drainDeadline: Deadline?
        func drain(_ why: String) {
            guard drainDeadline == nil else { return }
            log.debug("worker draining", ["pid": pid, "why": why])
            drainDeadline = Deadline(after: options.drainTimeoutSeconds)
            scoreboard.setState(slot, .draining)
            events.stopListening()
            connections.drain()
        }
        while true {
            if drainDeadline == nil,
               let signal = Signals.wait(for: [Signals.terminate, Signals.interrupt, Signals.hangUp, Signals.quit],
                                         timeout: watchdog.interval) {
                drain(Signals.name(signal))
            } else if drainDeadline != nil {
                sleep(seconds: watchdog.interval)
            }
            if Processes.parentID() == 1 { drain("the supervisor is gone") }
            if state.budgetSpent.load(ordering: .relaxed) { drain("max requests served") }
            let stuck = watchdog.check()
            if stuck > 0 { drain("a request past its limit") }
            // Every accepted connection served (a thread stuck past its request's limit never will be: its request
            // ends with this process), or the drain timed out (the supervisor kills what is left after its own).
            if let deadline = drainDeadline, connections.isQuiet(stuck: stuck) || deadline.hasPassed {
                Processes.exitNow(0)
            }
        }
    }
}

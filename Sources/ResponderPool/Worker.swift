import FastCGI
import HTTP
import Log
import Platform
import Synchronization

/// State shared by a worker's responder threads.
final class WorkerState: Sendable {
    let draining = Atomic<Bool>(false)
    let served = Atomic<Int>(0)
    /// Responder threads still running.
    let running = Atomic<Int>(0)
}

/// A worker process: T responder threads accepting on the shared listening socket, and the main thread taking
/// signals and keeping watch (`Watchdog`). SIGTERM (or the request budget running out) drains it: threads finish
/// the request in hand, stop accepting, and the process exits 0.
enum WorkerProcess {
    static func run(slot: Int, listenFD: Int32, scoreboard: Scoreboard, options: PoolOptions,
                    factory: any ResponderFactory) -> Never {
        let log = Logger("worker")
        let pid = Processes.currentID()
        setCurrentThreadName("xomify-w\(slot)")

        let wake: WakePipe
        let events: WorkerEvents
        do {
            wake = try WakePipe()
            events = try WorkerEvents(listenFD: listenFD, wake: wake)
        } catch {
            log.error("cannot set up the worker", ["error": error.description])
            Processes.exitNow(1)
        }
        let kept = KeptConnections(events: events, limit: options.maxKeptConnections, scoreboard: scoreboard, slot: slot)
        let state = WorkerState()
        let poolStatus = PoolStatus(scoreboard: scoreboard, listenFD: listenFD)
        var activities: [ThreadActivity] = []
        for index in 0..<options.threadsPerWorker {
            let activity = ThreadActivity(scoreboard: scoreboard, slot: slot, thread: index)
            activities.append(activity)
            let thread = ResponderThread(index: index, slot: slot, listening: ListeningSocket(fd: listenFD), wake: wake,
                                         events: events, kept: kept, activity: activity, state: state, scoreboard: scoreboard,
                                         options: options, poolStatus: poolStatus, factory: factory)
            state.running.add(1, ordering: .relaxed)
            do {
                try OSThread.start(name: "xomify-w\(slot)t\(index)") {
                    thread.run()
                    state.running.subtract(1, ordering: .relaxed)
                }.detach()
            } catch {
                log.error("cannot start a responder thread", ["error": error.description])
                Processes.exitNow(1)
            }
        }
        scoreboard.setState(slot, .accepting)
        log.debug("worker accepting", ["pid": pid, "slot": slot, "threads": options.threadsPerWorker])

        let watchdog = Watchdog(options: options, activities: activities, kept: kept, scoreboard: scoreboard)
        var stuck = 0
        while !state.draining.load(ordering: .relaxed) {
            if let signal = Signals.wait(for: [Signals.terminate, Signals.interrupt, Signals.hangUp, Signals.quit],
                                         timeout: watchdog.interval) {
                log.debug("worker draining", ["pid": pid, "signal": Signals.name(signal)])
                break
            }
            if Processes.parentID() == 1 { break }
            stuck = watchdog.check()
            if stuck > 0 { break }
        }
        state.draining.store(true, ordering: .relaxed)
        scoreboard.setState(slot, .draining)
        wake.wake()
        kept.close(idleLongerThan: nil)
        // The threads finish the requests in hand (a thread stuck past its request's limit never will: its
        // request ends with this process). The supervisor kills what is left after its own drain timeout.
        let deadline = Deadline(after: options.drainTimeoutSeconds)
        while state.running.load(ordering: .relaxed) > stuck && !deadline.hasPassed {
            sleep(seconds: 0.01)
        }
        Processes.exitNow(0)
    }
}

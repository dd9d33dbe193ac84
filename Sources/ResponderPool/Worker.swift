import FastCGI
import HTTP
import Log
import Platform
import Synchronization

/// State shared by a worker's responder threads.
final class WorkerState: Sendable {
    let draining = Atomic<Bool>(false)
    let served = Atomic<Int>(0)
}

/// A worker process: T responder threads accepting on the shared listening socket, and the main thread
/// taking signals. SIGTERM (or the request budget running out) drains it: threads finish the request in hand,
/// stop accepting, and the process exits 0.
enum WorkerProcess {
    static func run(slot: Int, listenFD: Int32, scoreboard: Scoreboard, options: PoolOptions,
                    factory: any ResponderFactory) -> Never {
        let log = Logger("worker")
        let pid = Processes.currentID()
        setCurrentThreadName("xomify-w\(slot)")

        let wake: WakePipe
        do {
            wake = try WakePipe()
        } catch {
            log.error("cannot create the wake pipe", ["error": error.description])
            Processes.exitNow(1)
        }
        let state = WorkerState()
        let poolStatus = PoolStatus(scoreboard: scoreboard, listenFD: listenFD)
        var threads: [OSThread] = []
        for index in 0..<options.threadsPerWorker {
            let thread = ResponderThread(index: index, slot: slot, listenFD: listenFD, wake: wake, state: state,
                                         scoreboard: scoreboard, options: options, poolStatus: poolStatus,
                                         factory: factory)
            do {
                threads.append(try OSThread.start(name: "xomify-w\(slot)t\(index)") { thread.run() })
            } catch {
                log.error("cannot start a responder thread", ["error": error.description])
                Processes.exitNow(1)
            }
        }
        scoreboard.setState(slot, .accepting)
        log.debug("worker accepting", ["pid": pid, "slot": slot, "threads": options.threadsPerWorker])

        while !state.draining.load(ordering: .relaxed) {
            if let signal = Signals.wait(for: [Signals.terminate, Signals.interrupt, Signals.hangUp, Signals.quit],
                                         timeout: 0.5) {
                log.debug("worker draining", ["pid": pid, "signal": Signals.name(signal)])
                break
            }
            if Processes.parentID() == 1 { break }
        }
        state.draining.store(true, ordering: .relaxed)
        scoreboard.setState(slot, .draining)
        wake.wake()
        for thread in threads { thread.join() }
        Processes.exitNow(0)
    }
}

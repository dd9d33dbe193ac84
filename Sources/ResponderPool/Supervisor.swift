import Log
import Platform

/// The pool's parent process: owns the listening socket and the scoreboard, starts the workers, replaces
/// the ones that die, replaces all of them one by one on SIGHUP, and drains them on SIGTERM. It serves no
/// requests itself and holds no database connection, so it has nothing that can crash it.
final class Supervisor {
    private struct Worker {
        let slot: Int
        let startedAt: Double
        /// Sent SIGTERM by the supervisor (reload, shutdown); its exit is expected.
        var retiring = false
    }

    private let options: PoolOptions
    private let scoreboard: Scoreboard
    private let socket: ListeningSocket
    /// The configuration new workers start with: the last one `load` returned without an error.
    private var configuration: PoolConfiguration
    private let load: () throws(PoolStartError) -> [UInt8]
    private let spawn: (_ slot: Int, _ configuration: PoolConfiguration) throws(SystemError) -> Int32
    private let log = Logger("pool")

    private var workers: [Int32: Worker] = [:]
    private var shutdownDeadline: Double?
    /// Old workers still to be replaced by a SIGHUP reload, and the replacement being started.
    private var reloadQueue: [Int32] = []
    private var replacement: (new: Int32, old: Int32)?
    private var recentCrashes: [Double] = []
    private var nextSpawnAllowed = 0.0

    init(options: PoolOptions, scoreboard: Scoreboard, socket: ListeningSocket, configuration: PoolConfiguration,
         load: @escaping () throws(PoolStartError) -> [UInt8],
         spawn: @escaping (_ slot: Int, _ configuration: PoolConfiguration) throws(SystemError) -> Int32) {
        self.options = options
        self.scoreboard = scoreboard
        self.socket = socket
        self.configuration = configuration
        self.load = load
        self.spawn = spawn
    }

    /// Runs until the pool is told to stop; returns the process exit status.
    func run() -> Int32 {
        log.info("pool started", ["workers": options.workers, "threads": options.threadsPerWorker,
                                  "listen": options.listenPath ?? "fd 0", "pid": Processes.currentID()])
        while true {
            if let signal = Signals.wait(for: [Signals.terminate, Signals.interrupt, Signals.quit, Signals.hangUp, Signals.child],
                                         timeout: replacement == nil ? 0.25 : 0.02) {
                handle(signal)
            }
            reap()
            if let deadline = shutdownDeadline {
                if workers.isEmpty { break }
                if Monotonic.seconds() > deadline {
                    log.warning("drain timeout reached; killing workers", ["left": workers.count])
                    for pid in workers.keys { Signals.send(Signals.kill, to: pid) }
                    shutdownDeadline = Monotonic.seconds() + 5
                }
                continue
            }
            advanceReload()
            keepWorkerCount()
            sampleListenQueue()
        }
        socket.close(removeFile: true)
        log.info("pool stopped")
        return 0
    }

    private func handle(_ signal: Int32) {
        switch signal {
        case Signals.terminate, Signals.interrupt:
            guard shutdownDeadline == nil else { return }
            log.info("draining for shutdown", ["signal": Signals.name(signal), "workers": workers.count])
            shutdownDeadline = Monotonic.seconds() + options.drainTimeoutSeconds
            reloadQueue.removeAll()
            replacement = nil
            for pid in Array(workers.keys) { retire(pid) }
        case Signals.quit:
            log.info("stopping at once", ["signal": "SIGQUIT"])
            shutdownDeadline = Monotonic.seconds() + 5
            for pid in workers.keys { Signals.send(Signals.kill, to: pid) }
        case Signals.hangUp:
            guard shutdownDeadline == nil else { return }
            // The new configuration is loaded and checked here, before any worker is touched: one that does not
            // load leaves the pool as it is (and later replacements start with the old one).
            do {
                configuration = try PoolConfiguration(try load())
            } catch {
                scoreboard.add(.failedReloads)
                log.error("reload refused: the configuration does not load; the workers keep the last good one",
                          ["error": error.description])
                return
            }
            scoreboard.add(.reloads)
            reloadQueue = workers.filter { !$0.value.retiring }.map(\.key).sorted()
            log.info("reload: replacing workers one by one", ["workers": reloadQueue.count])
        default:
            break
        }
    }

    private func retire(_ pid: Int32) {
        guard var worker = workers[pid], !worker.retiring else { return }
        worker.retiring = true
        workers[pid] = worker
        scoreboard.setState(worker.slot, .draining)
        Signals.send(Signals.terminate, to: pid)
    }

    private func reap() {
        for (pid, reason) in Processes.reap() {
            guard let worker = workers.removeValue(forKey: pid) else { continue }
            scoreboard.add(.retiredRequests, scoreboard.get(worker.slot, .requests))
            scoreboard.add(.retiredSlowRequests, scoreboard.get(worker.slot, .slowRequests))
            let wasDraining = scoreboard.state(worker.slot) == .draining
            scoreboard.clear(worker.slot)
            if worker.retiring {
                continue
            }
            if reason == .exited(0) && wasDraining {
                // Recycled after its request budget.
                scoreboard.add(.recycled)
                continue
            }
            if replacement?.new == pid {
                // A reload's new worker died before it accepted: the old workers keep serving, the reload stops.
                scoreboard.add(.failedReloads)
                log.error("reload stopped: a new worker died before it served; the old workers keep serving",
                          ["pid": pid, "reason": reason.description])
                replacement = nil
                reloadQueue.removeAll()
            }
            scoreboard.add(.crashes)
            log.error("worker died; replacing it", ["pid": pid, "reason": reason.description,
                                                    "uptime_s": Int(Monotonic.seconds() - worker.startedAt)])
            let now = Monotonic.seconds()
            recentCrashes = recentCrashes.filter { now - $0 < 10 } + [now]
            if recentCrashes.count > 5 {
                // A worker that dies at once over and over would otherwise be respawned in a hot loop.
                nextSpawnAllowed = now + 1
            }
            if replacement?.new == pid { replacement = nil }
        }
    }

    /// Starts workers until enough are accepting or about to (draining ones do not count).
    private func keepWorkerCount() {
        let serving = workers.filter { !$0.value.retiring && scoreboard.state($0.value.slot) != .draining }.count
        let wanted = options.workers + (replacement == nil ? 0 : 1)
        guard serving < wanted, Monotonic.seconds() >= nextSpawnAllowed else { return }
        for _ in serving..<wanted { _ = startWorker() }
    }

    private func advanceReload() {
        if let (new, old) = replacement {
            guard let worker = workers[new] else {
                replacement = nil
                return
            }
            if scoreboard.state(worker.slot) == .accepting {
                retire(old)
                replacement = nil
            }
            return
        }
        while let old = reloadQueue.first {
            reloadQueue.removeFirst()
            guard let worker = workers[old], !worker.retiring else { continue }
            if let new = startWorker() {
                replacement = (new, old)
            } else {
                retire(old)
            }
            return
        }
    }

    @discardableResult
    private func startWorker() -> Int32? {
        let taken = Set(workers.values.map(\.slot))
        guard let slot = (0..<scoreboard.slotCount).first(where: { !taken.contains($0) && scoreboard.state($0) == .free }) else {
            log.error("no free scoreboard slot")
            return nil
        }
        scoreboard.clear(slot)
        scoreboard.setState(slot, .starting)
        scoreboard.set(slot, .startedAt, UInt64(WallClock.epochSeconds()))
        do throws(SystemError) {
            let pid = try spawn(slot, configuration)
            scoreboard.set(slot, .pid, UInt64(pid))
            workers[pid] = Worker(slot: slot, startedAt: Monotonic.seconds())
            return pid
        } catch {
            scoreboard.clear(slot)
            log.error("cannot start a worker", ["error": error.description])
            nextSpawnAllowed = Monotonic.seconds() + 1
            return nil
        }
    }

    private func sampleListenQueue() {
        guard let (waiting, backlog) = socket.queue() else { return }
        scoreboard.set(.listenQueue, UInt64(waiting))
        scoreboard.set(.listenBacklog, UInt64(backlog))
        if UInt64(waiting) > scoreboard.get(.maxListenQueue) { scoreboard.set(.maxListenQueue, UInt64(waiting)) }
    }
}

import FastCGI
import HTTP
import Log
import Platform

/// Starting the pool. The same executable runs as supervisor or worker: the supervisor re-executes itself with
/// the pool's environment variables below, so every worker is a fresh process (never a bare fork of a
/// multi-threaded Swift process), re-reads the configuration and secrets (a SIGHUP reload picks up new ones),
/// and inherits the listening socket and the scoreboard by descriptor.
public enum Pool {
    static let roleVariable = "XOMIFY_POOL_ROLE"
    static let slotVariable = "XOMIFY_POOL_SLOT"
    static let listenVariable = "XOMIFY_POOL_LISTEN_FD"
    static let scoreboardVariable = "XOMIFY_POOL_SCOREBOARD_FD"
    static let slotsVariable = "XOMIFY_POOL_SLOTS"

    /// True in a worker process.
    public static var isWorker: Bool { Environment.get(roleVariable) == "worker" }

    /// Runs the supervisor (or, in a worker process, the worker) and returns the exit status.
    /// `makeFactory` builds the responders' factory in each worker; the caller validates the configuration
    /// before starting the pool, and the supervisor itself builds nothing (it holds no connections).
    public static func run(options: PoolOptions,
                           makeFactory: () throws(PoolStartError) -> any ResponderFactory) -> Int32 {
        let log = Logger("pool")
        // Signals are taken synchronously (sigtimedwait) by one thread per process; libfcgi's handlers
        // never run, and SIGPIPE from a vanished peer is just an error on write.
        Signals.block([Signals.terminate, Signals.interrupt, Signals.hangUp, Signals.quit, Signals.child,
                       Signals.user1, Signals.user2])
        Signals.ignore(Signals.brokenPipe)

        if isWorker {
            return runWorker(options: options, makeFactory: makeFactory)
        }

        let socket: ListeningSocket
        do {
            if let path = options.listenPath {
                socket = try ListeningSocket.bind(path: path, backlog: options.backlog)
            } else {
                socket = try ListeningSocket.inherited()
            }
        } catch {
            log.error("cannot open the listening socket", ["error": error.description])
            return 71
        }
        socket.prepareForAcceptors(ioTimeoutSeconds: 30)

        let slotCount = options.workers * 2 + 2
        let memory: SharedMemory
        do {
            memory = try SharedMemory(creating: "xomify-scoreboard", size: Scoreboard.size(slots: slotCount))
        } catch {
            log.error("cannot create the scoreboard", ["error": error.description])
            return 71
        }
        let scoreboard = Scoreboard(memory: memory, slotCount: slotCount)
        scoreboard.set(.startedAt, UInt64(WallClock.epochSeconds()))
        scoreboard.set(.configuredWorkers, UInt64(options.workers))
        scoreboard.set(.threadsPerWorker, UInt64(options.threadsPerWorker))
        scoreboard.set(.supervisorPID, UInt64(Processes.currentID()))
        setCurrentThreadName("xomify-pool")

        // Workers run the supervisor's own executable, even after the file was replaced by an upgrade: a SIGHUP
        // never puts a new binary's workers under an old supervisor (a new binary runs after a restart).
        let executable = "/proc/self/exe"
        let arguments = Environment.arguments()
        let supervisor = Supervisor(options: options, scoreboard: scoreboard, socket: socket) { slot throws(SystemError) in
            var environment = Environment.all()
            environment[roleVariable] = "worker"
            environment[slotVariable] = String(slot)
            environment[listenVariable] = String(socket.fd)
            environment[scoreboardVariable] = String(memory.fd)
            environment[slotsVariable] = String(slotCount)
            return try Processes.spawn(path: executable, arguments: arguments, environment: environment,
                                       keep: [socket.fd, memory.fd])
        }
        return supervisor.run()
    }

    private static func runWorker(options: PoolOptions,
                                  makeFactory: () throws(PoolStartError) -> any ResponderFactory) -> Int32 {
        let log = Logger("worker")
        Signals.deliverOnParentDeath(Signals.terminate)
        guard let slot = Environment.get(slotVariable).flatMap(Int.init),
              let listenFD = Environment.get(listenVariable).flatMap(Int32.init),
              let scoreboardFD = Environment.get(scoreboardVariable).flatMap(Int32.init),
              let slots = Environment.get(slotsVariable).flatMap(Int.init) else {
            log.error("worker started without the pool's descriptors")
            return 1
        }
        let memory: SharedMemory
        do {
            memory = try SharedMemory(mapping: scoreboardFD, size: Scoreboard.size(slots: slots))
        } catch {
            log.error("cannot map the scoreboard", ["error": error.description])
            return 1
        }
        let scoreboard = Scoreboard(memory: memory, slotCount: slots)
        // The supervisor died between spawning us and now: nothing would ever stop this worker.
        if UInt64(Processes.parentID()) != scoreboard.get(.supervisorPID) { return 0 }
        let factory: any ResponderFactory
        do {
            factory = try makeFactory()
        } catch {
            log.error("cannot start", ["error": error.description])
            return 78
        }
        FastCGIRequest.initializeLibrary()
        Signals.ignore(Signals.brokenPipe)
        MemoryTuning.keepResponseBuffers()
        WorkerProcess.run(slot: slot, listenFD: listenFD, scoreboard: scoreboard, options: options, factory: factory)
    }
}

/// Why the pool could not build its responders (a configuration fault).
public struct PoolStartError: Error, Sendable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

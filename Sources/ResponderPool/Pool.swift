import FastCGI
import HTTP
import Log
import Platform

/// Starting the pool. The same executable runs as supervisor or worker: the supervisor re-executes itself with
/// the pool's environment variables below, so every worker is a fresh process (never a bare fork of a
/// multi-threaded Swift process), and inherits the listening socket, the scoreboard and its configuration by
/// descriptor. The configuration is loaded and checked by the supervisor (`load`, at start and on each SIGHUP)
/// and handed to the workers as it was last loaded successfully: a worker never reads a file that broke since.
public enum Pool {
    static let roleVariable = "XOMIFY_POOL_ROLE"
    static let slotVariable = "XOMIFY_POOL_SLOT"
    static let listenVariable = "XOMIFY_POOL_LISTEN_FD"
    static let scoreboardVariable = "XOMIFY_POOL_SCOREBOARD_FD"
    static let slotsVariable = "XOMIFY_POOL_SLOTS"
    static let configurationVariable = "XOMIFY_POOL_CONFIGURATION_FD"
    static let configurationSizeVariable = "XOMIFY_POOL_CONFIGURATION_SIZE"

    /// True in a worker process.
    public static var isWorker: Bool { Environment.get(roleVariable) == "worker" }

    /// In a worker process: the configuration its supervisor last loaded successfully (nil elsewhere, or when the
    /// descriptor is not there).
    public static func inheritedConfiguration() -> [UInt8]? {
        // Read through /proc (a file description of its own), so the inherited descriptor stays as it is.
        guard isWorker, let fd = Environment.get(configurationVariable).flatMap(Int32.init),
              let size = Environment.get(configurationSizeVariable).flatMap(Int.init), size > 0,
              let bytes = try? Files.read("/proc/self/fd/\(fd)", limit: size), bytes.count == size else { return nil }
        return bytes
    }

    /// Runs the supervisor (or, in a worker process, the worker) and returns the exit status.
    /// `configuration` is what the caller loaded and checked at start; `load` reads and checks it again on each
    /// SIGHUP (its failure is one log line naming what is wrong); `makeFactory` builds the responders' factory in
    /// each worker from the last configuration that loaded. The supervisor itself builds nothing (it holds no
    /// connections).
    public static func run(options: PoolOptions, configuration initial: [UInt8],
                           load: @escaping () throws(PoolStartError) -> [UInt8],
                           makeFactory: ([UInt8]) throws(PoolStartError) -> any ResponderFactory) -> Int32 {
        let log = Logger("pool")
        // Signals are taken synchronously (sigtimedwait) by one thread per process; libfcgi's handlers
        // never run, and SIGPIPE from a vanished peer is just an error on write.
        Signals.block([Signals.terminate, Signals.interrupt, Signals.hangUp, Signals.quit, Signals.child,
                       Signals.user1, Signals.user2])
        Signals.ignore(Signals.brokenPipe)

        if isWorker {
            return runWorker(options: options, makeFactory: makeFactory)
        }
        let configuration: PoolConfiguration
        do {
            configuration = try PoolConfiguration(initial)
        } catch {
            log.error("cannot start", ["error": error.description])
            return 78
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
        socket.prepareForAcceptors()

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
        let supervisor = Supervisor(options: options, scoreboard: scoreboard, socket: socket, configuration: configuration,
                                    load: load) { slot, configuration throws(SystemError) in
            var environment = Environment.all()
            environment[roleVariable] = "worker"
            environment[slotVariable] = String(slot)
            environment[listenVariable] = String(socket.fd)
            environment[scoreboardVariable] = String(memory.fd)
            environment[slotsVariable] = String(slotCount)
            environment[configurationVariable] = String(configuration.memory.fd)
            environment[configurationSizeVariable] = String(configuration.memory.size)
            return try Processes.spawn(path: executable, arguments: arguments, environment: environment,
                                       keep: [socket.fd, memory.fd, configuration.memory.fd])
        }
        return supervisor.run()
    }

    private static func runWorker(options: PoolOptions,
                                  makeFactory: ([UInt8]) throws(PoolStartError) -> any ResponderFactory) -> Int32 {
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
        do throws(PoolStartError) {
            guard let configuration = inheritedConfiguration() else { throw PoolStartError("no configuration from the supervisor") }
            factory = try makeFactory(configuration)
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

/// The configuration the workers start with, in a memory file they inherit (read-only for them).
struct PoolConfiguration {
    let memory: SharedMemory

    init(_ bytes: [UInt8]) throws(PoolStartError) {
        do {
            memory = try SharedMemory(creating: "xomify-configuration", size: max(bytes.count, 1))
        } catch {
            throw PoolStartError("cannot hand the configuration to the workers: \(error)")
        }
        bytes.withUnsafeBytes { raw in
            if let base = raw.baseAddress { memory.base.copyMemory(from: base, byteCount: raw.count) }
        }
    }
}

/// Why the pool could not build its responders (a configuration fault).
public struct PoolStartError: Error, Sendable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

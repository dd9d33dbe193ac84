import Platform

/// The pool's shared scoreboard (php-fpm keeps the same in shared memory): pool-wide counters written by the
/// supervisor, one slot per worker process written by that worker, and one cell per responder thread of each
/// slot (what it is doing, since when, for which request). Any worker can render the status page from it; every
/// word is a 64-bit atomic.
struct Scoreboard: Sendable {
    enum Pool: Int, CaseIterable {
        case startedAt, configuredWorkers, threadsPerWorker, supervisorPID
        /// Requests and slow requests of workers that have exited (live workers' counts are in their slots).
        case retiredRequests, retiredSlowRequests
        /// Workers replaced after a crash; workers recycled after max requests; SIGHUP reloads done; reloads
        /// refused (the configuration did not load) or stopped (a new worker died before it served).
        case crashes, recycled, reloads, failedReloads
        case listenQueue, maxListenQueue, listenBacklog
        /// Connections closed because their request did not arrive in time; requests ended past their limit (by
        /// replacing their worker).
        case requestReadTimeouts, terminatedRequests
    }

    enum Slot: Int, CaseIterable {
        case pid, state, startedAt, requests, busy, slowRequests
        /// Connections waiting for a request: kept ones between requests, ones whose request is still arriving.
        case parkedConnections
    }

    /// What a responder thread is doing, as its cell shows it.
    enum Phase: UInt64 {
        case idle = 0, reading, busy

        var name: String {
            switch self {
            case .idle: return "idle"
            case .reading: return "reading"
            case .busy: return "busy"
            }
        }
    }

    /// A thread's cell: its phase, when that began (ms since the epoch), and the request's method and path.
    struct ThreadCell {
        let phase: Phase
        let sinceMilliseconds: UInt64
        let request: String
    }

    enum State: UInt64 {
        case free = 0, starting, accepting, draining

        var name: String {
            switch self {
            case .free: return "free"
            case .starting: return "starting"
            case .accepting: return "accepting"
            case .draining: return "draining"
            }
        }
    }

    static let poolWords = 16
    static let slotWords = 8
    /// Cells per slot: the most threads a worker may run.
    static let threadCells = 256
    static let threadWords = 8
    static let labelWords = threadWords - 2

    let memory: SharedMemory
    let slotCount: Int
    private let pool: SharedCounters
    private let slots: SharedCounters
    private let threads: SharedCounters

    static func size(slots: Int) -> Int { (poolWords + slots * slotWords + slots * threadCells * threadWords) * 8 }

    init(memory: SharedMemory, slotCount: Int) {
        self.memory = memory
        self.slotCount = slotCount
        pool = SharedCounters(memory: memory, offset: 0, count: Scoreboard.poolWords)
        slots = SharedCounters(memory: memory, offset: Scoreboard.poolWords * 8, count: slotCount * Scoreboard.slotWords)
        threads = SharedCounters(memory: memory, offset: (Scoreboard.poolWords + slotCount * Scoreboard.slotWords) * 8,
                                 count: slotCount * Scoreboard.threadCells * Scoreboard.threadWords)
    }

    func get(_ field: Pool) -> UInt64 { pool.load(field.rawValue) }
    func set(_ field: Pool, _ value: UInt64) { pool.store(field.rawValue, value) }
    func add(_ field: Pool, _ delta: UInt64 = 1) { pool.add(field.rawValue, delta) }

    func get(_ slot: Int, _ field: Slot) -> UInt64 { slots.load(slot * Scoreboard.slotWords + field.rawValue) }
    func set(_ slot: Int, _ field: Slot, _ value: UInt64) { slots.store(slot * Scoreboard.slotWords + field.rawValue, value) }
    func add(_ slot: Int, _ field: Slot, _ delta: UInt64 = 1) { slots.add(slot * Scoreboard.slotWords + field.rawValue, delta) }
    func subtract(_ slot: Int, _ field: Slot, _ delta: UInt64 = 1) {
        slots.subtract(slot * Scoreboard.slotWords + field.rawValue, delta)
    }

    func state(_ slot: Int) -> State { State(rawValue: get(slot, .state)) ?? .free }
    func setState(_ slot: Int, _ state: State) { set(slot, .state, state.rawValue) }

    func clear(_ slot: Int) {
        for field in Slot.allCases { set(slot, field, 0) }
        for thread in 0..<Scoreboard.threadCells { setPhase(slot, thread, .idle, request: "") }
    }

    private func cell(_ slot: Int, _ thread: Int) -> Int { (slot * Scoreboard.threadCells + thread) * Scoreboard.threadWords }

    /// Records what a thread is doing from now on; `request` (method and path, cut to 48 bytes) is kept from the
    /// previous call when nil. Written label first, phase last, so a reader sees a phase with its own label (a
    /// status page read mid-write may show one stale label, nothing worse).
    func setPhase(_ slot: Int, _ thread: Int, _ phase: Phase, request: String?) {
        guard thread < Scoreboard.threadCells else { return }
        let base = cell(slot, thread)
        if let request {
            var bytes = Array(request.utf8.prefix(Scoreboard.labelWords * 8))
            bytes += [UInt8](repeating: 0, count: Scoreboard.labelWords * 8 - bytes.count)
            for word in 0..<Scoreboard.labelWords {
                var value: UInt64 = 0
                for byte in 0..<8 { value |= UInt64(bytes[word * 8 + byte]) << (8 * UInt64(byte)) }
                threads.store(base + 2 + word, value)
            }
        }
        threads.store(base + 1, UInt64(max(WallClock.now(), 0) * 1000))
        threads.store(base, phase.rawValue)
    }

    func thread(_ slot: Int, _ thread: Int) -> ThreadCell {
        let base = cell(slot, thread)
        let phase = Phase(rawValue: threads.load(base)) ?? .idle
        var bytes: [UInt8] = []
        for word in 0..<Scoreboard.labelWords {
            let value = threads.load(base + 2 + word)
            for byte in 0..<8 { bytes.append(UInt8(truncatingIfNeeded: value >> (8 * UInt64(byte)))) }
        }
        let label = String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
        return ThreadCell(phase: phase, sinceMilliseconds: threads.load(base + 1), request: label)
    }
}

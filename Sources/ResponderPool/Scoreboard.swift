import Platform

/// The pool's shared scoreboard (php-fpm keeps the same in shared memory): pool-wide counters written by the
/// supervisor and one slot per worker process written by that worker. Any worker can render the status page
/// from it; every cell is a 64-bit atomic.
struct Scoreboard: Sendable {
    enum Pool: Int, CaseIterable {
        case startedAt, configuredWorkers, threadsPerWorker, supervisorPID
        /// Requests and slow requests of workers that have exited (live workers' counts are in their slots).
        case retiredRequests, retiredSlowRequests
        /// Workers replaced after a crash; workers recycled after max requests; SIGHUP reloads done; reloads
        /// refused (the configuration did not load) or stopped (a new worker died before it served).
        case crashes, recycled, reloads, failedReloads
        case listenQueue, maxListenQueue, listenBacklog
    }

    enum Slot: Int, CaseIterable {
        case pid, state, startedAt, requests, busy, slowRequests, generation
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

    let memory: SharedMemory
    let slotCount: Int
    private let pool: SharedCounters
    private let slots: SharedCounters

    static func size(slots: Int) -> Int { (poolWords + slots * slotWords) * 8 }

    init(memory: SharedMemory, slotCount: Int) {
        self.memory = memory
        self.slotCount = slotCount
        pool = SharedCounters(memory: memory, offset: 0, count: Scoreboard.poolWords)
        slots = SharedCounters(memory: memory, offset: Scoreboard.poolWords * 8, count: slotCount * Scoreboard.slotWords)
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
    }
}

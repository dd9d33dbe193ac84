import Platform
import Store
import Synchronization

/// The job's database sessions, shared by its concurrent user tasks. libpq blocks, so each session runs its
/// store calls on a thread of its own (`SerialThread`) and the calling task awaits it: Swift's cooperative
/// threads (two on a 2-core host) never wait on PostgreSQL. There are as many sessions as the run has user
/// tasks, plus two for the run's own calls (claims, heartbeat, budget), so that a call waiting on a lock held
/// elsewhere holds up only its own user: the others proceed on the other sessions. A session connects on its
/// first call.
final class JobDatabase: Sendable {
    struct Stores {
        let users: UserStore
        let wraps: WrapStore
        let weeks: WeekStore
        let jobs: JobStore
        let budget: BudgetStore
        let names: NameStore
        let catalogue: CatalogueStore
    }

    /// The sessions' threads have stopped (the run is over).
    struct Closed: Error, CustomStringConvertible {
        var description: String { "the job's database session is closed" }
    }

    /// One connection, its stores and its thread.
    private struct Session: Sendable {
        let stores: ThreadConfined
        let thread: SerialThread
    }

    /// Sessions not in use, and the calls waiting for one (first come, first served).
    private struct Idle {
        var sessions: [Int]
        var waiting: [CheckedContinuation<Int, Never>] = []
    }

    private let sessions: [Session]
    private let idle: Mutex<Idle>

    /// `tasks`: how many user tasks the run works on at once.
    init(conninfo: String, keys: TokenKeyRing, tasks: Int) throws(SystemError) {
        var sessions: [Session] = []
        for index in 0..<max(1, tasks) + 2 {
            let database = Database(conninfo: conninfo, options: .job())
            sessions.append(Session(
                stores: ThreadConfined(stores: Stores(
                    users: UserStore(database: database, keys: keys), wraps: WrapStore(database: database),
                    weeks: WeekStore(database: database), jobs: JobStore(database: database),
                    budget: BudgetStore(database: database), names: NameStore(database: database),
                    catalogue: CatalogueStore(database: database))),
                thread: try SerialThread(name: "xomify-db\(index)")))
        }
        self.sessions = sessions
        idle = Mutex(Idle(sessions: Array(sessions.indices.reversed())))
    }

    /// Runs `body` with the stores of a free session, on that session's thread.
    func with<T: Sendable>(_ body: @escaping @Sendable (Stores) throws -> T) async throws -> T {
        let index = await acquire()
        defer { release(index) }
        let session = sessions[index]
        return try await session.thread.run({ try body(session.stores.stores) }, whenStopped: Closed())
    }

    /// Finishes what is queued and stops the threads.
    func close() {
        for session in sessions { session.thread.stop() }
    }

    private func acquire() async -> Int {
        if let index = idle.withLock({ $0.sessions.popLast() }) { return index }
        return await withCheckedContinuation { continuation in
            let now = idle.withLock { state -> Int? in
                if let index = state.sessions.popLast() { return index }
                state.waiting.append(continuation)
                return nil
            }
            if let now { continuation.resume(returning: now) }
        }
    }

    private func release(_ index: Int) {
        let next = idle.withLock { state -> CheckedContinuation<Int, Never>? in
            guard !state.waiting.isEmpty else {
                state.sessions.append(index)
                return nil
            }
            return state.waiting.removeFirst()
        }
        next?.resume(returning: index)
    }

    /// A session's stores and the connection inside them. Sendable by hand: they are used only inside `with`,
    /// whose body runs on that session's one thread, one call at a time.
    private struct ThreadConfined: @unchecked Sendable {
        let stores: Stores
    }
}

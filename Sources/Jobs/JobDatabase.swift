import Platform
import Store

/// The job's one database session, shared by its concurrent user tasks. libpq blocks, so every store call runs
/// on the session's own thread (`SerialThread`), one at a time, and the calling task awaits it: Swift's
/// cooperative threads (two on a 2-core host) never wait on PostgreSQL.
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

    /// The session's thread has stopped (the run is over).
    struct Closed: Error, CustomStringConvertible {
        var description: String { "the job's database session is closed" }
    }

    private let stores: ThreadConfined
    private let thread: SerialThread

    init(conninfo: String, keys: TokenKeyRing) throws(SystemError) {
        let database = Database(conninfo: conninfo, options: .job())
        stores = ThreadConfined(stores: Stores(
            users: UserStore(database: database, keys: keys), wraps: WrapStore(database: database),
            weeks: WeekStore(database: database), jobs: JobStore(database: database),
            budget: BudgetStore(database: database), names: NameStore(database: database),
            catalogue: CatalogueStore(database: database)))
        thread = try SerialThread(name: "xomify-db")
    }

    /// Runs `body` with the stores on the session's thread.
    func with<T: Sendable>(_ body: @escaping @Sendable (Stores) throws -> T) async throws -> T {
        let stores = self.stores
        return try await thread.run({ try body(stores.stores) }, whenStopped: Closed())
    }

    /// Finishes what is queued and stops the thread.
    func close() {
        thread.stop()
    }

    /// The stores and the connection inside them. Sendable by hand: they are used only inside `with`, whose body
    /// runs on the session's one thread, one call at a time.
    private struct ThreadConfined: @unchecked Sendable {
        let stores: Stores
    }
}

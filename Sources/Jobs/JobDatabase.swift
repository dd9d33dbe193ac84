import Platform
import Postgres
import Store

/// The job's one database session, shared by its concurrent user tasks. Store calls are short and synchronous,
/// so a lock around the session is enough; no call awaits while holding it.
final class JobDatabase: @unchecked Sendable {
    struct Stores {
        let users: UserStore
        let wraps: WrapStore
        let jobs: JobStore
        let budget: BudgetStore
    }

    private let lock = Lock()
    /// Touched only under `lock`.
    private let stores: Stores

    init(conninfo: String, keys: TokenKeyRing) {
        let database = Database(conninfo: conninfo, options: Connection.Options(connectTimeout: 5, commandTimeout: 30,
                                                                                 statementTimeoutMilliseconds: 30000,
                                                                                 applicationName: "xomify-job"))
        stores = Stores(users: UserStore(database: database, keys: keys), wraps: WrapStore(database: database),
                        jobs: JobStore(database: database), budget: BudgetStore(database: database))
    }

    func with<T>(_ body: (Stores) throws(StoreError) -> T) throws(StoreError) -> T {
        try lock.withLock { () throws(StoreError) -> T in try body(stores) }
    }
}

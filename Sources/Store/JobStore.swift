import JSON
import Model
import Postgres

/// Job runs and job items (SPEC §7): who is taking part, claims with leases, progress, outcomes.
public struct JobStore {
    private let database: Database

    public init(database: Database) {
        self.database = database
    }

    /// The two jobs.
    public enum Job: String, Sendable, CaseIterable {
        case wrapped
        case releaseRadar = "release_radar"

        /// The users taking part (SPEC §7.1), as an SQL condition on the `users` row named `row` (a constant of
        /// this file, never input).
        fileprivate func selection(_ row: String) -> String {
            let flag = self == .wrapped ? "active_wrapped" : "active_release_radar"
            return "\(row).active AND \(row).\(flag) AND \(row).token_state = 'ok'"
        }
    }

    /// A run of this process.
    public struct Run: Sendable, Equatable {
        public let id: Int64
    }

    /// A claimed item.
    public struct Item: Sendable {
        public let email: Email
        public let attempts: Int
        public let progress: JSONObject
    }

    /// Where an item stands.
    public enum ItemState: String, Sendable {
        case pending, done, failed, skipped
    }

    public struct Counts: Sendable, Equatable {
        public var pending = 0
        public var done = 0
        public var failed = 0
        public var skipped = 0

        public var total: Int { pending + done + failed + skipped }
    }

    /// A run still marked running.
    public struct RunningRun: Sendable {
        public let run: Run
        public let host: String
        public let pid: Int32
        public let processStart: UInt64
        /// Seconds since its last heartbeat.
        public let silentSeconds: Double
    }

    /// How a run ended, as recorded in `job_runs.status`.
    public enum RunStatus: String, Sendable {
        case succeeded, partial, stopped, failed
    }

    public struct RunSummary: Sendable {
        public var status: RunStatus
        public var stopReason: String?
        public var usersTotal: Int
        public var usersDone: Int
        public var usersFailed: Int
        public var usersSkipped: Int
        public var requests: Int
        public var requestsByEndpoint: [String: Int]
        public var status429: Int

        public init(status: RunStatus, stopReason: String?, usersTotal: Int, usersDone: Int, usersFailed: Int,
                    usersSkipped: Int, requests: Int, requestsByEndpoint: [String: Int], status429: Int) {
            self.status = status
            self.stopReason = stopReason
            self.usersTotal = usersTotal
            self.usersDone = usersDone
            self.usersFailed = usersFailed
            self.usersSkipped = usersSkipped
            self.requests = requests
            self.requestsByEndpoint = requestsByEndpoint
            self.status429 = status429
        }
    }

    /// How a claimed item's work ended.
    public enum Outcome: Sendable, Equatable {
        case done
        case skipped(reason: String)
        /// A failure that will not get better by retrying.
        case failed(reason: String)
        /// A failure worth another attempt by a later run (unless attempts are used up).
        case retry(reason: String)
        /// The run stopped before finishing this user (quota, budget): pending again, and the attempt not counted.
        case interrupted(reason: String)
    }

    private enum SQL {
        static let startRun = PreparedStatement("""
            INSERT INTO job_runs (job, period_key, host, pid, process_start) VALUES ($1, $2, $3, $4, $5) RETURNING id
            """)
        static let runningRuns = PreparedStatement("""
            SELECT id, host, pid, process_start, extract(epoch FROM now() - heartbeat_at)::float8
            FROM job_runs WHERE job = $1 AND status = 'running'
            """)
        static let markCrashed = PreparedStatement("""
            UPDATE job_runs SET status = 'crashed', finished_at = now(), stop_reason = 'process ended without finishing'
            WHERE id = $1 AND status = 'running'
            """)
        static let releaseClaims = PreparedStatement("""
            UPDATE job_items SET claimed_by = NULL, lease_until = NULL WHERE claimed_by = $1 AND status = 'pending'
            """)
        /// A run that ends gives back the items it holds without an outcome (their claim's answer was lost, or
        /// their outcome could not be recorded) as interrupted: the attempt is not counted. A crashed run's
        /// items (`releaseClaims`) keep theirs, so that a user who crashes runs is given up in the end.
        static let returnClaims = PreparedStatement("""
            UPDATE job_items SET claimed_by = NULL, lease_until = NULL, attempted_by = NULL,
                attempts = greatest(attempts - 1, 0), updated_at = now()
            WHERE claimed_by = $1 AND status = 'pending'
            """)
        /// The catalogue fetches a run has claimed (sql/0008) are renewed and dropped with its items.
        static let renewCatalogueClaims = PreparedStatement("""
            UPDATE catalogue_claims SET lease_until = now() + make_interval(secs => $2) WHERE claimed_by = $1
            """)
        static let dropCatalogueClaims = PreparedStatement("DELETE FROM catalogue_claims WHERE claimed_by = $1")
        static let heartbeatRun = PreparedStatement("UPDATE job_runs SET heartbeat_at = now() WHERE id = $1")
        static let heartbeatItems = PreparedStatement("""
            UPDATE job_items SET lease_until = now() + make_interval(secs => $2)
            WHERE claimed_by = $1 AND status = 'pending'
            """)
        static let finishRun = PreparedStatement("""
            UPDATE job_runs SET status = $2, stop_reason = $3, finished_at = now(), heartbeat_at = now(),
                users_total = $4, users_done = $5, users_failed = $6, users_skipped = $7,
                spotify_requests = $8, requests_by_endpoint = $9::jsonb, status_429 = $10
            WHERE id = $1
            """)
        static let enlist = perJob { job in """
            INSERT INTO job_items (job, period_key, email)
            SELECT $1, $2, email FROM users WHERE \(job.selection("users")) AND ($3::text IS NULL OR email = $3)
            ON CONFLICT (job, period_key, email) DO NOTHING
            """ }
        static let counts = PreparedStatement("""
            SELECT status, count(*) FROM job_items WHERE job = $1 AND period_key = $2 AND ($3::text IS NULL OR email = $3)
            GROUP BY status
            """)
        /// Pending items nobody holds (or whose holder's lease ran out) and that this run has not tried yet (a
        /// retry waits for a later run), skipping rows another runner is claiming (FOR UPDATE SKIP LOCKED); after
        /// `$7`, when given, so that the index scan starts where this run's last claim ended instead of walking
        /// past every item finished since the last vacuum (their entries stay in the pending index until then).
        /// (`email > coalesce($7, '')` rather than an OR, so that it bounds the index scan in a generic plan too;
        /// every email sorts after ''.) The claimed rows come back in email order: the last is the next cursor.
        static let claim = PreparedStatement("""
            WITH claimed AS (
                UPDATE job_items i SET claimed_by = $3, attempted_by = $3,
                    lease_until = now() + make_interval(secs => $5), attempts = i.attempts + 1, updated_at = now()
                FROM (SELECT job, period_key, email FROM job_items
                      WHERE job = $1 AND period_key = $2 AND status = 'pending'
                        AND email > coalesce($7::text, '')
                        AND (claimed_by IS NULL OR lease_until IS NULL OR lease_until < now())
                        AND attempted_by IS DISTINCT FROM $3
                        AND ($6::text IS NULL OR email = $6)
                      ORDER BY email LIMIT $4
                      FOR UPDATE SKIP LOCKED) c
                WHERE i.job = c.job AND i.period_key = c.period_key AND i.email = c.email
                RETURNING i.email, i.attempts, i.progress::text)
            SELECT * FROM claimed ORDER BY email
            """)
        static let saveProgress = PreparedStatement("""
            UPDATE job_items SET progress = $5::jsonb, updated_at = now()
            WHERE job = $1 AND period_key = $2 AND email = $3 AND claimed_by = $4
            """)
        static let finish = PreparedStatement("""
            UPDATE job_items SET
                status = CASE WHEN $5 = 'interrupted' THEN 'pending'
                              WHEN $5 = 'retry' THEN (CASE WHEN attempts >= $7 THEN 'failed' ELSE 'pending' END)
                              ELSE $5 END,
                attempts = CASE WHEN $5 = 'interrupted' THEN greatest(attempts - 1, 0) ELSE attempts END,
                attempted_by = CASE WHEN $5 = 'interrupted' THEN NULL ELSE attempted_by END,
                last_error = $6,
                claimed_by = NULL, lease_until = NULL, updated_at = now(), finished_by = $4,
                finished_at = CASE WHEN $5 = 'interrupted' OR ($5 = 'retry' AND attempts < $7) THEN NULL ELSE now() END
            WHERE job = $1 AND period_key = $2 AND email = $3 AND claimed_by = $4
            RETURNING status
            """)
        static let selected = perJob { job in """
            SELECT u.email, coalesce(i.status = 'done', false)
            FROM users u LEFT JOIN job_items i ON i.job = $1 AND i.period_key = $2 AND i.email = u.email
            WHERE \(job.selection("u"))
              AND ($3::text IS NULL OR u.email > $3) AND ($5::text IS NULL OR u.email = $5)
            ORDER BY u.email LIMIT $4
            """ }
        static let stillSelected = perJob { job in
            "SELECT 1 FROM users WHERE email = $1 AND \(job.selection("users"))"
        }

        private static func perJob(_ sql: (Job) -> String) -> PerJob {
            PerJob(wrapped: PreparedStatement(sql(.wrapped)), releaseRadar: PreparedStatement(sql(.releaseRadar)))
        }

        /// One statement per job (their selections differ, and each matches its own partial index).
        struct PerJob {
            let wrapped: PreparedStatement
            let releaseRadar: PreparedStatement

            subscript(job: Job) -> PreparedStatement {
                switch job {
                case .wrapped: return wrapped
                case .releaseRadar: return releaseRadar
                }
            }
        }
    }

    // MARK: Runs

    public func startRun(_ job: Job, period: String, host: String, pid: Int32, processStart: UInt64) throws(StoreError) -> Run {
        try database.write(SQL.startRun, [job.rawValue, period, host, Int(pid), String(processStart)]) { result in
            guard let row = result.first else { throw StoreError.fault("no run id") }
            return Run(id: try row.decode(0))
        }
    }

    public func runningRuns(_ job: Job) throws(StoreError) -> [RunningRun] {
        try database.read(SQL.runningRuns, [job.rawValue]) { result in
            try result.rows.map { row in
                RunningRun(run: Run(id: try row.decode(0)), host: try row.decode(1), pid: Int32(try row.decode(2, as: Int.self)),
                           processStart: UInt64(try row.decode(3, as: Int64.self)), silentSeconds: try row.decode(4))
            }
        }
    }

    /// Marks a run whose process is gone as crashed and frees its claims at once.
    public func markCrashed(_ run: Run) throws(StoreError) {
        try database.transaction { connection in
            try connection.execute(SQL.markCrashed, [run.id])
            try connection.execute(SQL.releaseClaims, [run.id])
            try connection.execute(SQL.dropCatalogueClaims, [run.id])
        }
    }

    /// Keeps a run's claims: its heartbeat, and the leases of the items it holds.
    public func heartbeat(_ run: Run, leaseSeconds: Int) throws(StoreError) {
        try database.transaction { connection in
            try connection.execute(SQL.heartbeatRun, [run.id])
            try connection.execute(SQL.heartbeatItems, [run.id, leaseSeconds])
            try connection.execute(SQL.renewCatalogueClaims, [run.id, leaseSeconds])
        }
    }

    /// Records the end of a run and gives back what it still holds: items it claimed but has no outcome for are
    /// pending again with the attempt not counted (`SQL.returnClaims`), its catalogue claims are dropped.
    public func finishRun(_ run: Run, _ summary: RunSummary) throws(StoreError) {
        var writer = JSONWriter()
        writer.beginObject()
        for (endpoint, count) in summary.requestsByEndpoint.sorted(by: { $0.key < $1.key }) {
            writer.key(endpoint)
            writer.int(count)
        }
        writer.endObject()
        let byEndpoint = JSONText(String(decoding: writer.bytes, as: UTF8.self))
        try database.transaction { connection in
            try connection.execute(SQL.finishRun, [
                run.id, summary.status.rawValue, summary.stopReason, summary.usersTotal, summary.usersDone,
                summary.usersFailed, summary.usersSkipped, summary.requests, byEndpoint, summary.status429,
            ])
            try connection.execute(SQL.returnClaims, [run.id])
            try connection.execute(SQL.dropCatalogueClaims, [run.id])
        }
    }

    // MARK: Items

    /// Creates the period's items for every user taking part (or one user), in the database: users are never
    /// all loaded into this process. Returns how many items the period has in each state.
    public func enlist(_ job: Job, period: String, only email: Email?) throws(StoreError) -> Counts {
        try database.transaction { connection in
            try connection.execute(SQL.enlist[job], [job.rawValue, period, email])
            var counts = Counts()
            for row in try connection.execute(SQL.counts, [job.rawValue, period, email]).rows {
                let n = try row.decode(1, as: Int.self)
                switch ItemState(rawValue: try row.decode(0, as: String.self)) {
                case .pending: counts.pending = n
                case .done: counts.done = n
                case .failed: counts.failed = n
                case .skipped: counts.skipped = n
                case nil: throw StoreError.corrupt("unknown job item status")
                }
            }
            return counts
        }
    }

    /// Claims up to `limit` items for `run` (see `SQL.claim`), after `after` when given; each claim counts an
    /// attempt. The items come in email order (the database's).
    public func claim(_ job: Job, period: String, run: Run, limit: Int, leaseSeconds: Int, only email: Email?,
                      after: Email? = nil) throws(StoreError) -> [Item] {
        try database.write(SQL.claim, [job.rawValue, period, run.id, limit, leaseSeconds, email, after]) { result in
            try result.rows.map { row in
                let text = try row.decode(2, as: String.self)
                let progress = (try? JSONParser.parse(text))?.objectValue ?? JSONObject()
                return Item(email: try row.decode(0), attempts: try row.decode(1), progress: progress)
            }
        }
    }

    /// Records a step's outcome (a playlist created, filled) before the next side effect happens.
    public func saveProgress(_ job: Job, period: String, email: Email, run: Run, _ progress: JSONObject) throws(StoreError) {
        try database.write(SQL.saveProgress, [job.rawValue, period, email, run.id, JSONText(JSON.object(progress).text)])
    }

    /// Closes an item; a retry within `maxAttempts` leaves it pending and unclaimed. Returns the item's state,
    /// nil when this run no longer held it (its lease ran out and another runner took it over).
    @discardableResult
    public func finish(_ job: Job, period: String, email: Email, run: Run, _ outcome: Outcome,
                       maxAttempts: Int) throws(StoreError) -> ItemState? {
        let (kind, reason): (String, String?)
        switch outcome {
        case .done: (kind, reason) = ("done", nil)
        case .skipped(let why): (kind, reason) = ("skipped", why)
        case .failed(let why): (kind, reason) = ("failed", why)
        case .retry(let why): (kind, reason) = ("retry", why)
        case .interrupted(let why): (kind, reason) = ("interrupted", why)
        }
        return try database.write(SQL.finish, [job.rawValue, period, email, run.id, kind,
                                               reason.map { String($0.prefix(1000)) }, maxAttempts]) { result in
            try result.first.flatMap { row in ItemState(rawValue: try row.decode(0, as: String.self)) }
        }
    }

    /// The users taking part, a page at a time in email order, with whether their item for the period is
    /// already done; read-only (dry runs).
    public func selected(_ job: Job, period: String, after: Email?, limit: Int,
                         only email: Email?) throws(StoreError) -> [(email: Email, done: Bool)] {
        try database.read(SQL.selected[job], [job.rawValue, period, after, limit, email]) { result in
            try result.rows.map { row in (try row.decode(0), try row.decode(1)) }
        }
    }

    /// Whether a user still takes part (they may have been disabled or refused since the item was made).
    public func stillSelected(_ job: Job, email: Email) throws(StoreError) -> Bool {
        try database.read(SQL.stillSelected[job], [email]) { $0.rowCount == 1 }
    }
}

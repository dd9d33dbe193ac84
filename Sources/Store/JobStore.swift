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
    public enum Job: String, Sendable {
        case wrapped
        case releaseRadar = "release_radar"

        /// The users taking part (SPEC §7.1), as an SQL condition on the `users` row named `row`.
        func selection(_ row: String = "users") -> String {
            let flag = self == .wrapped ? "active_wrapped" : "active_release_radar"
            return "\(row).active AND \(row).\(flag) AND \(row).token_state = 'ok'"
        }
    }

    /// A run of this process.
    public struct Run: Sendable {
        public let id: Int64
    }

    /// A claimed item.
    public struct Item: Sendable {
        public let email: Email
        public let attempts: Int
        public let progress: JSONObject
    }

    public struct Counts: Sendable, Equatable {
        public var pending = 0
        public var done = 0
        public var failed = 0
        public var skipped = 0
    }

    // MARK: Runs

    public func startRun(_ job: Job, period: String, host: String, pid: Int32, processStart: UInt64) throws(StoreError) -> Run {
        try database.run { connection throws(PostgresError) in
            let row = try connection.query("""
                INSERT INTO job_runs (job, period_key, host, pid, process_start) VALUES ($1, $2, $3, $4, $5) RETURNING id
                """, [job.rawValue, period, host, Int(pid), String(processStart)]).first
            guard let row else { throw .misuse("no run id") }
            return Run(id: try row.decode(0))
        }
    }

    /// Runs still marked running: (id, host, pid, process start, seconds since the last heartbeat).
    public func runningRuns(_ job: Job) throws(StoreError) -> [(id: Int64, host: String, pid: Int32, processStart: UInt64, silentSeconds: Double)] {
        try database.run { connection throws(PostgresError) in
            try connection.query("""
                SELECT id, host, pid, process_start, extract(epoch FROM now() - heartbeat_at)::float8
                FROM job_runs WHERE job = $1 AND status = 'running'
                """, [job.rawValue]).rows.map { row throws(PostgresError) in
                (try row.decode(0), try row.decode(1), Int32(try row.decode(2, as: Int.self)),
                 UInt64(try row.decode(3, as: Int64.self)), try row.decode(4))
            }
        }
    }

    /// Marks a run whose process is gone as crashed and frees its claims at once.
    public func markCrashed(_ runID: Int64) throws(StoreError) {
        try database.transaction { connection throws(PostgresError) in
            try connection.query("""
                UPDATE job_runs SET status = 'crashed', finished_at = now(), stop_reason = 'process ended without finishing'
                WHERE id = $1 AND status = 'running'
                """, [runID])
            try connection.query("""
                UPDATE job_items SET claimed_by = NULL, lease_until = NULL WHERE claimed_by = $1 AND status = 'pending'
                """, [runID])
        }
    }

    /// Keeps a run's claims: its heartbeat, and the leases of the items it holds.
    public func heartbeat(_ run: Run, leaseSeconds: Int) throws(StoreError) {
        try database.transaction { connection throws(PostgresError) in
            try connection.prepared("job_heartbeat_run", "UPDATE job_runs SET heartbeat_at = now() WHERE id = $1", [run.id])
            try connection.prepared("job_heartbeat_items", """
                UPDATE job_items SET lease_until = now() + make_interval(secs => $2)
                WHERE claimed_by = $1 AND status = 'pending'
                """, [run.id, leaseSeconds])
        }
    }

    public struct RunSummary: Sendable {
        public var status: String
        public var stopReason: String?
        public var usersTotal: Int
        public var usersDone: Int
        public var usersFailed: Int
        public var usersSkipped: Int
        public var requests: Int
        public var requestsByEndpoint: [String: Int]
        public var status429: Int

        public init(status: String, stopReason: String?, usersTotal: Int, usersDone: Int, usersFailed: Int, usersSkipped: Int,
                    requests: Int, requestsByEndpoint: [String: Int], status429: Int) {
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

    public func finishRun(_ run: Run, _ summary: RunSummary) throws(StoreError) {
        var writer = JSONWriter()
        writer.beginObject()
        for (endpoint, count) in summary.requestsByEndpoint.sorted(by: { $0.key < $1.key }) {
            writer.key(endpoint)
            writer.int(count)
        }
        writer.endObject()
        try database.transaction { connection throws(PostgresError) in
            try connection.query("""
                UPDATE job_runs SET status = $2, stop_reason = $3, finished_at = now(), heartbeat_at = now(),
                    users_total = $4, users_done = $5, users_failed = $6, users_skipped = $7,
                    spotify_requests = $8, requests_by_endpoint = $9::jsonb, status_429 = $10
                WHERE id = $1
                """, [run.id, summary.status, summary.stopReason, summary.usersTotal, summary.usersDone, summary.usersFailed,
                      summary.usersSkipped, summary.requests, JSONText(String(decoding: writer.bytes, as: UTF8.self)),
                      summary.status429])
            try connection.query("""
                UPDATE job_items SET claimed_by = NULL, lease_until = NULL WHERE claimed_by = $1 AND status = 'pending'
                """, [run.id])
        }
    }

    // MARK: Items

    /// Creates the period's items for every user taking part (or one user), in the database: users are never
    /// all loaded into this process. Returns how many items the period has in each state.
    public func enlist(_ job: Job, period: String, only email: Email?) throws(StoreError) -> Counts {
        try database.transaction { connection throws(PostgresError) in
            try connection.query("""
                INSERT INTO job_items (job, period_key, email)
                SELECT $1, $2, email FROM users WHERE \(job.selection()) AND ($3::text IS NULL OR email = $3)
                ON CONFLICT (job, period_key, email) DO NOTHING
                """, [job.rawValue, period, email])
            return try counts(connection, job, period, only: email)
        }
    }


    private func counts(_ connection: Connection, _ job: Job, _ period: String, only email: Email?) throws(PostgresError) -> Counts {
        var counts = Counts()
        for row in try connection.query("""
            SELECT status, count(*) FROM job_items WHERE job = $1 AND period_key = $2 AND ($3::text IS NULL OR email = $3)
            GROUP BY status
            """, [job.rawValue, period, email]).rows {
            let n = try row.decode(1, as: Int.self)
            switch try row.decode(0, as: String.self) {
            case "pending": counts.pending = n
            case "done": counts.done = n
            case "failed": counts.failed = n
            default: counts.skipped = n
            }
        }
        return counts
    }

    /// Claims up to `limit` pending items nobody holds (or whose holder's lease ran out), skipping rows another
    /// runner is claiming at this moment (FOR UPDATE SKIP LOCKED). Each claim counts an attempt.
    /// `excluding` lists users this run already tried (a retry waits for a later run).
    public func claim(_ job: Job, period: String, run: Run, limit: Int, leaseSeconds: Int,
                      only email: Email?, excluding: [String]) throws(StoreError) -> [Item] {
        try database.run { connection throws(PostgresError) in
            try connection.prepared("job_claim", """
                UPDATE job_items i SET claimed_by = $3, lease_until = now() + make_interval(secs => $5),
                    attempts = i.attempts + 1, updated_at = now()
                FROM (SELECT job, period_key, email FROM job_items
                      WHERE job = $1 AND period_key = $2 AND status = 'pending'
                        AND (claimed_by IS NULL OR lease_until IS NULL OR lease_until < now())
                        AND ($6::text IS NULL OR email = $6) AND NOT (email = ANY ($7::text[]))
                      ORDER BY email LIMIT $4
                      FOR UPDATE SKIP LOCKED) c
                WHERE i.job = c.job AND i.period_key = c.period_key AND i.email = c.email
                RETURNING i.email, i.attempts, i.progress::text
                """, [job.rawValue, period, run.id, limit, leaseSeconds, email, excluding]).rows.map { row throws(PostgresError) in
                let text = try row.decode(2, as: String.self)
                let progress = (try? JSONParser.parse(text))?.objectValue ?? JSONObject()
                return Item(email: try row.decode(0), attempts: try row.decode(1), progress: progress)
            }
        }
    }

    /// Records a step's outcome (a playlist created, filled) before the next side effect happens.
    public func saveProgress(_ job: Job, period: String, email: Email, run: Run, _ progress: JSONObject) throws(StoreError) {
        try database.run { connection throws(PostgresError) in
            try connection.prepared("job_progress", """
                UPDATE job_items SET progress = $5::jsonb, updated_at = now()
                WHERE job = $1 AND period_key = $2 AND email = $3 AND claimed_by = $4
                """, [job.rawValue, period, email, run.id, JSONText(JSON.object(progress).text)])
        }
    }

    public enum Outcome: Sendable {
        case done
        case skipped(reason: String)
        /// A failure that will not get better by retrying.
        case failed(reason: String)
        /// A failure worth another attempt by a later run (unless attempts are used up).
        case retry(reason: String)
        /// The run stopped before finishing this user (quota, budget): pending again, and the attempt not counted.
        case interrupted(reason: String)
    }

    /// Closes an item; a retry within `maxAttempts` leaves it pending and unclaimed. Returns the final state.
    @discardableResult
    public func finish(_ job: Job, period: String, email: Email, run: Run, _ outcome: Outcome,
                       maxAttempts: Int) throws(StoreError) -> String {
        let (status, error): (String, String?)
        switch outcome {
        case .done: (status, error) = ("done", nil)
        case .skipped(let reason): (status, error) = ("skipped", reason)
        case .failed(let reason): (status, error) = ("failed", reason)
        case .retry(let reason): (status, error) = ("retry", reason)
        case .interrupted(let reason): (status, error) = ("interrupted", reason)
        }
        return try database.run { connection throws(PostgresError) in
            let row = try connection.prepared("job_finish", """
                UPDATE job_items SET
                    status = CASE WHEN $5 = 'interrupted' THEN 'pending'
                                  WHEN $5 = 'retry' THEN (CASE WHEN attempts >= $7 THEN 'failed' ELSE 'pending' END)
                                  ELSE $5 END,
                    attempts = CASE WHEN $5 = 'interrupted' THEN greatest(attempts - 1, 0) ELSE attempts END,
                    last_error = $6,
                    claimed_by = NULL, lease_until = NULL, updated_at = now(),
                    finished_at = CASE WHEN $5 = 'interrupted' OR ($5 = 'retry' AND attempts < $7) THEN NULL ELSE now() END
                WHERE job = $1 AND period_key = $2 AND email = $3 AND claimed_by = $4
                RETURNING status
                """, [job.rawValue, period, email, run.id, status, error.map { String($0.prefix(1000)) }, maxAttempts]).first
            return try row?.decode(0, as: String.self) ?? "lost"
        }
    }

    /// The users taking part, a page at a time in email order, with whether their item for the period is
    /// already done; read-only (dry runs).
    public func selected(_ job: Job, period: String, after: Email?, limit: Int,
                         only email: Email?) throws(StoreError) -> [(email: Email, done: Bool)] {
        try database.run { connection throws(PostgresError) in
            try connection.query("""
                SELECT u.email, coalesce(i.status = 'done', false)
                FROM users u LEFT JOIN job_items i ON i.job = $1 AND i.period_key = $2 AND i.email = u.email
                WHERE \(job.selection("u"))
                  AND ($3::text IS NULL OR u.email > $3) AND ($5::text IS NULL OR u.email = $5)
                ORDER BY u.email LIMIT $4
                """, [job.rawValue, period, after, limit, email]).rows.map { row throws(PostgresError) in
                (try row.decode(0), try row.decode(1))
            }
        }
    }

    /// Whether a user still takes part (they may have been disabled or refused since the item was made).
    public func stillSelected(_ job: Job, email: Email) throws(StoreError) -> Bool {
        try database.run { connection throws(PostgresError) in
            try connection.query("SELECT 1 FROM users WHERE email = $1 AND \(job.selection())", [email]).rowCount == 1
        }
    }
}

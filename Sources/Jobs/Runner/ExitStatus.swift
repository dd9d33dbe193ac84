/// The exit statuses of a job run (SPEC §7.3).
public enum ExitStatus: Int32, Sendable, Comparable {
    /// All done.
    case success = 0
    /// Some users failed permanently (others done).
    case someFailed = 1
    /// A fault of the program or its environment before any work (the HTTP client could not start).
    case software = 70
    /// Stopped early (quota, budget, database) with work left for the next run.
    case stoppedEarly = 75
    /// A configuration error.
    case configuration = 78

    public static func < (lhs: ExitStatus, rhs: ExitStatus) -> Bool { lhs.rawValue < rhs.rawValue }
}

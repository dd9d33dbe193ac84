/// The three tables of the old system (SPEC §13), named as the summary and the log lines name them.
public enum ExportTable: String, CaseIterable, Sendable, Hashable {
    case users = "xomify-users"
    case wrappedHistory = "xomify-wrapped-history"
    case releaseRadarHistory = "xomify-release-radar-history"

    /// The table a DynamoDB table name stands for; the old README calls the users table `xomify-user`.
    init?(tableName: String) {
        switch tableName {
        case "xomify-users", "xomify-user": self = .users
        case "xomify-wrapped-history": self = .wrappedHistory
        case "xomify-release-radar-history": self = .releaseRadarHistory
        default: return nil
        }
    }

    var isHistory: Bool { self != .users }

    static let knownNames = "xomify-users (or xomify-user), xomify-wrapped-history, xomify-release-radar-history"
}

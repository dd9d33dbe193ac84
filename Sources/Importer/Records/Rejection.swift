/// Why a record is skipped: a reason the summary counts (per table), and a detail for its log line. Details
/// name the attribute and, except for the refresh token, the value that was refused.
public struct Rejection: Error, Sendable {
    public enum Reason: String, Sendable, CaseIterable, Comparable {
        case notAnItem = "not an item in DynamoDB JSON"
        case missingKey = "missing key"
        case invalidEmail = "invalid email"
        case invalidMonthKey = "invalid monthKey"
        case invalidWeekKey = "invalid weekKey"
        case invalidAttribute = "invalid attribute"
        case duplicateSpotifyID = "userId of another user in the export"
        case userSkipped = "its user was skipped"
        case unknownUser = "user neither in the database nor in the export"
        case databaseRefused = "refused by the database"

        public static func < (lhs: Reason, rhs: Reason) -> Bool { lhs.rawValue < rhs.rawValue }
    }

    public let reason: Reason
    public let detail: String

    public init(_ reason: Reason, _ detail: String) {
        self.reason = reason
        self.detail = detail
    }
}

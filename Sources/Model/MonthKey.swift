import Text

/// A month, `YYYY-MM`: the period of the wrapped job and the key of a wrap.
public struct MonthKey: Hashable, Sendable, Comparable, CustomStringConvertible {
    public let year: Int
    public let month: Int

    public init?(year: Int, month: Int) {
        guard (1...12).contains(month), (1000...9999).contains(year) else { return nil }
        self.year = year
        self.month = month
    }

    /// Parses `YYYY-MM` with a real month (01–12).
    public init?(_ text: String) {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0].count == 4, parts[1].count == 2,
              parts.allSatisfy({ $0.allSatisfy(\.isASCIIDigit) }),
              let year = Int(parts[0]), let month = Int(parts[1]) else { return nil }
        self.init(year: year, month: month)
    }

    /// The month containing `date`.
    public init(containing date: CivilDate) {
        year = date.year
        month = date.month
    }

    /// The month before this one (the wrapped job's period is the month before the run).
    public var previous: MonthKey {
        month == 1 ? MonthKey(year: year - 1, month: 12)! : MonthKey(year: year, month: month - 1)!
    }

    public var description: String { "\(ZeroPadding.pad(year, 4))-\(ZeroPadding.pad(month, 2))" }

    public var monthName: String { CivilDate.monthNames[month - 1] }

    /// The last two digits of the year, `25` for 2025.
    public var shortYear: String { ZeroPadding.pad(year % 100, 2) }


    public static func < (lhs: MonthKey, rhs: MonthKey) -> Bool {
        (lhs.year, lhs.month) < (rhs.year, rhs.month)
    }
}

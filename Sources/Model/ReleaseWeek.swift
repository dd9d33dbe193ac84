import Text

/// A release radar week: Saturday 00:00 to Friday 24:00 UTC. Its key is the ISO week-year and week number
/// (`YYYY-WW`) of its Saturday (SPEC §5.3).
public struct ReleaseWeek: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The Saturday the week starts on.
    public let start: CivilDate

    /// The week containing `date`.
    public init(containing date: CivilDate) {
        // ISO weekday: Saturday is 6; days since the last Saturday are (weekday + 1) % 7.
        start = date.adding(days: -((date.isoWeekday + 1) % 7))
    }

    /// The week whose key is `YYYY-WW`; nil for a malformed key or a week number the year does not have.
    public init?(key text: String) {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0].count == 4, parts[1].count == 2,
              parts.allSatisfy({ $0.allSatisfy(\.isASCIIDigit) }),
              let year = Int(parts[0]), let week = Int(parts[1]), week >= 1, week <= 53,
              let january4 = CivilDate(year: year, month: 1, day: 4) else { return nil }
        // Monday of ISO week 1 is the Monday on or before January 4th; Saturday of week N is 5 days after
        // that week's Monday.
        let mondayOfWeek1 = january4.adding(days: -(january4.isoWeekday - 1))
        let saturday = mondayOfWeek1.adding(days: (week - 1) * 7 + 5)
        let candidate = ReleaseWeek(containing: saturday)
        guard candidate.key == text else { return nil }
        self = candidate
    }

    public var end: CivilDate { start.adding(days: 6) }

    /// The most recent complete week before `date` (the release radar job's period on a Sunday run).
    public static func lastComplete(before date: CivilDate) -> ReleaseWeek {
        ReleaseWeek(containing: date).previous
    }

    public var previous: ReleaseWeek { ReleaseWeek(containing: start.adding(days: -7)) }

    /// `YYYY-WW`: ISO week-year and week of the Saturday.
    public var key: String {
        let (isoYear, isoWeek) = ReleaseWeek.isoWeek(of: start)
        return "\(ZeroPadding.pad(isoYear, 4))-\(ZeroPadding.pad(isoWeek, 2))"
    }

    /// `Jan 03 - 09, 2026`, or `Dec 27 - Jan 02, 2026` when the week spans two months (the year is the
    /// end's, as the old clients show it).
    public var display: String {
        let end = self.end
        if start.month == end.month {
            return "\(start.monthAbbreviation) \(ZeroPadding.pad(start.day, 2)) - \(ZeroPadding.pad(end.day, 2)), \(end.year)"
        }
        return "\(start.monthAbbreviation) \(ZeroPadding.pad(start.day, 2)) - \(end.monthAbbreviation) \(ZeroPadding.pad(end.day, 2)), \(end.year)"
    }

    public var description: String { key }

    /// True when a release dated `date` (Spotify's precision: `YYYY-MM-DD`, `YYYY-MM` or `YYYY`) belongs to
    /// this week (SPEC §8.2): a day inside it; a month only in the week that holds the 1st of that month (so it
    /// counts once, not in four or five weeks); a year never.
    public func contains(releaseDate date: String, precision: String) -> Bool {
        guard let day = ReleaseWeek.countedDay(releaseDate: date, precision: precision) else { return false }
        return day >= start && day <= end
    }

    /// The day a release counts on: its day, or the 1st of its month; nil for a year alone or a malformed date.
    public static func countedDay(releaseDate date: String, precision: String) -> CivilDate? {
        switch precision {
        case "day": return CivilDate(date)
        case "month": return MonthKey(date).flatMap { CivilDate(year: $0.year, month: $0.month, day: 1) }
        default: return nil
        }
    }

    static func isoWeek(of date: CivilDate) -> (year: Int, week: Int) {
        // The ISO week belongs to the year of its Thursday.
        let thursday = date.adding(days: 4 - date.isoWeekday)
        let january1 = CivilDate(year: thursday.year, month: 1, day: 1)!
        let week = (thursday.daysSinceEpoch - january1.daysSinceEpoch) / 7 + 1
        return (thursday.year, week)
    }

    public static func < (lhs: ReleaseWeek, rhs: ReleaseWeek) -> Bool { lhs.start < rhs.start }
}

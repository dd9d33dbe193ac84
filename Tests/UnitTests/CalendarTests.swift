import Model
import XCTest

final class CalendarTests: XCTestCase {
    func testCivilDateRoundTrips() {
        for days in stride(from: -800_000, through: 800_000, by: 997) {
            XCTAssertEqual(CivilDate(daysSinceEpoch: days).daysSinceEpoch, days)
        }
        XCTAssertEqual(CivilDate(daysSinceEpoch: 0).description, "1970-01-01")
        XCTAssertEqual(CivilDate("2024-02-29")?.adding(days: 1).description, "2024-03-01")
        XCTAssertNil(CivilDate("2023-02-29"))
        XCTAssertNil(CivilDate("2023-2-01"))
        XCTAssertEqual(CivilDate("2026-11-27")?.isoWeekday, 5) // a Friday
    }

    func testMonthKeys() {
        XCTAssertEqual(MonthKey("2025-11")?.previous.description, "2025-10")
        XCTAssertEqual(MonthKey("2026-01")?.previous.description, "2025-12")
        for bad in ["2025-13", "2025-00", "25-11", "2025-1", "2025-011", "abcd-11", "2025/11", "２０２５-11"] {
            XCTAssertNil(MonthKey(bad), bad)
        }
        XCTAssertEqual(MonthKey("2025-11")?.monthName, "November")
        XCTAssertEqual(MonthKey("2026-12")?.shortYear, "26")
    }

    func testReleaseWeeks() throws {
        // Saturday 2026-01-03 to Friday 2026-01-09; ISO week of that Saturday is 2026-01.
        let week = ReleaseWeek(containing: try XCTUnwrap(CivilDate("2026-01-07")))
        XCTAssertEqual(week.start.description, "2026-01-03")
        XCTAssertEqual(week.end.description, "2026-01-09")
        XCTAssertEqual(week.key, "2026-01")
        XCTAssertEqual(week.display, "Jan 03 - 09, 2026")
        let spanning = ReleaseWeek(containing: try XCTUnwrap(CivilDate("2025-12-31")))
        XCTAssertEqual(spanning.start.description, "2025-12-27")
        XCTAssertEqual(spanning.key, "2025-52")
        XCTAssertEqual(spanning.display, "Dec 27 - Jan 02, 2026")
        // A Saturday starts its own week; the Friday before belongs to the previous one.
        XCTAssertEqual(ReleaseWeek(containing: try XCTUnwrap(CivilDate("2026-01-03"))).key, "2026-01")
        XCTAssertEqual(ReleaseWeek(containing: try XCTUnwrap(CivilDate("2026-01-02"))).key, "2025-52")
        // Keys parse back to the same week; week 53 exists only in long years.
        for offset in stride(from: 0, to: 3000, by: 7) {
            let some = ReleaseWeek(containing: CivilDate(daysSinceEpoch: 19_000 + offset))
            XCTAssertEqual(ReleaseWeek(key: some.key), some)
        }
        XCTAssertNotNil(ReleaseWeek(key: "2026-53"))
        XCTAssertNil(ReleaseWeek(key: "2025-53"))
        XCTAssertNil(ReleaseWeek(key: "2025-00"))
        // The last complete week before Sunday 2026-11-29 is Nov 21-27.
        XCTAssertEqual(ReleaseWeek.lastComplete(before: try XCTUnwrap(CivilDate("2026-11-29"))).start.description, "2026-11-21")
    }

    func testReleaseDatesInAWeek() throws {
        let week = ReleaseWeek(containing: try XCTUnwrap(CivilDate("2026-01-01"))) // Dec 27 - Jan 2
        XCTAssertTrue(week.contains(releaseDate: "2025-12-27", precision: "day"))
        XCTAssertTrue(week.contains(releaseDate: "2026-01-02", precision: "day"))
        XCTAssertFalse(week.contains(releaseDate: "2026-01-03", precision: "day"))
        // SPEC §8.2: a month-precision date counts only in the week that holds the 1st of that month.
        XCTAssertTrue(week.contains(releaseDate: "2026-01", precision: "month"))
        XCTAssertFalse(week.contains(releaseDate: "2025-12", precision: "month"), "Dec 1st is in another week")
        XCTAssertFalse(week.contains(releaseDate: "2025-11", precision: "month"))
        XCTAssertFalse(week.contains(releaseDate: "2026", precision: "year"))
        XCTAssertFalse(week.contains(releaseDate: "2026-13", precision: "month"))
        // Over a year of weeks, each month counts in exactly one.
        var counted: [String: Int] = [:]
        var current = week
        for _ in 0..<60 {
            for month in 1...12 {
                let date = "2026-" + (month < 10 ? "0" : "") + String(month)
                if current.contains(releaseDate: date, precision: "month") { counted[date, default: 0] += 1 }
            }
            current = ReleaseWeek(containing: current.start.adding(days: 7))
        }
        XCTAssertEqual(counted.count, 12)
        XCTAssertTrue(counted.values.allSatisfy { $0 == 1 })
    }

    func testTimestamps() throws {
        let stamp = try XCTUnwrap(Timestamp(parsing: "2026-11-27 05:54:47.123+00"))
        XCTAssertEqual(stamp.apiText, "2026-11-27 05:54:47")
        XCTAssertEqual(stamp.iso8601, "2026-11-27T05:54:47Z")
        XCTAssertNil(Timestamp(parsing: "2026-11-27 05:54:47+02"))
        XCTAssertEqual(Timestamp(seconds: 0).apiText, "1970-01-01 00:00:00")
    }

    func testEmails() {
        XCTAssertEqual(Email("Ana@Example.COM")?.value, "ana@example.com")
        for bad in ["", "no-at", "a@@b", "@b", "a@", "a b@c", String(repeating: "a", count: 250) + "@b.cc"] {
            XCTAssertNil(Email(bad), bad)
        }
    }
}

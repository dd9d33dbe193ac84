@testable import Jobs
import Model
import XCTest

final class WrappedPlaylistTests: XCTestCase {
    private func wrap(_ month: String) throws -> Wrap {
        let ids = PerTimeRange<[String]>(shortTerm: ["s1", "s2"], mediumTerm: ["m1"], longTerm: ["l1", "l2", "l3"])
        return Wrap(email: try XCTUnwrap(Email("a@b.c")), month: try XCTUnwrap(MonthKey(month)), topTrackIDs: ids,
                    topArtistIDs: ids, genres: PerTimeRange(shortTerm: .empty, mediumTerm: .empty, longTerm: .empty),
                    createdAt: Timestamp(seconds: 0))
    }

    func testARunOnNewYearsDayWrapsDecemberOfThePreviousYear() throws {
        // 2027-01-01 00:00:00 UTC
        let month = WrappedJob.defaultMonth(now: 1_798_761_600)
        XCTAssertEqual(month.description, "2026-12")
        let playlists = WrappedPlaylist.all(for: try wrap(month.description))
        XCTAssertEqual(playlists.map(\.name), ["Xomify December'26", "Xomify 2026"])
        XCTAssertEqual(playlists.map(\.trackIDs), [["s1", "s2"], ["l1", "l2", "l3"]])
        // SPEC §8.1, word for word.
        XCTAssertEqual(playlists[1].description, "Your Top 25 songs for 2026 - Created by xomify.com")
    }

    func testNormalMonthsAndJune() throws {
        XCTAssertEqual(WrappedPlaylist.all(for: try wrap("2025-11")).map(\.name), ["Xomify November'25"])
        XCTAssertEqual(WrappedPlaylist.all(for: try wrap("2025-11"))[0].description,
                       "Your Top 25 songs for November - Created by xomify.com")
        let june = WrappedPlaylist.all(for: try wrap("2026-06"))
        XCTAssertEqual(june.map(\.name), ["Xomify June'26", "Xomify First Half '26"])
        XCTAssertEqual(june[1].trackIDs, ["m1"])
        XCTAssertEqual(june[1].description, "Your Top 25 songs for the First 6 months of '26 - Created by xomify.com")
        XCTAssertEqual(WrappedJob.defaultMonth(now: 1_795_737_600).description, "2026-10") // 2026-11-27
    }
}

@testable import Jobs
import Model
import XCTest

/// The pure parts of the release radar (SPEC §8.2): the normalised title of the single-versus-album rule (the
/// cases of Tests/integration/test_release_radar_reference.py), and the day a listing sorts a release on.
final class ReleaseRadarTests: XCTestCase {
    func testNormalisedTitles() {
        let cases = [
            "Paper Satellites": "paper satellites",
            "  PAPER satellites\u{A0}": "paper satellites",
            "Paper Satellites (feat. Nova Reyes)": "paper satellites",
            "Paper Satellites (ft. Nova Reyes)": "paper satellites",
            "Paper Satellites (with Nova Reyes)": "paper satellites",
            "Paper Satellites [feat. Nova Reyes]": "paper satellites",
            "Paper Satellites [with Nova Reyes]": "paper satellites",
            "Paper Satellites (Feat. Nova (The Band))": "paper satellites",
            "Paper Satellites (Remix)": "paper satellites (remix)",
            "Paper Satellites (featuring Nova)": "paper satellites (featuring nova)",
            "Paper Satellites (feat Nova)": "paper satellites (feat nova)",
            "Paper Satellites (without you)": "paper satellites (without you)",
            "Paper Satellites (feat. Nova) (Remix)": "paper satellites (feat. nova) (remix)",
            "Paper Satellites (feat. Nova) [with Kai]": "paper satellites (feat. nova)",
            "STRASSE": "strasse", "Straße": "strasse",
        ]
        for (title, expected) in cases {
            XCTAssertEqual(WeekContents.normalisedTitle(title), expected, title)
        }
    }

    func testSameRecordingNeedsTitleArtistAndTwoSeconds() {
        let single = CatalogueTrack(id: "s", uri: "spotify:track:s", name: "Song (feat. X)", artistIDs: ["a", "x"], durationMs: 200_000)
        func album(_ name: String, _ artists: [String], _ ms: Int) -> CatalogueTrack {
            CatalogueTrack(id: "a", uri: "spotify:track:a", name: name, artistIDs: artists, durationMs: ms)
        }
        XCTAssertTrue(WeekContents.sameRecording(album("song", ["a"], 202_000), single))
        XCTAssertTrue(WeekContents.sameRecording(album("SONG", ["a", "b"], 198_000), single))
        XCTAssertFalse(WeekContents.sameRecording(album("song", ["a"], 202_001), single))
        XCTAssertFalse(WeekContents.sameRecording(album("song", ["x", "a"], 200_000), single), "another primary artist")
        XCTAssertFalse(WeekContents.sameRecording(album("song (remix)", ["a"], 200_000), single))
    }

    func testListingsSortYearsAndMonthsOnTheirFirstDay() {
        XCTAssertEqual(ArtistScanner.sortDay("2026-11-14")?.description, "2026-11-14")
        XCTAssertEqual(ArtistScanner.sortDay("2026-11")?.description, "2026-11-01")
        XCTAssertEqual(ArtistScanner.sortDay("2026")?.description, "2026-01-01")
        XCTAssertNil(ArtistScanner.sortDay(""))
    }
}

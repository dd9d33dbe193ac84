import Model
import XCTest

final class GenreScoreTests: XCTestCase {
    func testScoresByRankWithFirstSeenTies() {
        // n = 3: weights 3, 2, 1.
        let scores = GenreScores.score(artistGenres: [["Pop", " rock "], ["rock", "indie"], ["indie", "pop"]])
        XCTAssertEqual(scores.entries.map(\.genre), ["rock", "pop", "indie"])
        XCTAssertEqual(scores.entries.map(\.score), [5, 4, 3])
        let tie = GenreScores.score(artistGenres: [["b"], ["a", "c"], ["a", "b"]])
        // b: 3 + 1 = 4, a: 2 + 1 = 3, c: 2
        XCTAssertEqual(tie.entries.map(\.genre), ["b", "a", "c"])
        let firstSeen = GenreScores.score(artistGenres: [["x", "y"]])
        XCTAssertEqual(firstSeen.entries.map(\.genre), ["x", "y"])
    }

    func testAbsentGenresGiveAnEmptyMapAndWeightsNeverDropBelowOne() {
        XCTAssertEqual(GenreScores.score(artistGenres: [[], [], []]), .empty)
        XCTAssertEqual(GenreScores.score(artistGenres: []), .empty)
        let duplicates = GenreScores.score(artistGenres: [["jazz", "Jazz", "  "]])
        XCTAssertEqual(duplicates.entries, [.init(genre: "jazz", score: 1)])
    }
}

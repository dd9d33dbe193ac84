import Model
import XCTest

/// SPEC §8.1 ("with n artists in rank order, the artist at index i (from 0) adds max(n − i, 1) to each of its
/// genres (lower-cased, trimmed)") and §5.3 (descending score order, ties first seen). The cases are the ones
/// Tests/integration/test_genre_reference.py checks the Python reference with; that file's reference says how
/// the SPEC is read where it is silent (blank genres are none, a genre listed twice by one artist counts once).
final class GenreScoreTests: XCTestCase {
    private func pairs(_ artistGenres: [[String]]) -> [String] {
        GenreScores.score(artistGenres: artistGenres).entries.map { "\($0.genre)=\($0.score)" }
    }

    func testWeightsAreNMinusIndex() {
        XCTAssertEqual(pairs([["a"], ["b"], ["c"]]), ["a=3", "b=2", "c=1"])
        let ranked = pairs((0..<25).map { ["g\($0)"] })
        XCTAssertEqual(ranked.first, "g0=25")
        XCTAssertEqual(ranked.last, "g24=1")
        XCTAssertEqual(pairs([["pop", "rock"], ["pop"], ["rock"]]), ["pop=5", "rock=4"])
    }

    func testScoresByRankWithFirstSeenTies() {
        // n = 3: weights 3, 2, 1.
        XCTAssertEqual(pairs([["Pop", " rock "], ["rock", "indie"], ["indie", "pop"]]), ["rock=5", "pop=4", "indie=3"])
        // b: 3 + 1 = 4, a: 2 + 1 = 3, c: 2.
        XCTAssertEqual(pairs([["b"], ["a", "c"], ["a", "b"]]), ["b=4", "a=3", "c=2"])
        XCTAssertEqual(pairs([["z", "a"]]), ["z=1", "a=1"])
        XCTAssertEqual(pairs([["m"], ["z", "a"], ["a", "z"]]), ["m=3", "z=3", "a=3"])
        // The example of Tests/rig/genre_scores.py (an artist without genres is [] here).
        XCTAssertEqual(pairs([["Pop", " rock "], ["rock", "indie", "Rock"], [], ["", "indie"]]),
                       ["rock=7", "pop=4", "indie=4"])
    }

    func testArtistsWithoutGenresStillCountAndAbsentGenresGiveAnEmptyMap() {
        XCTAssertEqual(pairs([[], [], ["x"]]), ["x=1"])
        XCTAssertEqual(pairs([["x"], [], []]), ["x=3"])
        XCTAssertEqual(GenreScores.score(artistGenres: [[], [], []]), .empty)
        XCTAssertEqual(GenreScores.score(artistGenres: []), .empty)
    }

    func testLowerCasedTrimmedBlankAndRepeatedGenres() {
        XCTAssertEqual(pairs([["  Indie Pop\t"], ["indie pop"]]), ["indie pop=3"])
        XCTAssertEqual(pairs([["hip  hop"], ["hip hop"]]), ["hip  hop=2", "hip hop=1"])
        XCTAssertEqual(pairs([["\u{A0}K-Pop\u{3000}"]]), ["k-pop=1"])
        XCTAssertEqual(pairs([["İ"]]), ["i\u{307}=1"])
        // Unicode's lowercase mapping keeps the Final_Sigma rule; trimming removes white space scalars only, so a
        // combining mark after a leading space stays with the genre.
        XCTAssertEqual(pairs([["ΈΝΤΕΧΝΟΣ"], ["ΣΑΣ ΚΑΙ ΣΑΣ"]]), ["έντεχνος=2", "σας και σας=1"])
        XCTAssertEqual(pairs([[" \u{301}a"]]), ["\u{301}a=1"])
        XCTAssertEqual(GenreScores.score(artistGenres: [["", "   ", "\n"]]), .empty)
        XCTAssertEqual(pairs([["jazz", "Jazz", " jazz "], ["jazz"]]), ["jazz=3"])
        XCTAssertEqual(pairs([["soul", "soul"], ["soul", "funk", "funk"]]), ["soul=3", "funk=1"])
    }
}

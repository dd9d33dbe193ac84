import Text

/// Genre scores of one time range, in descending score order (ties keep first-seen order).
public struct GenreScores: Sendable, Equatable {
    public struct Entry: Sendable, Equatable {
        public let genre: String
        public let score: Int

        public init(genre: String, score: Int) {
            self.genre = genre
            self.score = score
        }
    }

    public let entries: [Entry]

    public init(entries: [Entry]) { self.entries = entries }

    public static let empty = GenreScores(entries: [])

    /// SPEC §8.1: with n artists in rank order, the artist at index i adds max(n − i, 1) to each of its genres
    /// (lower-cased, trimmed; blank genres ignored; a genre listed twice for one artist counts once).
    /// Artists without genres contribute nothing; no genres at all gives an empty map, not an error.
    public static func score(artistGenres: [[String]]) -> GenreScores {
        let n = artistGenres.count
        var totals: [String: Int] = [:]
        var order: [String] = []
        for (index, genres) in artistGenres.enumerated() {
            let weight = max(n - index, 1)
            var seen = Set<String>()
            for raw in genres {
                let genre = GenreScores.lowercased(raw).trimmed()
                guard !genre.isEmpty, seen.insert(genre).inserted else { continue }
                if totals[genre] == nil { order.append(genre) }
                totals[genre, default: 0] += weight
            }
        }
        // A stable sort keeps first-seen order among equal scores.
        let ranked = order.enumerated().sorted { lhs, rhs in
            let (a, b) = (totals[lhs.element, default: 0], totals[rhs.element, default: 0])
            return a != b ? a > b : lhs.offset < rhs.offset
        }
        return GenreScores(entries: ranked.map { Entry(genre: $0.element, score: totals[$0.element, default: 0]) })
    }

    /// Unicode's full lowercase mapping, with the Final_Sigma rule that `String.lowercased()` leaves out: a capital
    /// sigma at the end of a word becomes ς, elsewhere σ ("ΈΝΤΕΧΝΟΣ" is "έντεχνος").
    static func lowercased(_ text: String) -> String {
        let lowered = Array(text.lowercased().unicodeScalars)
        let original = Array(text.unicodeScalars)
        guard original.contains("\u{3A3}"), lowered.count == original.count else { return String(String.UnicodeScalarView(lowered)) }
        var out = lowered
        for (index, scalar) in original.enumerated() where scalar == "\u{3A3}" {
            let before = original[..<index].reversed().first { !$0.properties.isCaseIgnorable }
            let after = original[(index + 1)...].first { !$0.properties.isCaseIgnorable }
            if before?.properties.isCased == true && after?.properties.isCased != true { out[index] = "\u{3C2}" }
        }
        return String(String.UnicodeScalarView(out))
    }
}

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
                let genre = raw.lowercased().trimmed()
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
}

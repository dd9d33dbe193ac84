import JSON
import Model

/// An item of `xomify-wrapped-history` as a wrap: `email` and `monthKey` (keys), `topSongIds` and `topArtistIds`
/// (a map per time range of id lists), `topGenres` (a map per time range of genre → score), `playlistId`,
/// `createdAt`. Old rows spell `med_term` for `medium_term`; a range missing from a map is an empty list. Genre
/// scores are whole numbers, ordered by descending score, ties in the export's order (as the job orders them).
/// A wrap without `createdAt` gets the start of the next month, when the monthly job would have made it.
enum WrapRecord {
    static func wrap(_ item: DynamoItem) throws(Rejection) -> Wrap {
        let email = try KeyAttributes.email(item)
        let monthText = try KeyAttributes.sortKey(item, "monthKey", invalid: .invalidMonthKey)
        guard let month = MonthKey(monthText) else {
            throw Rejection(.invalidMonthKey, "\(RecordKey.quoted(monthText)) is not YYYY-MM with a real month")
        }
        let tracks = try ranges(item, "topSongIds") { value, path throws(Rejection) in try ids(value, path) }
        let artists = try ranges(item, "topArtistIds") { value, path throws(Rejection) in try ids(value, path) }
        let genres = try ranges(item, "topGenres") { value, path throws(Rejection) in try scores(value, path) }
        let created = try item.timestamp("createdAt")?.timestamp ?? firstSecond(after: month)
        return Wrap(email: email, month: month, topTrackIDs: tracks, topArtistIDs: artists, genres: genres,
                    playlistID: try KeyAttributes.identifier(item, "playlistId").value, createdAt: created)
    }

    /// A map keyed by time range (`med_term` read as `medium_term`), each value read by `read`.
    private static func ranges<Value: Sendable & Equatable>(
        _ item: DynamoItem, _ name: String, _ read: (AttributeValue, String) throws(Rejection) -> Value) throws(Rejection) -> PerTimeRange<Value> {
        guard let value = try item.value(name), !value.isNull else { throw Rejection(.invalidAttribute, "no \(name)") }
        guard case .map(let map) = value else { throw DynamoItem.mismatch(name, "a map (M) by time range", value) }
        var found: [TimeRange: Value] = [:]
        for member in map.members {
            let rangeName = member.key == "med_term" ? "medium_term" : member.key
            guard let range = TimeRange(rawValue: rangeName) else {
                throw Rejection(.invalidAttribute, "\(name): unknown time range \(RecordKey.quoted(member.key))")
            }
            guard found[range] == nil else {
                throw Rejection(.invalidAttribute, "\(name): both med_term and medium_term")
            }
            let path = "\(name).\(member.key)"
            guard let inner = AttributeValue(member.value) else {
                throw Rejection(.invalidAttribute, "\(path): not a DynamoDB JSON value")
            }
            found[range] = try read(inner, path)
        }
        let empty = try read(.list([]), name)
        return PerTimeRange { range in found[range] ?? empty }
    }

    /// Ids in rank order: a list (`L`) of strings, or a string set (`SS`, kept in the export's order).
    private static func ids(_ value: AttributeValue, _ path: String) throws(Rejection) -> [String] {
        switch value {
        case .stringSet(let texts): return try texts.map { text throws(Rejection) in try id(text, path) }
        case .list(let items):
            var result: [String] = []
            result.reserveCapacity(items.count)
            for (index, json) in items.enumerated() {
                guard case .string(let text)? = AttributeValue(json) else {
                    throw Rejection(.invalidAttribute, "\(path)[\(index)]: not a string (S)")
                }
                result.append(try id(text, "\(path)[\(index)]"))
            }
            return result
        case .null: return []
        default: throw DynamoItem.mismatch(path, "a list of ids (L or SS)", value)
        }
    }

    private static func id(_ text: String, _ path: String) throws(Rejection) -> String {
        guard !text.isEmpty, text.unicodeScalars.count <= 256 else {
            throw Rejection(.invalidAttribute, "\(path): \(RecordKey.quoted(text)) is not an id")
        }
        return text
    }

    /// Genre → score (`M` of numbers), ordered by descending score, ties in the export's order.
    private static func scores(_ value: AttributeValue, _ path: String) throws(Rejection) -> GenreScores {
        let members: [JSONObject.Member]
        switch value {
        case .map(let map): members = map.members
        case .list(let items) where items.isEmpty: members = []
        case .null: members = []
        default: throw DynamoItem.mismatch(path, "a map (M) of genre scores", value)
        }
        var entries: [GenreScores.Entry] = []
        entries.reserveCapacity(members.count)
        for member in members {
            guard let score = AttributeValue(member.value)?.integer else {
                throw Rejection(.invalidAttribute, "\(path).\(RecordKey.quoted(member.key)): not a whole number")
            }
            entries.append(GenreScores.Entry(genre: member.key, score: score))
        }
        let ranked = entries.enumerated().sorted { lhs, rhs in
            lhs.element.score != rhs.element.score ? lhs.element.score > rhs.element.score : lhs.offset < rhs.offset
        }
        return GenreScores(entries: ranked.map(\.element))
    }

    /// 00:00 UTC on the 1st of the month after `month`.
    static func firstSecond(after month: MonthKey) -> Timestamp {
        let next = month.month == 12 ? (month.year + 1, 1) : (month.year, month.month + 1)
        let day = CivilDate(year: next.0, month: next.1, day: 1) ?? CivilDate(daysSinceEpoch: 0)
        return Timestamp(seconds: Int64(day.daysSinceEpoch) * 86400)
    }
}

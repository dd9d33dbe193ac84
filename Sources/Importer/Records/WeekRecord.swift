import Model

/// An item of `xomify-release-radar-history` as a week: `email` and `weekKey` (keys), `releases` (a list of maps
/// with the API's release fields), `stats` (a map of the five counts; a missing count is 0), `playlistId`,
/// `startDate`, `endDate` (which must be the week's, Saturday to Friday, when present), `createdAt` (missing:
/// the Sunday after the week, when the weekly job would have made it).
enum WeekRecord {
    static func week(_ item: DynamoItem) throws(Rejection) -> RadarWeek {
        let email = try KeyAttributes.email(item)
        let keyText = try KeyAttributes.sortKey(item, "weekKey", invalid: .invalidWeekKey)
        guard let week = ReleaseWeek(key: keyText) else {
            throw Rejection(.invalidWeekKey, "\(RecordKey.quoted(keyText)) is not YYYY-WW with a week its year has")
        }
        for (name, expected) in [("startDate", week.start), ("endDate", week.end)] {
            guard case .value(let text) = try item.text(name, maximumLength: 32) else { continue }
            guard CivilDate(text) == expected else {
                throw Rejection(.invalidWeekKey, "\(name) \(RecordKey.quoted(text)) is not \(expected), the \(name == "startDate" ? "Saturday" : "Friday") of week \(week.key)")
            }
        }
        let releases = try self.releases(item)
        let stats = try self.stats(item)
        guard stats.albumCount + stats.singleCount <= stats.releaseCount else {
            throw Rejection(.invalidAttribute, "stats: albumCount + singleCount is more than releaseCount")
        }
        let created = try item.timestamp("createdAt")?.timestamp
            ?? Timestamp(seconds: Int64(week.end.adding(days: 1).daysSinceEpoch) * 86400)
        return RadarWeek(email: email, week: week, releases: releases, stats: stats,
                         playlistID: try KeyAttributes.identifier(item, "playlistId").value, createdAt: created)
    }

    private static func releases(_ item: DynamoItem) throws(Rejection) -> [Release] {
        guard let value = try item.value("releases"), !value.isNull else { return [] }
        guard case .list(let items) = value else { throw DynamoItem.mismatch("releases", "a list (L)", value) }
        var releases: [Release] = []
        for (index, json) in items.enumerated() {
            let path = "releases[\(index)]"
            guard case .map(let map)? = AttributeValue(json) else { throw Rejection(.invalidAttribute, "\(path): not a map (M)") }
            let release = DynamoItem(attributes: map)
            func required(_ name: String) throws(Rejection) -> String {
                guard case .value(let text) = try release.text(name, maximumLength: 2048), !text.isEmpty else {
                    throw Rejection(.invalidAttribute, "\(path).\(name): missing or empty")
                }
                return text
            }
            guard let tracksValue = try release.value("totalTracks"), let tracks = tracksValue.integer, tracks >= 0 else {
                throw Rejection(.invalidAttribute, "\(path).totalTracks: not a whole number")
            }
            releases.append(Release(
                albumID: try required("albumId"), albumName: try required("albumName"), albumType: try required("albumType"),
                artistID: try required("artistId"), artistName: try required("artistName"),
                releaseDate: try required("releaseDate"), totalTracks: tracks,
                imageURL: try release.text("imageUrl", maximumLength: 2048).value,
                spotifyURL: try release.text("spotifyUrl", maximumLength: 2048).value, uri: try required("uri")))
        }
        return releases
    }

    private static func stats(_ item: DynamoItem) throws(Rejection) -> WeekStats {
        guard let value = try item.value("stats"), !value.isNull else { return WeekStats() }
        guard case .map(let map) = value else { throw DynamoItem.mismatch("stats", "a map (M)", value) }
        let stats = DynamoItem(attributes: map)
        func count(_ name: String) throws(Rejection) -> Int {
            guard let value = try stats.value(name), !value.isNull else { return 0 }
            guard let number = value.integer, number >= 0, number <= Int(Int32.max) else {
                throw Rejection(.invalidAttribute, "stats.\(name): not a count")
            }
            return number
        }
        return WeekStats(artistCount: try count("artistCount"), releaseCount: try count("releaseCount"),
                         trackCount: try count("trackCount"), albumCount: try count("albumCount"),
                         singleCount: try count("singleCount"))
    }
}

import JSON

/// A user's wrapped month: top tracks, top artists and genre scores for the three time ranges.
public struct Wrap: Sendable, Equatable {
    public var email: Email
    public var month: MonthKey
    public var topTrackIDs: PerTimeRange<[String]>
    public var topArtistIDs: PerTimeRange<[String]>
    public var genres: PerTimeRange<GenreScores>
    /// The monthly playlist; June and December also get a half-year or a full-year playlist.
    public var playlistID: String?
    public var firstHalfPlaylistID: String?
    public var yearPlaylistID: String?
    public var createdAt: Timestamp

    public init(email: Email, month: MonthKey, topTrackIDs: PerTimeRange<[String]>, topArtistIDs: PerTimeRange<[String]>,
                genres: PerTimeRange<GenreScores>, playlistID: String? = nil, firstHalfPlaylistID: String? = nil,
                yearPlaylistID: String? = nil, createdAt: Timestamp) {
        self.email = email
        self.month = month
        self.topTrackIDs = topTrackIDs
        self.topArtistIDs = topArtistIDs
        self.genres = genres
        self.playlistID = playlistID
        self.firstHalfPlaylistID = firstHalfPlaylistID
        self.yearPlaylistID = yearPlaylistID
        self.createdAt = createdAt
    }

    /// The wrap as the API returns it (SPEC §5.3): `{email, monthKey, topSongIds, topArtistIds, topGenres,
    /// playlistId, createdAt}`, genre keys in descending score order.
    public func apiJSON() -> [UInt8] {
        var writer = JSONWriter(capacity: 6144)
        writer.beginObject()
        writer.key("email"); writer.string(email.value)
        writer.key("monthKey"); writer.string(month.description)
        writer.key("topSongIds"); Wrap.write(topTrackIDs, to: &writer)
        writer.key("topArtistIds"); Wrap.write(topArtistIDs, to: &writer)
        writer.key("topGenres")
        writer.beginObject()
        for range in TimeRange.allCases {
            writer.key(range.rawValue)
            writer.beginObject()
            for entry in genres[range].entries {
                writer.key(entry.genre)
                writer.int(entry.score)
            }
            writer.endObject()
        }
        writer.endObject()
        writer.key("playlistId"); writer.optionalString(playlistID)
        writer.key("createdAt"); writer.string(createdAt.apiText)
        writer.endObject()
        return writer.bytes
    }

    private static func write(_ lists: PerTimeRange<[String]>, to writer: inout JSONWriter) {
        writer.beginObject()
        for range in TimeRange.allCases {
            writer.key(range.rawValue)
            writer.stringArray(lists[range])
        }
        writer.endObject()
    }
}

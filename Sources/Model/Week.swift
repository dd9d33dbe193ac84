import JSON

/// A release found for a week (SPEC §5.3 `releases[]`).
public struct Release: Sendable, Equatable {
    public var albumID: String
    public var albumName: String
    public var albumType: String
    public var artistID: String
    public var artistName: String
    public var releaseDate: String
    public var totalTracks: Int
    public var imageURL: String?
    public var spotifyURL: String?
    public var uri: String

    public init(albumID: String, albumName: String, albumType: String, artistID: String, artistName: String,
                releaseDate: String, totalTracks: Int, imageURL: String?, spotifyURL: String?, uri: String) {
        self.albumID = albumID
        self.albumName = albumName
        self.albumType = albumType
        self.artistID = artistID
        self.artistName = artistName
        self.releaseDate = releaseDate
        self.totalTracks = totalTracks
        self.imageURL = imageURL
        self.spotifyURL = spotifyURL
        self.uri = uri
    }
}

/// Counts shown with a week.
public struct WeekStats: Sendable, Equatable {
    public var artistCount = 0
    public var releaseCount = 0
    public var trackCount = 0
    public var albumCount = 0
    public var singleCount = 0

    public init(artistCount: Int = 0, releaseCount: Int = 0, trackCount: Int = 0, albumCount: Int = 0, singleCount: Int = 0) {
        self.artistCount = artistCount
        self.releaseCount = releaseCount
        self.trackCount = trackCount
        self.albumCount = albumCount
        self.singleCount = singleCount
    }
}

/// One user's release radar week.
public struct RadarWeek: Sendable, Equatable {
    public var email: Email
    public var week: ReleaseWeek
    public var releases: [Release]
    public var stats: WeekStats
    public var playlistID: String?
    public var createdAt: Timestamp

    public init(email: Email, week: ReleaseWeek, releases: [Release], stats: WeekStats, playlistID: String?,
                createdAt: Timestamp) {
        self.email = email
        self.week = week
        self.releases = releases
        self.stats = stats
        self.playlistID = playlistID
        self.createdAt = createdAt
    }

    /// The week as the API returns it.
    public func write(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.key("weekKey"); writer.string(week.key)
        writer.key("weekDisplay"); writer.string(week.display)
        writer.key("startDate"); writer.string(week.start.description)
        writer.key("endDate"); writer.string(week.end.description)
        writer.key("releases")
        writer.beginArray()
        for release in releases { release.write(to: &writer) }
        writer.endArray()
        writer.key("stats")
        writer.beginObject()
        writer.key("artistCount"); writer.int(stats.artistCount)
        writer.key("releaseCount"); writer.int(stats.releaseCount)
        writer.key("trackCount"); writer.int(stats.trackCount)
        writer.key("albumCount"); writer.int(stats.albumCount)
        writer.key("singleCount"); writer.int(stats.singleCount)
        writer.endObject()
        writer.key("playlistId"); writer.optionalString(playlistID)
        writer.key("createdAt"); writer.string(createdAt.apiText)
        writer.endObject()
    }
}

extension Release {
    public func write(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.key("albumId"); writer.string(albumID)
        writer.key("albumName"); writer.string(albumName)
        writer.key("albumType"); writer.string(albumType)
        writer.key("artistId"); writer.string(artistID)
        writer.key("artistName"); writer.string(artistName)
        writer.key("releaseDate"); writer.string(releaseDate)
        writer.key("totalTracks"); writer.int(totalTracks)
        writer.key("imageUrl"); writer.optionalString(imageURL)
        writer.key("spotifyUrl"); writer.optionalString(spotifyURL)
        writer.key("uri"); writer.string(uri)
        writer.endObject()
    }

    /// Reads a release back from its stored JSON; nil when a required member is missing.
    public init?(json: JSON) {
        guard let albumID = json["albumId"].stringValue, let albumName = json["albumName"].stringValue,
              let albumType = json["albumType"].stringValue, let artistID = json["artistId"].stringValue,
              let artistName = json["artistName"].stringValue, let releaseDate = json["releaseDate"].stringValue,
              let totalTracks = json["totalTracks"].intValue, let uri = json["uri"].stringValue else { return nil }
        self.init(albumID: albumID, albumName: albumName, albumType: albumType, artistID: artistID, artistName: artistName,
                  releaseDate: releaseDate, totalTracks: totalTracks, imageURL: json["imageUrl"].stringValue,
                  spotifyURL: json["spotifyUrl"].stringValue, uri: uri)
    }
}

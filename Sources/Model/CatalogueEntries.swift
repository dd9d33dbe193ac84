import JSON

/// A release as an artist's album listing shows it: what a week's scan of that artist keeps, shared by every
/// user who follows the artist (the Spotify catalogue cache of SPEC §4).
public struct CatalogueRelease: Sendable, Equatable {
    /// How the release relates to the scanned artist: `album` or `single` (theirs), `appears_on` (they are
    /// credited on a track of someone else's release) or `compilation`.
    public enum Group: String, Sendable, CaseIterable {
        case album, single
        case appearsOn = "appears_on"
        case compilation
    }

    public var albumID: String
    public var name: String
    /// Spotify's `album_type`: `album`, `single` or `compilation`.
    public var albumType: String
    public var group: Group
    /// The release's own artists, in Spotify's order.
    public var artists: [ArtistName]
    public var releaseDate: String
    public var releaseDatePrecision: String
    public var totalTracks: Int
    public var imageURL: String?
    public var spotifyURL: String?
    public var uri: String

    public init(albumID: String, name: String, albumType: String, group: Group, artists: [ArtistName],
                releaseDate: String, releaseDatePrecision: String, totalTracks: Int, imageURL: String?,
                spotifyURL: String?, uri: String) {
        self.albumID = albumID
        self.name = name
        self.albumType = albumType
        self.group = group
        self.artists = artists
        self.releaseDate = releaseDate
        self.releaseDatePrecision = releaseDatePrecision
        self.totalTracks = totalTracks
        self.imageURL = imageURL
        self.spotifyURL = spotifyURL
        self.uri = uri
    }

    /// The day the release counts on (its day, or the 1st of its month); nil for a year alone.
    public var countedDay: CivilDate? {
        ReleaseWeek.countedDay(releaseDate: releaseDate, precision: releaseDatePrecision)
    }

    public func write(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.key("id"); writer.string(albumID)
        writer.key("name"); writer.string(name)
        writer.key("type"); writer.string(albumType)
        writer.key("group"); writer.string(group.rawValue)
        writer.key("artists")
        writer.beginArray()
        for artist in artists { artist.write(to: &writer) }
        writer.endArray()
        writer.key("date"); writer.string(releaseDate)
        writer.key("precision"); writer.string(releaseDatePrecision)
        writer.key("tracks"); writer.int(totalTracks)
        writer.key("image"); writer.optionalString(imageURL)
        writer.key("url"); writer.optionalString(spotifyURL)
        writer.key("uri"); writer.string(uri)
        writer.endObject()
    }

    public init?(json: JSON) {
        guard let id = json["id"].stringValue, let name = json["name"].stringValue,
              let type = json["type"].stringValue, let group = json["group"].stringValue.flatMap(Group.init(rawValue:)),
              let artists = json["artists"].arrayValue, let date = json["date"].stringValue,
              let precision = json["precision"].stringValue, let tracks = json["tracks"].intValue,
              let uri = json["uri"].stringValue else { return nil }
        self.init(albumID: id, name: name, albumType: type, group: group, artists: artists.compactMap(ArtistName.init(json:)),
                  releaseDate: date, releaseDatePrecision: precision, totalTracks: tracks,
                  imageURL: json["image"].stringValue, spotifyURL: json["url"].stringValue, uri: uri)
    }
}

/// An artist's id and name.
public struct ArtistName: Sendable, Equatable, Hashable {
    public var id: String
    public var name: String

    public init(id: String, name: String) {
        self.id = id
        self.name = name
    }

    func write(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.key("id"); writer.string(id)
        writer.key("name"); writer.string(name)
        writer.endObject()
    }

    init?(json: JSON) {
        guard let id = json["id"].stringValue else { return nil }
        self.init(id: id, name: json["name"].stringValue ?? "")
    }
}

/// A track of a release, as the album's tracks list shows it.
public struct CatalogueTrack: Sendable, Equatable {
    public var id: String
    public var uri: String
    public var name: String
    /// The track's credited artists, the primary one first.
    public var artistIDs: [String]
    public var durationMs: Int

    public init(id: String, uri: String, name: String, artistIDs: [String], durationMs: Int) {
        self.id = id
        self.uri = uri
        self.name = name
        self.artistIDs = artistIDs
        self.durationMs = durationMs
    }

    public func write(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.key("id"); writer.string(id)
        writer.key("uri"); writer.string(uri)
        writer.key("name"); writer.string(name)
        writer.key("artists"); writer.stringArray(artistIDs)
        writer.key("ms"); writer.int(durationMs)
        writer.endObject()
    }

    public init?(json: JSON) {
        guard let id = json["id"].stringValue, let uri = json["uri"].stringValue,
              let artists = json["artists"].arrayValue else { return nil }
        self.init(id: id, uri: uri, name: json["name"].stringValue ?? "", artistIDs: artists.compactMap(\.stringValue),
                  durationMs: json["ms"].intValue ?? 0)
    }
}

import JSON

// The Spotify objects the jobs and the login need, decoded defensively: every optional field may be absent
// or null (artist genres are deprecated and often missing), and an item without an id is skipped rather than
// failing its page.

public struct SpotifyImage: Sendable, Equatable {
    public let url: String
    public let width: Int?
    public let height: Int?

    init?(json: JSON) {
        guard let url = json["url"].stringValue else { return nil }
        self.url = url
        width = json["width"].intValue
        height = json["height"].intValue
    }

    /// The largest image of a list (Spotify lists widest first, but not always).
    static func largest(_ json: JSON) -> SpotifyImage? {
        (json.arrayValue ?? []).compactMap(SpotifyImage.init(json:)).max { ($0.width ?? 0) < ($1.width ?? 0) }
    }
}

public struct SpotifyProfile: Sendable, Equatable {
    public let id: String
    public let email: String?
    public let displayName: String?
    public let imageURL: String?

    init?(json: JSON) {
        guard let id = json["id"].stringValue, !id.isEmpty else { return nil }
        self.id = id
        email = json["email"].stringValue
        displayName = json["display_name"].stringValue
        imageURL = SpotifyImage.largest(json["images"])?.url
    }
}

public struct SpotifyArtistReference: Sendable, Equatable, Hashable {
    public let id: String
    public let name: String

    init?(json: JSON) {
        guard let id = json["id"].stringValue, !id.isEmpty else { return nil }
        self.id = id
        name = json["name"].stringValue ?? ""
    }

    public init(id: String, name: String) {
        self.id = id
        self.name = name
    }
}

public struct SpotifyArtist: Sendable, Equatable {
    public let id: String
    public let name: String
    /// Empty when Spotify sends none (deprecated field).
    public let genres: [String]

    init?(json: JSON) {
        guard let id = json["id"].stringValue, !id.isEmpty else { return nil }
        self.id = id
        name = json["name"].stringValue ?? ""
        genres = (json["genres"].arrayValue ?? []).compactMap(\.stringValue)
    }
}

public struct SpotifyTrack: Sendable, Equatable {
    public let id: String
    public let uri: String
    public let name: String
    public let artists: [SpotifyArtistReference]
    public let durationMs: Int

    init?(json: JSON) {
        guard let id = json["id"].stringValue, !id.isEmpty else { return nil }
        self.id = id
        uri = json["uri"].stringValue ?? "spotify:track:\(id)"
        name = json["name"].stringValue ?? ""
        artists = (json["artists"].arrayValue ?? []).compactMap(SpotifyArtistReference.init(json:))
        durationMs = json["duration_ms"].intValue ?? 0
    }
}

public struct SpotifyAlbum: Sendable, Equatable {
    public let id: String
    public let name: String
    /// `album`, `single` or `compilation`.
    public let albumType: String
    /// On artist-album listings: `album`, `single`, `appears_on` or `compilation`.
    public let albumGroup: String?
    public let releaseDate: String
    /// `day`, `month` or `year`.
    public let releaseDatePrecision: String
    public let totalTracks: Int
    public let artists: [SpotifyArtistReference]
    public let imageURL: String?
    public let spotifyURL: String?
    public let uri: String

    init?(json: JSON) {
        guard let id = json["id"].stringValue, !id.isEmpty else { return nil }
        self.id = id
        name = json["name"].stringValue ?? ""
        albumType = (json["album_type"].stringValue ?? "album").lowercased()
        albumGroup = json["album_group"].stringValue?.lowercased()
        releaseDate = json["release_date"].stringValue ?? ""
        releaseDatePrecision = json["release_date_precision"].stringValue ?? "day"
        totalTracks = json["total_tracks"].intValue ?? 0
        artists = (json["artists"].arrayValue ?? []).compactMap(SpotifyArtistReference.init(json:))
        imageURL = SpotifyImage.largest(json["images"])?.url
        spotifyURL = json["external_urls"]["spotify"].stringValue
        uri = json["uri"].stringValue ?? "spotify:album:\(id)"
    }
}

public struct SpotifyPlaylist: Sendable, Equatable {
    public let id: String
    public let name: String
    public let description: String?
    public let ownerID: String?

    init?(json: JSON) {
        guard let id = json["id"].stringValue, !id.isEmpty else { return nil }
        self.id = id
        name = json["name"].stringValue ?? ""
        description = json["description"].stringValue
        ownerID = json["owner"]["id"].stringValue
    }
}

/// One page of a paging object (offset or cursor paging).
public struct Page<Item: Sendable>: Sendable {
    public let items: [Item]
    public let total: Int?
    public let hasNext: Bool
    /// The `after` cursor of cursor-based paging.
    public let nextCursor: String?

    init(json: JSON, item: (JSON) -> Item?) {
        items = (json["items"].arrayValue ?? []).compactMap(item)
        total = json["total"].intValue
        let next = json["next"].stringValue
        hasNext = next != nil && !(next ?? "").isEmpty
        nextCursor = json["cursors"]["after"].stringValue
    }
}

/// What the accounts service answers to a refresh: an access token, and sometimes a new refresh token
/// that replaces the old one.
public struct TokenGrant: Sendable {
    public let accessToken: String
    public let expiresIn: Int
    public let rotatedRefreshToken: String?
}

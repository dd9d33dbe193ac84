import HTTP

/// A Web API call. The set of constructors below is the whole of what this client can ask Spotify: none of the
/// endpoints SPEC §6 lists as gone (batch lookups, /users/{id}/playlists, /playlists/{id}/tracks,
/// /browse/new-releases) can be expressed.
public struct Endpoint: Sendable {
    public let method: String
    /// Path and query below the API base, e.g. `/v1/me/top/tracks?time_range=short_term&limit=25`.
    public let path: String
    /// The route template used to count requests, e.g. `GET /v1/me/top/{type}`.
    public let label: String
    let body: [UInt8]
    let contentType: String?

    private init(_ method: String, _ path: String, label: String, body: [UInt8] = [], contentType: String? = nil) {
        self.method = method
        self.path = path
        self.label = "\(method) \(label)"
        self.body = body
        self.contentType = contentType
    }

    private static func encode(_ component: String) -> String { QueryString.encode(component) }

    public static let currentUser = Endpoint("GET", "/v1/me", label: "/v1/me")

    public static func top(_ type: TopType, range: String, limit: Int, offset: Int = 0) -> Endpoint {
        Endpoint("GET", "/v1/me/top/\(type.rawValue)?time_range=\(encode(range))&limit=\(limit)&offset=\(offset)",
                 label: "/v1/me/top/{type}")
    }

    public enum TopType: String, Sendable { case tracks, artists }

    public static func followedArtists(after cursor: String?, limit: Int = 50) -> Endpoint {
        var path = "/v1/me/following?type=artist&limit=\(limit)"
        if let cursor { path += "&after=\(encode(cursor))" }
        return Endpoint("GET", path, label: "/v1/me/following")
    }

    /// An artist's releases; `limit` is at most 10 for development-mode apps.
    public static func artistAlbums(_ artistID: String, groups: [String], limit: Int, offset: Int) -> Endpoint {
        Endpoint("GET", "/v1/artists/\(encode(artistID))/albums?include_groups=\(groups.joined(separator: ","))&limit=\(min(limit, 10))&offset=\(offset)",
                 label: "/v1/artists/{id}/albums")
    }

    public static func album(_ albumID: String) -> Endpoint {
        Endpoint("GET", "/v1/albums/\(encode(albumID))", label: "/v1/albums/{id}")
    }

    public static func albumTracks(_ albumID: String, offset: Int, limit: Int = 50) -> Endpoint {
        Endpoint("GET", "/v1/albums/\(encode(albumID))/tracks?limit=\(limit)&offset=\(offset)", label: "/v1/albums/{id}/tracks")
    }

    /// The current user's playlists (used only to recover a playlist whose creation was interrupted).
    public static func myPlaylists(offset: Int, limit: Int = 50) -> Endpoint {
        Endpoint("GET", "/v1/me/playlists?limit=\(limit)&offset=\(offset)", label: "/v1/me/playlists")
    }

    public static func createPlaylist(json: [UInt8]) -> Endpoint {
        Endpoint("POST", "/v1/me/playlists", label: "/v1/me/playlists", body: json, contentType: "application/json")
    }

    /// Replaces a playlist's items with at most 100 uris.
    public static func replaceItems(_ playlistID: String, json: [UInt8]) -> Endpoint {
        Endpoint("PUT", "/v1/playlists/\(encode(playlistID))/items", label: "/v1/playlists/{id}/items", body: json,
                 contentType: "application/json")
    }

    /// Appends at most 100 uris.
    public static func appendItems(_ playlistID: String, json: [UInt8]) -> Endpoint {
        Endpoint("POST", "/v1/playlists/\(encode(playlistID))/items", label: "/v1/playlists/{id}/items", body: json,
                 contentType: "application/json")
    }

    /// Uploads a cover: the body is the base64 of a JPEG.
    public static func uploadCover(_ playlistID: String, base64JPEG: [UInt8]) -> Endpoint {
        Endpoint("PUT", "/v1/playlists/\(encode(playlistID))/images", label: "/v1/playlists/{id}/images",
                 body: base64JPEG, contentType: "image/jpeg")
    }
}

import Crypto
import JSON

/// Typed calls over `call(_:accessToken:)`, with the paging the jobs need.
extension SpotifyClient {
    public func currentUser(accessToken: String) async throws(SpotifyError) -> SpotifyProfile {
        let json = try await call(.currentUser, accessToken: accessToken)
        guard let profile = SpotifyProfile(json: json) else { throw .malformedResponse("profile without id") }
        return profile
    }

    /// Top tracks of a time range, in rank order.
    public func topTracks(accessToken: String, range: String, limit: Int) async throws(SpotifyError) -> [SpotifyTrack] {
        let json = try await call(.top(.tracks, range: range, limit: limit), accessToken: accessToken)
        return Page(json: json, item: SpotifyTrack.init(json:)).items
    }

    /// Top artists of a time range, in rank order.
    public func topArtists(accessToken: String, range: String, limit: Int) async throws(SpotifyError) -> [SpotifyArtist] {
        let json = try await call(.top(.artists, range: range, limit: limit), accessToken: accessToken)
        return Page(json: json, item: SpotifyArtist.init(json:)).items
    }

    /// Every followed artist, through all cursor pages.
    public func followedArtists(accessToken: String) async throws(SpotifyError) -> [SpotifyArtistReference] {
        var artists: [SpotifyArtistReference] = []
        var cursor: String?
        for _ in 0..<1000 {
            let json = try await call(.followedArtists(after: cursor), accessToken: accessToken)
            let page = Page(json: json["artists"], item: SpotifyArtistReference.init(json:))
            artists.append(contentsOf: page.items)
            guard page.hasNext, let next = page.nextCursor, next != cursor else { break }
            cursor = next
        }
        return artists
    }

    public func artistAlbums(accessToken: String, artistID: String, groups: [String], limit: Int,
                             offset: Int) async throws(SpotifyError) -> Page<SpotifyAlbum> {
        let json = try await call(.artistAlbums(artistID, groups: groups, limit: limit, offset: offset), accessToken: accessToken)
        return Page(json: json, item: SpotifyAlbum.init(json:))
    }

    /// One page of an album's tracks: at offset 0 the album itself (its first 50 tracks embedded), further on
    /// `GET /v1/albums/{id}/tracks`. `count` is the page's items as sent (the next page's offset moves by it).
    public func albumTracksPage(accessToken: String, albumID: String, offset: Int)
        async throws(SpotifyError) -> (tracks: [SpotifyTrack], hasNext: Bool, count: Int) {
        let json = offset == 0 ? try await call(.album(albumID), accessToken: accessToken)["tracks"]
                               : try await call(.albumTracks(albumID, offset: offset), accessToken: accessToken)
        let page = Page(json: json, item: SpotifyTrack.init(json:))
        return (page.items, page.hasNext, (json["items"].arrayValue ?? []).count)
    }

    /// Creates a playlist owned by the user (`POST /v1/me/playlists`).
    public func createPlaylist(accessToken: String, name: String, description: String,
                               isPublic: Bool) async throws(SpotifyError) -> SpotifyPlaylist {
        var writer = JSONWriter()
        writer.beginObject()
        writer.key("name"); writer.string(name)
        writer.key("description"); writer.string(description)
        writer.key("public"); writer.bool(isPublic)
        writer.endObject()
        let json = try await call(.createPlaylist(json: writer.bytes), accessToken: accessToken)
        guard let playlist = SpotifyPlaylist(json: json) else { throw .malformedResponse("created playlist without id") }
        return playlist
    }

    /// Sets a playlist's items: replaces with the first 100, appends the rest by hundreds (an empty list empties it).
    public func setPlaylistItems(accessToken: String, playlistID: String, uris: [String]) async throws(SpotifyError) {
        var chunks = stride(from: 0, to: uris.count, by: 100).map { Array(uris[$0..<min($0 + 100, uris.count)]) }
        if chunks.isEmpty { chunks = [[]] }
        for (index, chunk) in chunks.enumerated() {
            var writer = JSONWriter()
            writer.beginObject()
            writer.key("uris"); writer.stringArray(chunk)
            writer.endObject()
            let endpoint: Endpoint = index == 0 ? .replaceItems(playlistID, json: writer.bytes) : .appendItems(playlistID, json: writer.bytes)
            try await call(endpoint, accessToken: accessToken)
        }
    }

    /// Uploads a JPEG cover (sent as base64, at most 256 KB of it).
    public func uploadCover(accessToken: String, playlistID: String, jpeg: [UInt8]) async throws(SpotifyError) {
        try await call(.uploadCover(playlistID, base64JPEG: Base64.encodeBytes(jpeg)), accessToken: accessToken)
    }

    /// The user's playlists, a page at a time.
    public func myPlaylists(accessToken: String, offset: Int) async throws(SpotifyError) -> Page<SpotifyPlaylist> {
        Page(json: try await call(.myPlaylists(offset: offset), accessToken: accessToken), item: SpotifyPlaylist.init(json:))
    }
}

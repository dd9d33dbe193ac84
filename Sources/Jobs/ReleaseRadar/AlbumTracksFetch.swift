import JSON
import Model
import Spotify

/// A release's tracks, every page (SPEC §8.2: the first 50 come with the album, the rest by pages of 50), going
/// on from the pages an interrupted fetch of the same release kept; when this fetch is cut short after
/// receiving a page, `keep` gets what it has (JSON `{"offset", "tracks"}`) before the error goes on.
struct AlbumTracksFetch: Sendable {
    let spotify: SpotifyClient

    func tracks(_ albumID: String, accessToken: String, earlier: JSON?,
                keep: @Sendable (String) async -> Void) async throws(SpotifyError) -> [CatalogueTrack] {
        var (tracks, offset) = AlbumTracksFetch.resume(earlier)
        var fresh = false
        do throws(SpotifyError) {
            while offset < 10_000 {
                let page = try await spotify.albumTracksPage(accessToken: accessToken, albumID: albumID, offset: offset)
                fresh = true
                tracks += page.tracks.map {
                    CatalogueTrack(id: $0.id, uri: $0.uri, name: $0.name, artistIDs: $0.artists.map(\.id),
                                   durationMs: $0.durationMs)
                }
                guard page.hasNext, page.count > 0 else { break }
                offset += page.count
            }
            return tracks
        } catch {
            if fresh { await keep(AlbumTracksFetch.json(tracks, offset: offset)) }
            throw error
        }
    }

    /// Where kept pages leave off: their tracks and the next offset (none kept, or unreadable: from the start).
    private static func resume(_ earlier: JSON?) -> ([CatalogueTrack], Int) {
        guard let earlier, let offset = earlier["offset"].intValue, offset > 0,
              let items = earlier["tracks"].arrayValue else { return ([], 0) }
        let tracks = items.compactMap(CatalogueTrack.init(json:))
        return tracks.count == items.count ? (tracks, offset) : ([], 0)
    }

    private static func json(_ tracks: [CatalogueTrack], offset: Int) -> String {
        var writer = JSONWriter(capacity: 64 + 160 * tracks.count)
        writer.beginObject()
        writer.key("offset"); writer.int(offset)
        writer.key("tracks")
        writer.beginArray()
        for track in tracks { track.write(to: &writer) }
        writer.endArray()
        writer.endObject()
        return String(decoding: writer.bytes, as: UTF8.self)
    }
}

import JSON
import Spotify

/// The user's `Xomify Weekly Release Radar` playlist (SPEC §8.2): created once and its id stored on the user,
/// then its items replaced each week (the first 100 put, the rest appended; an empty week empties it). A write
/// that finds it deleted (404) or no longer the user's (403) creates a new one, once, and stores that id. Each
/// step is recorded before the next, so a resumed run never creates a second playlist.
struct RadarPlaylist {
    static let name = "Xomify Weekly Release Radar"
    static let description = "All your followed artists newest songs - Created by xomify.com"
    static let progressKey = "playlist"

    let user: UserContext
    /// The id stored on the user, if any.
    let storedID: String?

    /// Writes `uris` and returns the playlist's id.
    func write(_ uris: [String]) async throws -> String {
        var step = user.progress[RadarPlaylist.progressKey]?.objectValue ?? JSONObject()
        var recreated = false
        var createdNow = false
        while true {
            var id = step["id"]?.stringValue ?? (recreated ? nil : storedID)
            if id == nil, step["creating"]?.boolValue == true {
                // An interrupted run may have created it and died before recording the id.
                id = try await findExisting()
            }
            let playlistID: String
            if let id {
                playlistID = id
            } else {
                step = JSONObject()
                step.set("creating", .bool(true))
                try await user.record(RadarPlaylist.progressKey, .object(step))
                playlistID = try await user.spotify.createPlaylist(accessToken: user.accessToken, name: RadarPlaylist.name,
                                                                   description: RadarPlaylist.description, isPublic: true).id
                createdNow = true
            }
            if step["id"]?.stringValue != playlistID {
                step = JSONObject()
                step.set("id", .string(playlistID))
                try await user.record(RadarPlaylist.progressKey, .object(step))
            }
            if playlistID != storedID {
                let email = user.email
                try await user.database.with { stores in try stores.users.setReleaseRadarPlaylist(email, id: playlistID) }
            }
            // A playlist just made is already empty: an empty week needs no write after it.
            if step["filled"]?.boolValue == true || (createdNow && uris.isEmpty) { return playlistID }
            do {
                try await user.spotify.setPlaylistItems(accessToken: user.accessToken, playlistID: playlistID, uris: uris)
            } catch {
                guard !recreated, error.meansPlaylistGone else { throw error }
                user.log.info("the release radar playlist is gone; making a new one",
                              ["user": user.email.value, "playlist": playlistID])
                recreated = true
                step = JSONObject()
                try await user.record(RadarPlaylist.progressKey, .object(step))
                continue
            }
            step.set("filled", .bool(true))
            try await user.record(RadarPlaylist.progressKey, .object(step))
            return playlistID
        }
    }

    /// Looks through the user's playlists for the one this job made (same name and description).
    private func findExisting() async throws -> String? {
        var offset = 0
        for _ in 0..<4 {
            let page = try await user.spotify.myPlaylists(accessToken: user.accessToken, offset: offset)
            if let found = page.items.first(where: { $0.name == RadarPlaylist.name && $0.description == RadarPlaylist.description }) {
                return found.id
            }
            guard page.hasNext, !page.items.isEmpty else { break }
            offset += page.items.count
        }
        return nil
    }
}

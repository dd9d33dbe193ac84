import JSON
import Log
import Model
import Platform
import Spotify
import Store

/// The monthly wrapped job (SPEC §8.1) for one user: the six top lists, genre scores, the wrap row, then each
/// playlist — created once (its id recorded before anything else), filled, given its cover — and its id
/// stored with the wrap. Every step is recorded, so a rerun after a crash continues where it stopped.
struct WrappedTask: UserTask {
    let job = JobStore.Job.wrapped
    let month: MonthKey
    let covers: CoverImages
    var period: String { month.description }

    static let topLimit = 25

    func run(_ user: UserContext) async throws(TaskError) {
        var wrap = try await wrapForMonth(user)
        for playlist in WrappedPlaylist.all(for: wrap) {
            try await makePlaylist(playlist, wrap: &wrap, user: user)
        }
        if !user.dryRun {
            try storeCall { () throws(StoreError) in
                try user.database.with { stores throws(StoreError) in try stores.users.touch(user.email) }
            }
        }
    }

    /// The stored wrap of a resumed run, or a new one from Spotify's top lists (6 requests), stored at once.
    private func wrapForMonth(_ user: UserContext) async throws(TaskError) -> Wrap {
        let month = self.month
        let stored = try storeCall { () throws(StoreError) in
            try user.database.with { stores throws(StoreError) in try stores.wraps.wrap(user.email, month: month) }
        }
        if let stored, user.progress["wrap"]?.boolValue == true { return stored }

        var tracks = PerTimeRange<[String]>(shortTerm: [], mediumTerm: [], longTerm: [])
        var artists = PerTimeRange<[String]>(shortTerm: [], mediumTerm: [], longTerm: [])
        var genres = PerTimeRange<GenreScores>(shortTerm: .empty, mediumTerm: .empty, longTerm: .empty)
        let spotify = user.spotify
        let token = user.accessToken
        // The three ranges go out together (two requests each); the client's gate paces them.
        let results = await withTaskGroup(of: (TimeRange, Result<([SpotifyTrack], [SpotifyArtist]), SpotifyError>).self) { group in
            for range in TimeRange.allCases {
                group.addTask {
                    do throws(SpotifyError) {
                        let topTracks = try await spotify.topTracks(accessToken: token, range: range.rawValue, limit: WrappedTask.topLimit)
                        let topArtists = try await spotify.topArtists(accessToken: token, range: range.rawValue, limit: WrappedTask.topLimit)
                        return (range, .success((topTracks, topArtists)))
                    } catch {
                        return (range, .failure(error))
                    }
                }
            }
            var collected: [(TimeRange, Result<([SpotifyTrack], [SpotifyArtist]), SpotifyError>)] = []
            for await result in group { collected.append(result) }
            return collected
        }
        for (range, result) in results {
            let (topTracks, topArtists): ([SpotifyTrack], [SpotifyArtist])
            do { (topTracks, topArtists) = try result.get() } catch { throw TaskError(error) }
            tracks[range] = topTracks.map(\.id)
            artists[range] = topArtists.map(\.id)
            genres[range] = GenreScores.score(artistGenres: topArtists.map(\.genres))
        }
        var wrap = Wrap(email: user.email, month: month, topTrackIDs: tracks, topArtistIDs: artists, genres: genres,
                        createdAt: Timestamp(seconds: WallClock.epochSeconds()))
        if let stored {
            // A previous attempt stored the wrap but crashed before recording it: keep its playlists.
            for kind in WrappedPlaylist.Kind.allCases { wrap.setPlaylistID(kind, stored.playlistID(kind)) }
        }
        if user.dryRun {
            user.log.info("dry run: would store the wrap", ["user": user.email.value, "month": month.description,
                                                            "tracks": tracks.shortTerm.count, "genres": genres.shortTerm.entries.count])
            return wrap
        }
        let saved = wrap
        try storeCall { () throws(StoreError) in try user.database.with { stores throws(StoreError) in try stores.wraps.save(saved) } }
        try user.record("wrap", .bool(true))
        return wrap
    }

    /// One playlist: created once, filled, covered; each step recorded before the next.
    private func makePlaylist(_ playlist: WrappedPlaylist, wrap: inout Wrap, user: UserContext) async throws(TaskError) {
        let key = "playlist." + playlist.kind.rawValue
        var step = user.progress[key]?.objectValue ?? JSONObject()
        var recreated = false
        while true {
            var id = step["id"]?.stringValue ?? wrap.playlistID(playlist.kind)
            if id == nil, step["creating"]?.boolValue == true {
                // A previous attempt may have created it and died before recording the id: find it by name.
                id = try await findExisting(playlist, user: user)
                if let id { user.log.info("recovered a playlist created by an interrupted run", ["user": user.email.value, "playlist": id]) }
            }
            if id == nil {
                if user.dryRun {
                    user.log.info("dry run: would create a playlist", ["user": user.email.value, "name": playlist.name,
                                                                      "tracks": playlist.trackIDs.count])
                    return
                }
                step.set("creating", .bool(true))
                try user.record(key, .object(step))
                let created = try await spotifyCall { () async throws(SpotifyError) in
                    try await user.spotify.createPlaylist(accessToken: user.accessToken, name: playlist.name,
                                                          description: playlist.description, isPublic: false)
                }
                id = created.id
            }
            guard let playlistID = id else { return }
            if step["id"]?.stringValue != playlistID {
                step = JSONObject()
                step.set("id", .string(playlistID))
                try user.record(key, .object(step))
            }
            // Separately from the progress: a crash may have come between recording the id and storing it
            // with the wrap.
            if wrap.playlistID(playlist.kind) != playlistID && !user.dryRun {
                wrap.setPlaylistID(playlist.kind, playlistID)
                let saved = wrap
                try storeCall { () throws(StoreError) in try user.database.with { stores throws(StoreError) in try stores.wraps.save(saved) } }
            }
            if user.dryRun { return }
            if step["filled"]?.boolValue != true {
                do {
                    try await user.spotify.setPlaylistItems(accessToken: user.accessToken, playlistID: playlistID,
                                                            uris: playlist.trackIDs.map { "spotify:track:\($0)" })
                } catch {
                    switch error {
                    case .notFound where !recreated, .forbidden where !recreated:
                        // The user deleted it meanwhile: make a new one, once.
                        recreated = true
                        step = JSONObject()
                        wrap.setPlaylistID(playlist.kind, nil)
                        try user.record(key, .object(step))
                        continue
                    default:
                        throw TaskError(error)
                    }
                }
                step.set("filled", .bool(true))
                try user.record(key, .object(step))
            }
            if step["cover"] == nil {
                if let jpeg = covers.jpeg(playlist.cover) {
                    do {
                        try await user.spotify.uploadCover(accessToken: user.accessToken, playlistID: playlistID, jpeg: jpeg)
                        step.set("cover", .bool(true))
                    } catch {
                        if error.stopsRun { throw TaskError(error) }
                        // A cover is decoration: log it, keep the playlist, never fail the user for it.
                        user.log.warning("cover upload failed", ["user": user.email.value, "playlist": playlistID,
                                                                 "error": error.description])
                        step.set("cover", .bool(false))
                    }
                } else {
                    step.set("cover", .bool(false))
                }
                try user.record(key, .object(step))
            }
            return
        }
    }

    /// Looks through the user's playlists for one this job made (same name and description).
    private func findExisting(_ playlist: WrappedPlaylist, user: UserContext) async throws(TaskError) -> String? {
        var offset = 0
        for _ in 0..<4 {
            let page = try await spotifyCall { () async throws(SpotifyError) in
                try await user.spotify.myPlaylists(accessToken: user.accessToken, offset: offset)
            }
            if let found = page.items.first(where: { $0.name == playlist.name && ($0.description ?? "") == playlist.description }) {
                return found.id
            }
            guard page.hasNext, !page.items.isEmpty else { break }
            offset += page.items.count
        }
        return nil
    }
}

/// `xomify-wrapped`: runs the wrapped job for a month (default: the previous UTC month).
public enum WrappedJob {
    public static func run(settings: JobSettings, month: MonthKey, options: RunOptions) async -> Int32 {
        let covers = CoverImages(directory: settings.assetsDirectory, log: Logger("wrapped"))
        let runner = JobRunner(settings: settings, task: WrappedTask(month: month, covers: covers), options: options)
        return await runner.run()
    }

    /// The period of a run at `now`: the previous UTC month.
    public static func defaultMonth(now: Int64) -> MonthKey {
        MonthKey(containing: Timestamp(seconds: now).date).previous
    }
}

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

    func run(_ user: UserContext) async throws {
        var wrap = try await wrapForMonth(user)
        for playlist in WrappedPlaylist.all(for: wrap) {
            try await makePlaylist(playlist, wrap: &wrap, user: user)
        }
        if !user.dryRun {
            let email = user.email
            try await user.database.with { stores in try stores.users.touch(email) }
        }
    }

    /// The top lists of one time range.
    private struct TopLists: Sendable, Equatable {
        let tracks: [SpotifyTrack]
        let artists: [SpotifyArtist]
    }

    /// The stored wrap of a resumed run, or a new one from Spotify's top lists (6 requests), stored at once.
    private func wrapForMonth(_ user: UserContext) async throws -> Wrap {
        let (month, email) = (self.month, user.email)
        let stored = try await user.database.with { stores in try stores.wraps.wrap(email, month: month) }
        if let stored, user.progress["wrap"]?.boolValue == true { return stored }

        let lists = try await topLists(user)
        var wrap = Wrap(email: email, month: month,
                        topTrackIDs: PerTimeRange { lists[$0].tracks.map(\.id) },
                        topArtistIDs: PerTimeRange { lists[$0].artists.map(\.id) },
                        genres: PerTimeRange { GenreScores.score(artistGenres: lists[$0].artists.map(\.genres)) },
                        createdAt: Timestamp(seconds: WallClock.epochSeconds()))
        if let stored {
            // A previous attempt stored the wrap but crashed before recording it: keep its playlists.
            for kind in WrappedPlaylist.Kind.allCases { wrap.setPlaylistID(kind, stored.playlistID(kind)) }
        }
        if user.dryRun {
            user.log.info("dry run: would store the wrap", ["user": email.value, "month": month.description,
                                                            "tracks": wrap.topTrackIDs.shortTerm.count,
                                                            "genres": wrap.genres.shortTerm.entries.count])
            return wrap
        }
        let saved = wrap
        let artists = TimeRange.allCases.flatMap { lists[$0].artists.map { NameStore.Named(id: $0.id, name: $0.name) } }
        let tracks = TimeRange.allCases.flatMap { lists[$0].tracks.map { NameStore.Named(id: $0.id, name: $0.name) } }
        try await user.database.with { stores in
            try stores.wraps.save(saved)
            // The names came with the top lists: kept for the psql reports at no extra request.
            try stores.names.remember(artists: artists, tracks: tracks)
        }
        try await user.record("wrap", .bool(true))
        return wrap
    }

    /// The three ranges' top tracks and artists; the requests go out together and the client's gate paces them.
    private func topLists(_ user: UserContext) async throws -> PerTimeRange<TopLists> {
        let (spotify, token) = (user.spotify, user.accessToken)
        let results = await withTaskGroup(of: (TimeRange, Result<TopLists, SpotifyError>).self) { group in
            for range in TimeRange.allCases {
                group.addTask {
                    do throws(SpotifyError) {
                        let tracks = try await spotify.topTracks(accessToken: token, range: range.rawValue, limit: WrappedTask.topLimit)
                        let artists = try await spotify.topArtists(accessToken: token, range: range.rawValue, limit: WrappedTask.topLimit)
                        return (range, .success(TopLists(tracks: tracks, artists: artists)))
                    } catch {
                        return (range, .failure(error))
                    }
                }
            }
            var collected: [TimeRange: Result<TopLists, SpotifyError>] = [:]
            for await (range, result) in group { collected[range] = result }
            return collected
        }
        var lists = PerTimeRange { _ in TopLists(tracks: [], artists: []) }
        for range in TimeRange.allCases {
            guard let result = results[range] else { continue }
            lists[range] = try result.get()
        }
        return lists
    }

    /// One playlist: created once, filled, covered; each step recorded before the next.
    private func makePlaylist(_ playlist: WrappedPlaylist, wrap: inout Wrap, user: UserContext) async throws {
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
                try await user.record(key, .object(step))
                id = try await user.spotify.createPlaylist(accessToken: user.accessToken, name: playlist.name,
                                                           description: playlist.description, isPublic: true).id
            }
            guard let playlistID = id else { return }
            if step["id"]?.stringValue != playlistID {
                step = JSONObject()
                step.set("id", .string(playlistID))
                try await user.record(key, .object(step))
            }
            // Separately from the progress: a crash may have come between recording the id and storing it
            // with the wrap.
            if wrap.playlistID(playlist.kind) != playlistID && !user.dryRun {
                wrap.setPlaylistID(playlist.kind, playlistID)
                let saved = wrap
                try await user.database.with { stores in try stores.wraps.save(saved) }
            }
            if user.dryRun { return }
            if step["filled"]?.boolValue != true {
                do {
                    try await user.spotify.setPlaylistItems(accessToken: user.accessToken, playlistID: playlistID,
                                                            uris: playlist.trackIDs.map { "spotify:track:\($0)" })
                } catch {
                    guard !recreated, error.meansPlaylistGone else { throw error }
                    // The user deleted it meanwhile: make a new one, once.
                    recreated = true
                    step = JSONObject()
                    wrap.setPlaylistID(playlist.kind, nil)
                    try await user.record(key, .object(step))
                    continue
                }
                step.set("filled", .bool(true))
                try await user.record(key, .object(step))
            }
            if step["cover"] == nil {
                step.set("cover", .bool(try await uploadCover(playlist, playlistID: playlistID, user: user)))
                try await user.record(key, .object(step))
            }
            return
        }
    }

    /// Uploads the playlist's cover; a cover is decoration, so a failure is logged and never fails the user
    /// (unless it is one that stops the whole run).
    private func uploadCover(_ playlist: WrappedPlaylist, playlistID: String, user: UserContext) async throws -> Bool {
        guard let jpeg = covers.jpeg(playlist.cover) else { return false }
        do {
            try await user.spotify.uploadCover(accessToken: user.accessToken, playlistID: playlistID, jpeg: jpeg)
            return true
        } catch {
            if error.stopsRun { throw error }
            user.log.warning("cover upload failed", ["user": user.email.value, "playlist": playlistID,
                                                     "error": error.description])
            return false
        }
    }

    /// Looks through the user's playlists for one this job made (same name and description).
    private func findExisting(_ playlist: WrappedPlaylist, user: UserContext) async throws -> String? {
        var offset = 0
        for _ in 0..<4 {
            let page = try await user.spotify.myPlaylists(accessToken: user.accessToken, offset: offset)
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
    public static func run(settings: JobSettings, month: MonthKey, options: RunOptions) async -> ExitStatus {
        let covers = CoverImages(directory: settings.assetsDirectory, log: Logger("wrapped"))
        return await JobRunner(settings: settings, job: .wrapped, period: month.description, options: options) { _ in
            WrappedTask(month: month, covers: covers)
        }.run()
    }

    /// The period of a run at `now`: the previous UTC month.
    public static func defaultMonth(now: Int64) -> MonthKey {
        MonthKey(containing: Timestamp(seconds: now).date).previous
    }
}

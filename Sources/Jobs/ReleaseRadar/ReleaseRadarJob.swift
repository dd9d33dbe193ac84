import JSON
import Log
import Model
import Platform
import Spotify
import Store

/// The weekly release radar (SPEC §8.2) for one user: their followed artists (recorded, so a resumed run does
/// not ask again), the week's releases of those artists from the shared catalogue (`SharedCatalogue`), the
/// playlist written (`RadarPlaylist`), then the week's history row, even for an empty week.
struct ReleaseRadarTask: UserTask {
    let job = JobStore.Job.releaseRadar
    let week: ReleaseWeek
    let catalogue: SharedCatalogue
    /// For users without their own setting.
    let appearsOnByDefault: Bool
    var period: String { week.key }

    func run(_ user: UserContext) async throws {
        let email = user.email
        let settings = try await user.database.with { stores in try stores.users.releaseRadarSettings(email) }
        let appearsOn = settings.appearsOn ?? appearsOnByDefault
        let follows = try await followedArtists(user)
        let scopes: [CatalogueStore.Scope] = appearsOn ? [.own, .features] : [.own]
        let wanted = follows.flatMap { artist in scopes.map { SharedCatalogue.ScanKey(artistID: artist.id, scope: $0) } }
        let scans = try await catalogue.scans(wanted, accessToken: user.accessToken)
        let albumIDs = Set(scans.values.flatMap { $0.releases.map(\.albumID) })
        let tracks = try await catalogue.tracks(Array(albumIDs), accessToken: user.accessToken)
        let contents = WeekContents.make(follows: follows, scans: scans, tracks: tracks, appearsOn: appearsOn)
        if user.dryRun {
            user.log.info("dry run: would write the week", ["user": email.value, "week": week.key,
                                                            "releases": contents.stats.releaseCount,
                                                            "tracks": contents.stats.trackCount])
            return
        }
        let playlistID = try await RadarPlaylist(user: user, storedID: settings.playlistID).write(contents.uris)
        let row = RadarWeek(email: email, week: week, releases: contents.releases, stats: contents.stats,
                            playlistID: playlistID, createdAt: Timestamp(seconds: WallClock.epochSeconds()))
        try await user.database.with { stores in
            try stores.weeks.save(row)
            try stores.users.touch(email)
        }
    }

    /// Every followed artist (all cursor pages), recorded before anything else uses them.
    private func followedArtists(_ user: UserContext) async throws -> [ArtistName] {
        if let recorded = user.progress["follows"]?.arrayValue {
            return recorded.compactMap { item in item["id"].stringValue.map { ArtistName(id: $0, name: item["name"].stringValue ?? "") } }
        }
        let follows = try await user.spotify.followedArtists(accessToken: user.accessToken).map {
            ArtistName(id: $0.id, name: $0.name)
        }
        try await user.record("follows", .array(follows.map { artist in
            var object = JSONObject()
            object.append("id", .string(artist.id))
            object.append("name", .string(artist.name))
            return .object(object)
        }))
        return follows
    }
}

/// `xomify-release-radar`: runs the weekly release radar for a week (default: the last complete one).
public enum ReleaseRadarJob {
    public static func run(settings: JobSettings, week: ReleaseWeek, options: RunOptions) async -> ExitStatus {
        await JobRunner(settings: settings, job: .releaseRadar, period: week.key, options: options) { context in
            let catalogue = SharedCatalogue(week: week, spotify: context.spotify, database: context.database,
                                            run: context.run, leaseSeconds: settings.leaseSeconds)
            return ReleaseRadarTask(week: week, catalogue: catalogue, appearsOnByDefault: settings.releaseRadarAppearsOn)
        }.run()
    }

    /// The period of a run on `date`: the most recent complete Saturday–Friday week.
    public static func defaultWeek(now: Int64) -> ReleaseWeek {
        ReleaseWeek.lastComplete(before: Timestamp(seconds: now).date)
    }
}

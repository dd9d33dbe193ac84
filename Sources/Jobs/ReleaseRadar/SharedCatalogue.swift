import JSON
import Log
import Model
import Platform
import Spotify
import Store
import Synchronization

/// The week's catalogue as the users of a run need it, fetched from Spotify at most once for all users and all
/// runners (SPEC §8.2, §12): read from the cache in PostgreSQL first; what is missing is fetched by the one task
/// of this process that asks first (`InFlight`), and only after this runner has claimed it in the database; a
/// fetch another runner has claimed is waited for in the cache. Results go to the cache as soon as they come; a
/// fetch of several requests cut short keeps the pages it got, and the next claimant goes on from them.
/// A dry run writes nothing: it claims nothing and keeps what it fetched in memory.
final class SharedCatalogue: Sendable {
    private let week: ReleaseWeek
    private let scanner: ArtistScanner
    private let albumFetch: AlbumTracksFetch
    private let spotify: SpotifyClient
    private let database: JobDatabase
    private let run: JobStore.Run?
    private let leaseSeconds: Int
    private let scans = InFlight<ScanKey, CatalogueStore.ArtistScan>()
    private let albums = InFlight<String, [CatalogueTrack]>()
    /// A dry run's fetches (it writes no cache).
    private let dryRunScans = Mutex<[ScanKey: CatalogueStore.ArtistScan]>([:])
    private let dryRunTracks = Mutex<[String: [CatalogueTrack]]>([:])

    struct ScanKey: Hashable, Sendable {
        let artistID: String
        let scope: CatalogueStore.Scope
    }

    /// Raised when another runner held a fetch for longer than its lease allows (it is stuck or gone).
    struct WaitedTooLong: Error, CustomStringConvertible {
        let what: String
        var description: String { "waited too long for another runner to fetch \(what)" }
    }

    init(week: ReleaseWeek, spotify: SpotifyClient, database: JobDatabase, run: JobStore.Run?, leaseSeconds: Int) {
        self.week = week
        self.spotify = spotify
        self.database = database
        self.run = run
        self.leaseSeconds = leaseSeconds
        scanner = ArtistScanner(spotify: spotify, week: week)
        albumFetch = AlbumTracksFetch(spotify: spotify)
    }

    private var isDryRun: Bool { run == nil }

    // MARK: Artists

    /// The week's scans of these artists in these scopes, by artist and scope.
    func scans(_ wanted: [ScanKey], accessToken: String) async throws -> [ScanKey: CatalogueStore.ArtistScan] {
        var found = try await cachedScans(Array(Set(wanted.map(\.artistID))))
        let missing = Array(Set(wanted).subtracting(found.keys))
        let fetched = try await withThrowingTaskGroup(of: CatalogueStore.ArtistScan.self) { group in
            for key in missing {
                group.addTask { try await self.scans.run(key) { try await self.fetch(key, accessToken: accessToken) } }
            }
            var fetched: [CatalogueStore.ArtistScan] = []
            for try await scan in group { fetched.append(scan) }
            return fetched
        }
        for scan in fetched { found[ScanKey(artistID: scan.artistID, scope: scan.scope)] = scan }
        return found
    }

    private func cachedScans(_ artists: [String]) async throws -> [ScanKey: CatalogueStore.ArtistScan] {
        var found: [ScanKey: CatalogueStore.ArtistScan] = [:]
        if isDryRun {
            let known = dryRunScans.withLock { $0 }
            for (key, scan) in known where artists.contains(key.artistID) { found[key] = scan }
        }
        let week = self.week.key
        for scan in try await database.with({ stores in try stores.catalogue.scans(week: week, artists: artists) }) {
            found[ScanKey(artistID: scan.artistID, scope: scan.scope)] = scan
        }
        return found
    }

    private func fetch(_ key: ScanKey, accessToken: String) async throws -> CatalogueStore.ArtistScan {
        let claim = CatalogueStore.Fetch.artist(key.artistID, key.scope, week: week.key)
        return try await fetchOnce(claim, "artist \(key.artistID) (\(key.scope.rawValue))") {
            try await self.cachedScans([key.artistID])[key]
        } fetch: { earlier in
            let scan = try await self.scanner.scan(key.artistID, scope: key.scope, accessToken: accessToken,
                                                   earlier: ListingPage.pages(from: earlier)) { pages in
                await self.keep(claim, ListingPage.json(pages))
            }
            try await self.store(scan, resumed: earlier != nil)
            return scan
        }
    }

    private func store(_ scan: CatalogueStore.ArtistScan, resumed: Bool) async throws {
        if isDryRun {
            dryRunScans.withLock { $0[ScanKey(artistID: scan.artistID, scope: scan.scope)] = scan }
            return
        }
        let (week, run) = (self.week.key, self.run)
        try await database.with { stores in try stores.catalogue.save(scan, week: week, run: run, resumed: resumed) }
    }

    // MARK: Releases

    /// The tracks of these releases, by release id.
    func tracks(_ albumIDs: [String], accessToken: String) async throws -> [String: [CatalogueTrack]] {
        var found = try await cachedTracks(albumIDs)
        let missing = Array(Set(albumIDs).subtracting(found.keys))
        let fetched = try await withThrowingTaskGroup(of: (String, [CatalogueTrack]).self) { group in
            for id in missing {
                group.addTask { (id, try await self.albums.run(id) { try await self.fetchTracks(id, accessToken: accessToken) }) }
            }
            var fetched: [(String, [CatalogueTrack])] = []
            for try await entry in group { fetched.append(entry) }
            return fetched
        }
        for (id, tracks) in fetched { found[id] = tracks }
        return found
    }

    private func cachedTracks(_ albumIDs: [String]) async throws -> [String: [CatalogueTrack]] {
        var found = isDryRun ? dryRunTracks.withLock { $0 }.filter { albumIDs.contains($0.key) } : [:]
        for (id, tracks) in try await database.with({ stores in try stores.catalogue.tracks(albums: albumIDs) }) {
            found[id] = tracks
        }
        return found
    }

    private func fetchTracks(_ albumID: String, accessToken: String) async throws -> [CatalogueTrack] {
        try await fetchOnce(.album(albumID), "release \(albumID)") {
            try await self.cachedTracks([albumID])[albumID]
        } fetch: { earlier in
            let tracks = try await self.albumFetch.tracks(albumID, accessToken: accessToken, earlier: earlier) { json in
                await self.keep(.album(albumID), json)
            }
            if self.isDryRun {
                self.dryRunTracks.withLock { $0[albumID] = tracks }
            } else {
                let (run, resumed) = (self.run, earlier != nil)
                try await self.database.with { stores in
                    try stores.catalogue.save(tracks: tracks, album: albumID, run: run, resumed: resumed)
                }
            }
            return tracks
        }
    }

    // MARK: Claims

    /// Fetches what `claim` names once for all runners: this runner fetches it when it holds the claim (going on
    /// from what an interrupted fetch kept, handed to `fetch`); while another does, the cache is polled until the
    /// answer is there (or the other's lease ran out, and the claim can be taken over). Bounded: after twice the
    /// lease the user's work is left for a later run.
    private func fetchOnce<T: Sendable>(_ claim: CatalogueStore.Fetch, _ what: String,
                                        cached: @Sendable () async throws -> T?,
                                        fetch: @Sendable (_ earlier: JSON?) async throws -> T) async throws -> T {
        guard let run else { return try await fetch(nil) }
        let deadline = Deadline(after: Double(leaseSeconds) * 2)
        let lease = leaseSeconds
        while true {
            if let known = try await cached() { return known }
            let held = try await database.with { stores in try stores.catalogue.claim(claim, run: run, leaseSeconds: lease) }
            if case .mine(let earlier) = held {
                // Someone may have stored it between the read above and the claim.
                if let known = try await cached() { return known }
                return try await fetch(earlier)
            }
            guard !deadline.hasPassed else { throw WaitedTooLong(what: what) }
            try? await Task.sleep(nanoseconds: 200_000_000)
        }
    }

    /// Keeps the pages of a fetch cut short, for whichever run claims it next (a dry run keeps nothing). Best
    /// effort: losing them costs those requests again, nothing else.
    private func keep(_ fetch: CatalogueStore.Fetch, _ json: String) async {
        guard !isDryRun else { return }
        do {
            try await database.with { stores in try stores.catalogue.keepPartial(fetch, receivedJSON: json) }
        } catch {
            Logger("release_radar").warning("cannot keep the pages of an interrupted fetch", ["error": "\(error)"])
        }
    }
}

import Model
import Spotify
import Store

/// Finds an artist's releases dated in a week with the fewest requests that cannot miss one (SPEC §8.2, §12).
///
/// An artist's listing (`GET /v1/artists/{id}/albums`, at most 10 a page) comes grouped (album, single,
/// appears_on, compilation), each group newest first. For the artist's own releases one combined
/// `include_groups=album,single` call is enough when its page holds a single: every album came before it, and
/// the singles follow newest first, so paging on stops as soon as a date falls before the week. A page of
/// albums only proves nothing about the singles hidden behind them (an artist with ten or more albums): then
/// the albums page on by themselves only while they still reach into the week, and the singles are listed
/// separately. Releases an artist appears on and compilations are scanned the same way, as a second scope.
/// Groups are told apart without the deprecated `album_group` (Spotify may leave it out): a release the artist
/// is not credited on is one they appear on, and otherwise its `album_type` says which group it is.
struct ArtistScanner: Sendable {
    let spotify: SpotifyClient
    let week: ReleaseWeek

    static let pageSize = 10
    /// A listing longer than this many pages newer than the week is not believed (a runaway loop guard).
    static let maximumPages = 50

    /// Scans an artist. `earlier` are pages an interrupted scan of the same artist, scope and week received (they
    /// are not asked for again); when this scan is cut short after receiving a page, `keep` gets every page so far
    /// before the error goes on.
    func scan(_ artistID: String, scope: CatalogueStore.Scope, accessToken: String, earlier: [ListingPage] = [],
              keep: @Sendable ([ListingPage]) async -> Void = { _ in })
        async throws(SpotifyError) -> CatalogueStore.ArtistScan {
        var received = Received(pages: earlier)
        do throws(SpotifyError) {
            let releases = try await scan(artistID, scope: scope, accessToken: accessToken, &received)
            return CatalogueStore.ArtistScan(artistID: artistID, scope: scope, releases: releases,
                                             requests: received.pages.count)
        } catch {
            if received.fresh > 0 { await keep(received.pages) }
            throw error
        }
    }

    private func scan(_ artistID: String, scope: CatalogueStore.Scope, accessToken: String,
                      _ received: inout Received) async throws(SpotifyError) -> [CatalogueRelease] {
        let (first, second): (CatalogueRelease.Group, CatalogueRelease.Group) =
            scope == .own ? (.album, .single) : (.appearsOn, .compilation)
        var found: [CatalogueRelease] = []
        let page = try await listing(artistID, [first, second], offset: 0, accessToken, &received)
        found += page.inWeek
        if page.hasNext {
            if page.seen.contains(second) {
                // Every item of the first group was on this page; the second group goes on, newest first.
                found += try await rest(artistID, [first, second], after: page, accessToken, &received)
            } else {
                // The first group filled the page: page it on while it reaches into the week, and list the
                // second group by itself.
                found += try await rest(artistID, [first], after: page, accessToken, &received)
                let other = try await listing(artistID, [second], offset: 0, accessToken, &received)
                found += other.inWeek
                found += try await rest(artistID, [second], after: other, accessToken, &received)
            }
        }
        return found
    }

    /// The pages a scan has: those an interrupted scan kept, and those received since.
    private struct Received {
        var pages: [ListingPage]
        /// How many of `pages` this scan asked for itself.
        var fresh = 0

        func page(_ groups: [CatalogueRelease.Group], offset: Int) -> ListingPage? {
            pages.first { $0.groups == groups && $0.offset == offset }
        }
    }

    /// The following pages, as long as the previous one still reached into the week (or later).
    private func rest(_ artistID: String, _ groups: [CatalogueRelease.Group], after first: ListingPage,
                      _ accessToken: String,
                      _ received: inout Received) async throws(SpotifyError) -> [CatalogueRelease] {
        var found: [CatalogueRelease] = []
        var page = first
        while page.hasNext, page.count > 0, let oldest = page.oldest, oldest >= week.start,
              received.pages.count < ArtistScanner.maximumPages {
            page = try await listing(artistID, groups, offset: page.offset + page.count, accessToken, &received)
            found += page.inWeek
        }
        return found
    }

    private func listing(_ artistID: String, _ groups: [CatalogueRelease.Group], offset: Int, _ accessToken: String,
                         _ received: inout Received) async throws(SpotifyError) -> ListingPage {
        if let kept = received.page(groups, offset: offset) { return kept }
        let page = try await spotify.artistAlbums(accessToken: accessToken, artistID: artistID,
                                                  groups: groups.map(\.rawValue), limit: ArtistScanner.pageSize,
                                                  offset: offset)
        var seen = Set<CatalogueRelease.Group>()
        var inWeek: [CatalogueRelease] = []
        for album in page.items {
            let release = ArtistScanner.release(album, listedFor: artistID)
            seen.insert(release.group)
            if let day = release.countedDay, day >= week.start, day <= week.end { inWeek.append(release) }
        }
        let listed = ListingPage(groups: groups, offset: offset, count: page.items.count, hasNext: page.hasNext,
                                 seen: seen, inWeek: inWeek, oldestDate: page.items.last?.releaseDate)
        received.pages.append(listed)
        received.fresh += 1
        return listed
    }

    /// A listing item as the cache keeps it, its group told apart without `album_group`.
    static func release(_ album: SpotifyAlbum, listedFor artistID: String) -> CatalogueRelease {
        let credited = album.artists.contains { $0.id == artistID }
        let group: CatalogueRelease.Group
        switch (credited, album.albumType) {
        case (false, _): group = .appearsOn
        case (true, "single"): group = .single
        case (true, "compilation"): group = .compilation
        default: group = .album
        }
        return CatalogueRelease(albumID: album.id, name: album.name, albumType: album.albumType, group: group,
                                artists: album.artists.map { ArtistName(id: $0.id, name: $0.name) },
                                releaseDate: album.releaseDate, releaseDatePrecision: album.releaseDatePrecision,
                                totalTracks: album.totalTracks, imageURL: album.imageURL, spotifyURL: album.spotifyURL,
                                uri: album.uri)
    }

    /// The day a listing sorts a release on (newest first): its day, the 1st of its month, or Jan 1st of its
    /// year. Used only to know when paging has gone past the week.
    static func sortDay(_ releaseDate: String) -> CivilDate? {
        let parts = releaseDate.split(separator: "-")
        guard let year = parts.first.flatMap({ Int($0) }) else { return nil }
        let month = parts.count > 1 ? Int(parts[1]) ?? 1 : 1
        let day = parts.count > 2 ? Int(parts[2]) ?? 1 : 1
        return CivilDate(year: year, month: month, day: day)
    }
}

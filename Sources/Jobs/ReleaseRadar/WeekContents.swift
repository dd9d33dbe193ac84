import Model
import Store
import Text

/// What one user's release radar holds for a week (SPEC §8.2), worked out from the shared catalogue alone, so
/// that the answer never depends on which runner scanned an artist: the releases of the week (newest first),
/// the playlist's track uris, and the stats.
struct WeekContents: Sendable, Equatable {
    var releases: [Release]
    var uris: [String]
    var stats: WeekStats

    /// A release of the week as a user reaches it.
    private struct Candidate {
        var release: CatalogueRelease
        /// Reached as a release of a followed artist (album or single), not only as one they appear on.
        var own: Bool
        var foundThrough: ArtistName
    }

    /// - Parameters:
    ///   - follows: the user's followed artists, in the order Spotify lists them.
    ///   - scans: the week's scans of those artists (`own` for all; `features` too when `appearsOn`).
    ///   - tracks: the tracks of every release the scans found in the week.
    static func make(follows: [ArtistName], scans: [SharedCatalogue.ScanKey: CatalogueStore.ArtistScan],
                     tracks: [String: [CatalogueTrack]], appearsOn: Bool) -> WeekContents {
        let followed = Set(follows.map(\.id))
        let names = Dictionary(follows.map { ($0.id, $0.name) }, uniquingKeysWith: { first, _ in first })

        // Each release once, however many followed artists reach it.
        var candidates: [String: Candidate] = [:]
        var order: [String] = []
        func consider(_ release: CatalogueRelease, own: Bool, through artist: String) {
            if var known = candidates[release.albumID] {
                if own && !known.own {
                    known.own = true
                    known.foundThrough = foundThrough(release, own: true, followed: followed, names: names, tracks: tracks,
                                                      fallback: artist)
                    candidates[release.albumID] = known
                }
                return
            }
            order.append(release.albumID)
            candidates[release.albumID] = Candidate(
                release: release, own: own,
                foundThrough: foundThrough(release, own: own, followed: followed, names: names, tracks: tracks, fallback: artist))
        }
        for artist in follows {
            for release in scans[.init(artistID: artist.id, scope: .own)]?.releases ?? [] {
                consider(release, own: true, through: artist.id)
            }
            guard appearsOn else { continue }
            for release in scans[.init(artistID: artist.id, scope: .features)]?.releases ?? [] {
                consider(release, own: false, through: artist.id)
            }
        }

        // Newest first, as Spotify lists them: by the date's text (a day before a month that starts on it); on one
        // date albums, then singles, then compilations (Spotify's group order), then by id, so the order is the
        // same whatever order the artists were scanned in.
        let ranked = order.compactMap { candidates[$0] }.sorted { lhs, rhs in
            let (a, b) = (lhs.release, rhs.release)
            if a.releaseDate != b.releaseDate { return a.releaseDate > b.releaseDate }
            if typeRank(a.albumType) != typeRank(b.albumType) { return typeRank(a.albumType) < typeRank(b.albumType) }
            return a.albumID < b.albumID
        }

        // The tracks each release brings: all of an own release; of a release a followed artist only appears on
        // (or a compilation), the tracks credited to a followed artist.
        var picked: [(release: Candidate, track: CatalogueTrack)] = []
        for candidate in ranked {
            for track in tracks[candidate.release.albumID] ?? [] {
                if candidate.own || track.artistIDs.contains(where: followed.contains) { picked.append((candidate, track)) }
            }
        }
        let kept = dedupe(picked)

        let releases = ranked.map { candidate -> Release in
            let release = candidate.release
            return Release(albumID: release.albumID, albumName: release.name, albumType: release.albumType,
                           artistID: candidate.foundThrough.id, artistName: candidate.foundThrough.name,
                           releaseDate: release.releaseDate, totalTracks: release.totalTracks,
                           imageURL: release.imageURL, spotifyURL: release.spotifyURL, uri: release.uri)
        }
        let stats = WeekStats(artistCount: Set(ranked.map(\.foundThrough.id)).count, releaseCount: releases.count,
                              trackCount: kept.count,
                              albumCount: releases.filter { $0.albumType != "single" }.count,
                              singleCount: releases.filter { $0.albumType == "single" }.count)
        return WeekContents(releases: releases, uris: kept.map(\.uri), stats: stats)
    }

    /// The followed artist a release was found through: the first of its artists the user follows; for a release
    /// they only appear on, the first followed artist credited on its tracks.
    private static func foundThrough(_ release: CatalogueRelease, own: Bool, followed: Set<String>,
                                     names: [String: String], tracks: [String: [CatalogueTrack]],
                                     fallback: String) -> ArtistName {
        if let artist = release.artists.first(where: { followed.contains($0.id) }) { return artist }
        let credited = (tracks[release.albumID] ?? []).lazy.flatMap(\.artistIDs).first(where: followed.contains)
        let id = credited ?? fallback
        return ArtistName(id: id, name: names[id] ?? "")
    }

    private static func typeRank(_ albumType: String) -> Int {
        switch albumType {
        case "album": return 0
        case "single": return 1
        default: return 2
        }
    }

    /// Each track uri once, and the same recording released as a single and on an album once: the album's
    /// (same normalised title, same primary artist, durations within 2 s).
    private static func dedupe(_ picked: [(release: Candidate, track: CatalogueTrack)]) -> [CatalogueTrack] {
        let onAlbums = picked.filter { $0.release.release.albumType != "single" }.map(\.track)
        var seen = Set<String>()
        var kept: [CatalogueTrack] = []
        for (candidate, track) in picked where seen.insert(track.uri).inserted {
            if candidate.release.albumType == "single",
               onAlbums.contains(where: { sameRecording($0, track) }) { continue }
            kept.append(track)
        }
        return kept
    }

    static func sameRecording(_ a: CatalogueTrack, _ b: CatalogueTrack) -> Bool {
        a.artistIDs.first == b.artistIDs.first && abs(a.durationMs - b.durationMs) <= 2000
            && normalisedTitle(a.name) == normalisedTitle(b.name)
    }

    /// Case-folded and trimmed, without one trailing parenthesised or bracketed part (its opening bracket matched
    /// with nesting) that starts with `feat.`, `ft.` or `with` and a space: "Song (feat. X)" and "Song [with Y]"
    /// are "song", "Without You (Without Me)" stays as it is.
    static func normalisedTitle(_ title: String) -> String {
        let text = Array(caseFolded(title).trimmed())
        guard let closing = text.last, closing == ")" || closing == "]" else { return String(text) }
        let opening: Character = closing == ")" ? "(" : "["
        var depth = 0
        for index in text.indices.reversed() {
            if text[index] == closing { depth += 1 }
            if text[index] == opening {
                depth -= 1
                guard depth == 0 else { continue }
                let inner = String(text[(index + 1)...]).drop(while: { $0.unicodeScalars.allSatisfy(\.properties.isWhitespace) })
                let feature = inner.hasPrefix("feat.") || inner.hasPrefix("ft.")
                    || (inner.hasPrefix("with") && inner.dropFirst(4).first.map { $0.isWhitespace } == true)
                return feature ? String(text[..<index]).trimmed() : String(text)
            }
        }
        return String(text)
    }

    /// Unicode case folding as far as titles need it: lower-casing, plus the full foldings lower-casing leaves out
    /// (ß and ẞ to ss, final ς to σ, the Latin ligatures).
    static func caseFolded(_ text: String) -> String {
        var out = ""
        for scalar in text.lowercased().unicodeScalars {
            switch scalar {
            case "\u{DF}", "\u{1E9E}": out += "ss"
            case "\u{3C2}": out += "\u{3C3}"
            case "\u{FB00}": out += "ff"
            case "\u{FB01}": out += "fi"
            case "\u{FB02}": out += "fl"
            case "\u{FB03}": out += "ffi"
            case "\u{FB04}": out += "ffl"
            case "\u{FB05}", "\u{FB06}": out += "st"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}

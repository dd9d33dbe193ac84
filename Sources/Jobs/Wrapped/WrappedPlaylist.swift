import Model

/// A playlist the wrapped job makes for a month (SPEC §8.1): the monthly one, plus the first-half one in June
/// and the year one in December. Names and descriptions are the original system's, with the period's month and
/// year; all of them are public, as the original system made them.
struct WrappedPlaylist: Sendable, Equatable {
    enum Kind: String, Sendable, CaseIterable {
        case monthly
        case firstHalf
        case year
    }

    let kind: Kind
    let name: String
    let description: String
    let trackIDs: [String]
    let cover: CoverImages.Kind

    static func all(for wrap: Wrap) -> [WrappedPlaylist] {
        let month = wrap.month
        var playlists = [WrappedPlaylist(kind: .monthly, name: "Xomify \(month.monthName)'\(month.shortYear)",
                                         description: "Your Top 25 songs for \(month.monthName) - Created by xomify.com",
                                         trackIDs: wrap.topTrackIDs.shortTerm, cover: .month(month.month))]
        if month.month == 6 {
            playlists.append(WrappedPlaylist(kind: .firstHalf, name: "Xomify First Half '\(month.shortYear)",
                                             description: "Your Top 25 songs for the First 6 months of '\(month.shortYear) - Created by xomify.com",
                                             trackIDs: wrap.topTrackIDs.mediumTerm, cover: .firstHalf))
        }
        if month.month == 12 {
            playlists.append(WrappedPlaylist(kind: .year, name: "Xomify 20\(month.shortYear)",
                                             description: "Your Top 25 songs for 20\(month.shortYear) - Created by xomify.com",
                                             trackIDs: wrap.topTrackIDs.longTerm, cover: .year))
        }
        return playlists
    }
}

extension Wrap {
    func playlistID(_ kind: WrappedPlaylist.Kind) -> String? {
        switch kind {
        case .monthly: return playlistID
        case .firstHalf: return firstHalfPlaylistID
        case .year: return yearPlaylistID
        }
    }

    mutating func setPlaylistID(_ kind: WrappedPlaylist.Kind, _ id: String?) {
        switch kind {
        case .monthly: playlistID = id
        case .firstHalf: firstHalfPlaylistID = id
        case .year: yearPlaylistID = id
        }
    }
}

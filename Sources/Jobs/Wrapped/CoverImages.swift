import Log
import Platform
import Text

/// The playlist covers shipped in `assets/covers/`: one JPEG per month, and the half-year and full-year ones.
struct CoverImages: Sendable {
    enum Kind: Sendable, Hashable {
        case month(Int)
        case firstHalf
        case year

        var fileName: String {
            switch self {
            case .month(let month): return "month-\(ZeroPadding.pad(month, 2)).jpg"
            case .firstHalf: return "first-half.jpg"
            case .year: return "year.jpg"
            }
        }
    }

    private let images: [Kind: [UInt8]]

    /// Loads what exists; a missing cover is logged once and the playlist goes without one.
    init(directory: String, log: Logger) {
        var images: [Kind: [UInt8]] = [:]
        let kinds: [Kind] = (1...12).map { .month($0) } + [.firstHalf, .year]
        var missing: [String] = []
        for kind in kinds {
            if let bytes = try? Files.read("\(directory)/covers/\(kind.fileName)", limit: 190_000) {
                images[kind] = bytes
            } else {
                missing.append(kind.fileName)
            }
        }
        if !missing.isEmpty {
            log.warning("playlist covers missing or too large; those playlists get none",
                        ["directory": "\(directory)/covers", "files": missing.joined(separator: ",")])
        }
        self.images = images
    }

    func jpeg(_ kind: Kind) -> [UInt8]? { images[kind] }
}

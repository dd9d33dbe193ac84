import JSON
import Model

/// One page of an artist's album listing as a scan uses it (`ArtistScanner`): where it sits in which listing,
/// whether more follow, which groups it showed, its releases dated in the week and the date of its last item.
/// Pages of a scan cut short are kept in the database in this JSON form, so the next run goes on from them.
struct ListingPage: Sendable, Equatable {
    /// The groups the listing was asked for, in Spotify's order.
    let groups: [CatalogueRelease.Group]
    let offset: Int
    let count: Int
    let hasNext: Bool
    /// The groups its items belong to.
    let seen: Set<CatalogueRelease.Group>
    let inWeek: [CatalogueRelease]
    /// The release date of its last (oldest) item, as Spotify wrote it; nil when it had none.
    let oldestDate: String?

    /// The day the page's last item sorts on.
    var oldest: CivilDate? { oldestDate.flatMap(ArtistScanner.sortDay) }
}

/// The JSON form of kept pages. (In an extension, so that the struct keeps its memberwise initialiser.)
extension ListingPage {
    func write(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.key("groups"); writer.stringArray(groups.map(\.rawValue))
        writer.key("offset"); writer.int(offset)
        writer.key("count"); writer.int(count)
        writer.key("next"); writer.bool(hasNext)
        writer.key("seen"); writer.stringArray(seen.map(\.rawValue).sorted())
        writer.key("inWeek")
        writer.beginArray()
        for release in inWeek { release.write(to: &writer) }
        writer.endArray()
        writer.key("oldest"); writer.optionalString(oldestDate)
        writer.endObject()
    }

    init?(json: JSON) {
        guard let groups = json["groups"].arrayValue, let offset = json["offset"].intValue,
              let count = json["count"].intValue, let hasNext = json["next"].boolValue,
              let seen = json["seen"].arrayValue, let inWeek = json["inWeek"].arrayValue else { return nil }
        let asked = groups.compactMap { $0.stringValue.flatMap(CatalogueRelease.Group.init(rawValue:)) }
        let shown = seen.compactMap { $0.stringValue.flatMap(CatalogueRelease.Group.init(rawValue:)) }
        let releases = inWeek.compactMap(CatalogueRelease.init(json:))
        // A page that lost anything in the round trip is not trusted: the scan asks for it again.
        guard asked.count == groups.count, shown.count == seen.count, releases.count == inWeek.count else { return nil }
        self.init(groups: asked, offset: offset, count: count, hasNext: hasNext, seen: Set(shown), inWeek: releases,
                  oldestDate: json["oldest"].stringValue)
    }

    /// The pages of a scan as kept in the database: `{"pages": [...]}`.
    static func json(_ pages: [ListingPage]) -> String {
        var writer = JSONWriter(capacity: 256 + 1024 * pages.count)
        writer.beginObject()
        writer.key("pages")
        writer.beginArray()
        for page in pages { page.write(to: &writer) }
        writer.endArray()
        writer.endObject()
        return String(decoding: writer.bytes, as: UTF8.self)
    }

    /// The pages kept for a scan; none when there are none or they do not read back whole.
    static func pages(from json: JSON?) -> [ListingPage] {
        guard let items = json?["pages"].arrayValue else { return [] }
        let pages = items.compactMap(ListingPage.init(json:))
        return pages.count == items.count ? pages : []
    }
}

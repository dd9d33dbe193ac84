// Renders wraps with the app's own Wrap.apiJSON(), for Benchmarks/api-bench to compare byte for byte with the
// seeder's Python rendering. Input: one JSON object per line on stdin ({email, monthKey, tracks, artists,
// genres: {range: [[genre, score], ...]}, playlistId, createdAt (epoch seconds)}); output: one apiJSON per line.
// Compiled by api-bench against the release build's modules and objects (Model, JSON).
import JSON
import Model

func lists(_ json: JSON) -> PerTimeRange<[String]> {
    PerTimeRange { range in (json[range.rawValue].arrayValue ?? []).compactMap(\.stringValue) }
}

while let line = readLine(strippingNewline: true) {
    guard let json = try? JSONParser.parse(line) else { fatalError("bad input line") }
    let genres = PerTimeRange<GenreScores> { range in
        GenreScores(entries: (json["genres"][range.rawValue].arrayValue ?? []).map { pair in
            GenreScores.Entry(genre: pair.arrayValue![0].stringValue!, score: pair.arrayValue![1].intValue!)
        })
    }
    let wrap = Wrap(email: Email(json["email"].stringValue!)!, month: MonthKey(json["monthKey"].stringValue!)!,
                    topTrackIDs: lists(json["tracks"]), topArtistIDs: lists(json["artists"]), genres: genres,
                    playlistID: json["playlistId"].stringValue,
                    createdAt: Timestamp(seconds: Int64(json["createdAt"].intValue!)))
    print(String(decoding: wrap.apiJSON(), as: UTF8.self))
}

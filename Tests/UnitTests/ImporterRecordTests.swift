#if canImport(Glibc)
import Glibc
#endif
@testable import Importer
import JSON
import Model
import Platform
import Store
import XCTest

/// The importer's pure pieces (SPEC §13): DynamoDB JSON with the old system's number, boolean and time forms;
/// users, wraps and weeks validated and mapped as the API must then show them; the table told by an item's keys;
/// records cut out of data files and scan pages, however they are laid out.
final class ImporterRecordTests: XCTestCase {
    private func item(_ json: String) throws -> DynamoItem {
        try DynamoItem(RawRecord(bytes: Array(json.utf8), position: "test"), format: .scanPage)
    }

    private func rejection<T>(_ body: () throws -> T, file: StaticString = #filePath, line: UInt = #line) -> Rejection? {
        do {
            _ = try body()
            XCTFail("accepted", file: file, line: line)
            return nil
        } catch let rejection as Rejection {
            return rejection
        } catch {
            XCTFail("\(error)", file: file, line: line)
            return nil
        }
    }

    // MARK: Values

    func testTimestampsInTheFormsTheOldSystemWrote() {
        let noon = Int64(1_735_732_800)  // 2025-01-01 12:00:00 UTC
        let forms: [AttributeValue] = [
            .string("2025-01-01T12:00:00.123456"), .string("2025-01-01T12:00:00Z"), .string("2025-01-01T12:00:00.5Z"),
            .string("2025-01-01T12:00:00+00:00"), .string("2025-01-01 12:00:00"), .string("2025-01-01T14:00:00+02:00"),
            .string("2025-01-01T07:00:00-0500"), .string("2025-01-01T12:00Z"), .string(" 2025-01-01T12:00:00 "),
            .number("1735732800"), .number("1735732800.999"), .number("1735732800123"), .string("1735732800"),
        ]
        for form in forms {
            XCTAssertEqual(ExportTimestamp(form)?.timestamp.seconds, noon, "\(form)")
        }
        XCTAssertEqual(ExportTimestamp(.string("2025-01-01"))?.timestamp.seconds, noon - 12 * 3600)
        for bad: AttributeValue in [.string("yesterday"), .string("2025-13-01T00:00:00"), .string("2025-01-01T25:00:00"),
                                    .string("2025-01-01T12:00:00 PST"), .string(""), .number("0"), .number("-5"),
                                    .string("1999-12-31T23:59:59Z"), .string("2100-01-01T00:00:00Z"), .bool(true)] {
            XCTAssertNil(ExportTimestamp(bad), "\(bad)")
        }
    }

    func testBooleanAndNumberForms() {
        XCTAssertEqual(AttributeValue.bool(true).flag, true)
        XCTAssertEqual(AttributeValue.number("0").flag, false)
        XCTAssertEqual(AttributeValue.number("1").flag, true)
        XCTAssertEqual(AttributeValue.string("true").flag, true)
        XCTAssertEqual(AttributeValue.string("FALSE").flag, false)
        XCTAssertNil(AttributeValue.number("2").flag)
        XCTAssertNil(AttributeValue.string("yes").flag)
        XCTAssertNil(AttributeValue.null.flag)
        XCTAssertEqual(AttributeValue.number("12").integer, 12)
        XCTAssertEqual(AttributeValue.number("12.0").integer, 12)
        XCTAssertEqual(AttributeValue.number("1.2E1").integer, 12)
        XCTAssertEqual(AttributeValue.string("7").integer, 7)
        XCTAssertNil(AttributeValue.number("12.5").integer)
        XCTAssertNil(AttributeValue.string("many").integer)
        XCTAssertNil(AttributeValue((try? JSONParser.parse("{\"S\": \"a\", \"N\": \"1\"}")) ?? .null), "two type names")
        XCTAssertNil(AttributeValue((try? JSONParser.parse("{\"X\": \"a\"}")) ?? .null), "an unknown type")
        if case .number("5")? = AttributeValue((try? JSONParser.parse("{\"N\": 5}")) ?? .null) {} else { XCTFail("a bare number") }
    }

    // MARK: Users

    func testUserFieldsAbsentNullAndSet() throws {
        let user = try UserRecord.user(item("""
            {"email": {"S": " Ana@Example.COM "}, "userId": {"N": "1234"}, "displayName": {"NULL": true},
             "active": {"N": "1"}, "activeWrapped": {"S": "false"}, "activeReleaseRadar": {"BOOL": true},
             "releaseRadarId": {"S": ""}, "refreshToken": {"S": "AQtoken"}, "updatedAt": {"N": "1735732800"}}
            """))
        XCTAssertEqual(user.email.value, "ana@example.com")
        guard case .set("1234"?) = user.spotifyUserID, case .set(nil) = user.displayName, case .keep = user.avatarURL,
              case .set(nil) = user.releaseRadarPlaylistID else { return XCTFail("fields: \(user)") }
        XCTAssertEqual([user.active, user.activeWrapped, user.activeReleaseRadar], [true, false, true])
        XCTAssertEqual(user.refreshToken, "AQtoken")
        XCTAssertEqual(user.updatedAt?.seconds, 1_735_732_800)
        XCTAssertFalse(user.description.contains("AQtoken"), "a printed user never shows its token")
        let bare = try UserRecord.user(item(#"{"email": {"S": "b@example.com"}, "refreshToken": {"S": ""}}"#))
        XCTAssertNil(bare.refreshToken, "an empty token is no token")
        XCTAssertNil(bare.active)
    }

    func testUsersThatDoNotValidate() {
        let cases: [(String, Rejection.Reason)] = [
            (#"{"userId": {"S": "x"}}"#, .missingKey),
            (#"{"email": {"S": "not-an-email"}}"#, .invalidEmail),
            (#"{"email": {"N": "5"}}"#, .invalidEmail),
            (#"{"email": {"S": "a@b.c"}, "active": {"S": "yes"}}"#, .invalidAttribute),
            (#"{"email": {"S": "a@b.c"}, "userId": {"S": "\#(String(repeating: "x", count: 257))"}}"#, .invalidAttribute),
            (#"{"email": {"S": "a@b.c"}, "updatedAt": {"S": "last tuesday"}}"#, .invalidAttribute),
            (#"{"email": {"S": "a@b.c"}, "displayName": "plain"}"#, .invalidAttribute),
        ]
        for (json, reason) in cases {
            XCTAssertEqual(rejection { try UserRecord.user(item(json)) }?.reason, reason, json)
        }
        let secret = "AQsecret-token-value"
        let refused = rejection { try UserRecord.user(item(#"{"email": {"S": "a@b.c"}, "refreshToken": {"N": "\#(secret)"}}"#)) }
        XCTAssertEqual(refused?.reason, .invalidAttribute)
        XCTAssertFalse(refused?.detail.contains(secret) ?? true, "a refused token is not quoted")
    }

    // MARK: Wraps

    func testWrapsReadMedTermAndOrderGenresAsTheJobDoes() throws {
        let wrap = try WrapRecord.wrap(item("""
            {"email": {"S": "a@example.com"}, "monthKey": {"S": "2024-12"},
             "topSongIds": {"M": {"long_term": {"L": [{"S": "t3"}]}, "med_term": {"L": [{"S": "t2"}, {"S": "t9"}]},
                                  "short_term": {"L": [{"S": "t1"}]}}},
             "topArtistIds": {"M": {"short_term": {"SS": ["a1", "a2"]}}},
             "topGenres": {"M": {"short_term": {"M": {"rock": {"N": "3"}, "pop": {"N": "9"}, "jazz": {"N": "3"},
                                                      "folk": {"N": "3.0"}}}}},
             "playlistId": {"NULL": true}}
            """))
        XCTAssertEqual(wrap.month.description, "2024-12")
        XCTAssertEqual(wrap.topTrackIDs, PerTimeRange(shortTerm: ["t1"], mediumTerm: ["t2", "t9"], longTerm: ["t3"]))
        XCTAssertEqual(wrap.topArtistIDs, PerTimeRange(shortTerm: ["a1", "a2"], mediumTerm: [], longTerm: []))
        XCTAssertEqual(wrap.genres.shortTerm.entries.map(\.genre), ["pop", "rock", "jazz", "folk"], "ties keep the export's order")
        XCTAssertEqual(wrap.genres.mediumTerm, .empty)
        XCTAssertNil(wrap.playlistID)
        // No createdAt: the start of the next month, when the monthly job would have made it.
        XCTAssertEqual(wrap.createdAt.apiText, "2025-01-01 00:00:00")
        let json = String(decoding: wrap.apiJSON(), as: UTF8.self)
        XCTAssertTrue(json.contains(#""medium_term":["t2","t9"]"#), json)
        XCTAssertTrue(json.contains(#""short_term":{"pop":9,"rock":3,"jazz":3,"folk":3}"#), json)
    }

    func testWrapsThatDoNotValidate() {
        let body = #""topSongIds": {"M": {}}, "topArtistIds": {"M": {}}, "topGenres": {"M": {}}"#
        let cases: [(String, Rejection.Reason)] = [
            (#"{"email": {"S": "a@b.c"}, "monthKey": {"S": "2024-13"}, \#(body)}"#, .invalidMonthKey),
            (#"{"email": {"S": "a@b.c"}, "monthKey": {"S": "2024-1"}, \#(body)}"#, .invalidMonthKey),
            (#"{"email": {"S": "a@b.c"}, \#(body)}"#, .missingKey),
            (#"{"email": {"S": "nobody"}, "monthKey": {"S": "2024-01"}, \#(body)}"#, .invalidEmail),
            (#"{"email": {"S": "a@b.c"}, "monthKey": {"S": "2024-01"}, "topSongIds": {"M": {}}, "topArtistIds": {"M": {}}}"#,
             .invalidAttribute),
            (#"{"email": {"S": "a@b.c"}, "monthKey": {"S": "2024-01"}, "topSongIds": {"M": {"forever": {"L": []}}}, "topArtistIds": {"M": {}}, "topGenres": {"M": {}}}"#,
             .invalidAttribute),
            (#"{"email": {"S": "a@b.c"}, "monthKey": {"S": "2024-01"}, "topSongIds": {"M": {"short_term": {"L": [{"NULL": true}]}}}, "topArtistIds": {"M": {}}, "topGenres": {"M": {}}}"#,
             .invalidAttribute),
            (#"{"email": {"S": "a@b.c"}, "monthKey": {"S": "2024-01"}, "topSongIds": {"M": {}}, "topArtistIds": {"M": {}}, "topGenres": {"M": {"short_term": {"M": {"pop": {"N": "1.5"}}}}}}"#,
             .invalidAttribute),
        ]
        for (json, reason) in cases {
            XCTAssertEqual(rejection { try WrapRecord.wrap(item(json)) }?.reason, reason, json)
        }
    }

    // MARK: Weeks

    func testWeeks() throws {
        let week = try WeekRecord.week(item("""
            {"email": {"S": "a@example.com"}, "weekKey": {"S": "2026-02"}, "startDate": {"S": "2026-01-10"},
             "releases": {"L": [{"M": {"albumId": {"S": "al"}, "albumName": {"S": "Name"}, "albumType": {"S": "single"},
                 "artistId": {"S": "ar"}, "artistName": {"S": "Artist"}, "releaseDate": {"S": "2026-01-12"},
                 "totalTracks": {"N": "1"}, "imageUrl": {"NULL": true}, "uri": {"S": "spotify:album:al"}}}]},
             "stats": {"M": {"releaseCount": {"N": "1"}, "singleCount": {"N": "1"}}}}
            """))
        XCTAssertEqual(week.week.start.description, "2026-01-10")
        XCTAssertEqual(week.releases.first?.albumType, "single")
        XCTAssertNil(week.releases.first?.imageURL)
        XCTAssertEqual(week.stats, WeekStats(artistCount: 0, releaseCount: 1, trackCount: 0, albumCount: 0, singleCount: 1))
        XCTAssertEqual(week.createdAt.apiText, "2026-01-17 00:00:00", "the Sunday after the week")
        let cases: [(String, Rejection.Reason)] = [
            (#"{"email": {"S": "a@b.c"}, "weekKey": {"S": "2023-53"}}"#, .invalidWeekKey),
            (#"{"email": {"S": "a@b.c"}, "weekKey": {"S": "2026-2"}}"#, .invalidWeekKey),
            (#"{"email": {"S": "a@b.c"}, "weekKey": {"S": "2026-02"}, "endDate": {"S": "2026-01-15"}}"#, .invalidWeekKey),
            (#"{"email": {"S": "a@b.c"}, "weekKey": {"S": "2026-02"}, "stats": {"M": {"albumCount": {"N": "2"}}}}"#,
             .invalidAttribute),
            (#"{"email": {"S": "a@b.c"}, "weekKey": {"S": "2026-02"}, "releases": {"L": [{"M": {"albumId": {"S": "x"}}}]}}"#,
             .invalidAttribute),
        ]
        for (json, reason) in cases {
            XCTAssertEqual(rejection { try WeekRecord.week(item(json)) }?.reason, reason, json)
        }
    }

    // MARK: Tables and layout

    func testTheTableComesFromTheItemsKeys() {
        func table(_ json: String, depth: Int = 1) -> ExportTable {
            AttributeKeys.table(of: Array(json.utf8), depth: depth)
        }
        XCTAssertEqual(table(#"{"email": {"S": "a"}, "monthKey": {"S": "2024-01"}}"#), .wrappedHistory)
        XCTAssertEqual(table(#"{"weekKey": {"S": "2024-01"}, "email": {"S": "a"}}"#), .releaseRadarHistory)
        XCTAssertEqual(table(#"{"email": {"S": "a"}, "note": {"S": "monthKey"}}"#), .users, "a value is not a key")
        XCTAssertEqual(table(#"{"email": {"M": {"monthKey": {"S": "x"}}}}"#), .users, "a nested key is not an attribute")
        XCTAssertEqual(table(#"{"month\u004bey": {"S": "2024-01"}}"#), .wrappedHistory, "escapes resolved")
        XCTAssertEqual(table(#"{"Item": {"weekKey": {"S": "2024-01"}}}"#, depth: 2), .releaseRadarHistory)
        XCTAssertEqual(ExportTable(tableName: "xomify-user"), .users)
        XCTAssertNil(ExportTable(tableName: "xomify-users-dev"))
        XCTAssertEqual(ExportManifest.tableName(arn: "arn:aws:dynamodb:us-east-1:123456789012:table/xomify-wrapped-history"),
                       "xomify-wrapped-history")
    }

    // MARK: Reading files

    private var paths: [String] = []

    override func tearDown() {
        for path in paths { unlink(path) }
        paths = []
    }

    private func file(_ name: String, _ text: String) throws -> String {
        let path = "/tmp/xomify-unit-\(Processes.currentID())-\(name)"
        try Files.write(Array(text.utf8), to: path)
        paths.append(path)
        return path
    }

    private func records(_ path: String) throws -> (ExportSource.Format?, [String]) {
        let bytes = try FileBytes(path: path)
        guard let format = try FormatSniffer.format(of: bytes) else { return (nil, []) }
        let source: RecordSource = format == .lines ? LineRecords(bytes) : ScanPageRecords(bytes)
        var texts: [String] = []
        while let record = try source.next() { texts.append(String(decoding: record.bytes, as: UTF8.self)) }
        return (format, texts)
    }

    func testScanPagesAreCutIntoItems() throws {
        let page = try file("page.json", """
            {
                "Count": 3, "LastEvaluatedKey": {"email": {"S": "x]}"}}, "Note": "a \\"quoted\\" [string",
                "Items": [
                    {"email": {"S": "a}@b.c"}, "n": {"L": [{"S": "]"}, {"M": {}}]}},
                    {"email": {"S": "\\\\"}},{"x": {"BOOL": true}}
                ],
                "ScannedCount": 3, "ConsumedCapacity": null
            }

            """)
        let (format, items) = try records(page)
        XCTAssertEqual(format, .scanPage)
        XCTAssertEqual(items, [#"{"email": {"S": "a}@b.c"}, "n": {"L": [{"S": "]"}, {"M": {}}]}}"#,
                               #"{"email": {"S": "\\"}}"#, #"{"x": {"BOOL": true}}"#])
        for bad in [#"{"Items": {"a": 1}}"#, #"{"Items": [{"a": 1}"#, #"{"Items": []} trailing"#, #"[{"Items": []}]"#] {
            let path = try file("bad.json", bad)
            XCTAssertThrowsError(try records(path), bad)
        }
    }

    func testDataFileLinesAndEmptyFiles() throws {
        let lines = try file("data.json", "{\"Item\": {\"a\": {\"S\": \"1\"}}}\n\n  \n{\"Item\": {\"b\": {\"S\": \"2\"}}}")
        let (format, items) = try records(lines)
        XCTAssertEqual(format, .lines)
        XCTAssertEqual(items.count, 2)
        XCTAssertEqual(try records(try file("empty.json", "")).0, nil)
        XCTAssertThrowsError(try records(try file("text.json", "hello")))
    }
}

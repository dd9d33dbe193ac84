import Postgres
import XCTest

/// PostgreSQL's text format of one-dimensional arrays (PostgreSQL 15 documentation, §8.15.6 "Array Input and
/// Output Syntax"): elements between braces, separated by commas; an element may be double-quoted, and must be
/// to hold a comma, a brace, a double quote, a backslash, white space, nothing at all, or the word NULL; inside
/// quotes a backslash escapes the next character; an unquoted NULL is the null value. The literals below were
/// checked against a real PostgreSQL 15 (psql, on the cluster the test rig starts), as quoted in each case.
final class PostgresArrayTests: XCTestCase {
    private func parse(_ text: String) -> [String?]? {
        Array(text.utf8).withUnsafeBufferPointer { PostgresArray.parse($0) }
    }

    func testLiteralsQuoteEveryElementAndEscapeQuotesAndBackslashes() {
        XCTAssertEqual(PostgresArray.literal([]), "{}")
        XCTAssertEqual(PostgresArray.literal(["plain"]), #"{"plain"}"#)
        // PostgreSQL reads this literal back as exactly these eight strings:
        //   SELECT '{"a\"b","c\\d","","NULL","{x}","a,b"," sp ","é"}'::text[]
        //        = ARRAY['a"b','c\d','','NULL','{x}','a,b',' sp ','é']   -- t
        XCTAssertEqual(PostgresArray.literal(["a\"b", "c\\d", "", "NULL", "{x}", "a,b", " sp ", "é"]),
                       #"{"a\"b","c\\d","","NULL","{x}","a,b"," sp ","é"}"#)
        // A quote and a backslash next to each other, and a trailing backslash, each escaped on its own; PostgreSQL
        // prints ARRAY['\"', 'end\']::text[] as this very literal: {"\\\"","end\\"}
        XCTAssertEqual(PostgresArray.literal(["\\\"", "end\\"]), #"{"\\\"","end\\"}"#)
    }

    func testParsesWhatPostgreSQLPrints() {
        // SELECT ARRAY['a','b c','',NULL,'NULL','null','a"b','c\d','{x}','a,b','é',' lead','trail ',E'tab\t',
        //              E'new\nline','x y']::text[] prints:
        let printed = "{a,\"b c\",\"\",NULL,\"NULL\",\"null\",\"a\\\"b\",\"c\\\\d\",\"{x}\",\"a,b\",é,\" lead\",\"trail \","
            + "\"tab\t\",\"new\nline\",\"x y\"}"
        let expected: [String?] = ["a", "b c", "", nil, "NULL", "null", "a\"b", "c\\d", "{x}", "a,b", "é", " lead",
                                   "trail ", "tab\t", "new\nline", "x y"]
        XCTAssertEqual(parse(printed), expected)
        // SELECT ARRAY[]::text[], ARRAY['plain']::text[], ARRAY[NULL]::text[], ARRAY['']::text[] prints
        // {} | {plain} | {NULL} | {""}
        XCTAssertEqual(parse("{}"), [])
        XCTAssertEqual(parse("{plain}"), ["plain"])
        XCTAssertEqual(parse("{NULL}"), [nil])
        XCTAssertEqual(parse("{\"\"}"), [""])
        // The literal above parses back to its elements (the store writes with literal, reads with parse).
        let elements = ["a\"b", "c\\d", "", "NULL", "{x}", "a,b", " sp ", "é", "\\\"", "end\\"]
        XCTAssertEqual(parse(PostgresArray.literal(elements)), elements.map { Optional($0) })
    }

    func testMalformedTextIsNil() {
        // Each of these is refused by PostgreSQL too ("malformed array literal").
        for text in ["", "{", "}", "{a", "a,b", "a}", "{\"a}", "{\"a\"b}", "{\"a\\\"}", "[a,b]",
                     // An empty element or a quote inside an unquoted element (PostgreSQL: "malformed array
                     // literal"), and a second dimension ({{a}} is a valid 2-D array, not the 1-D one read here).
                     "{a,}", "{,a}", "{a,,b}", "{a\"b}", "{{a}}"] {
            XCTAssertNil(parse(text), text.debugDescription)
        }
    }

    func testUnquotedNullInAnyCaseIsNullAndUnquotedSpacesAreDropped() {
        // SELECT '{null, a , NuLl}'::text[] is {NULL,a,NULL}; '{ "x" , y }'::text[] is {x,y}.
        XCTAssertEqual(parse("{null, a , NuLl}"), [nil, "a", nil])
        XCTAssertEqual(parse("{ \"x\" , y }"), ["x", "y"])
        XCTAssertEqual(parse("{ }"), [])
    }
}

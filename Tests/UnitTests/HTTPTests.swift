import HTTP
import XCTest

final class HTTPTests: XCTestCase {
    func testQueryStrings() throws {
        let pairs = try QueryString.parse("email=a%40b.c&monthKey=2025-01&flag&x=a+b")
        XCTAssertEqual(pairs.map(\.key), ["email", "monthKey", "flag", "x"])
        XCTAssertEqual(pairs.map(\.value), ["a@b.c", "2025-01", "", "a b"])
        let refusals: [(String, QueryStringError)] = [
            ("a=1&a=2", .duplicateKey("a")),
            ("%61=1&a=2", .duplicateKey("a")),          // the same name once decoded
            ("a=%zz", .malformedEscape),
            ("a=%4", .malformedEscape),
            ("a=%", .malformedEscape),
            ("%=1", .malformedEscape),
            ("a=%ff", .invalidUTF8),
            ("a=%C0%AF", .invalidUTF8),                 // overlong
            ("a=%ED%A0%80", .invalidUTF8),              // a surrogate
            // Invalid raw bytes arrive as U+FFFD from the FastCGI layer: refused like invalid escapes.
            ("email=\u{FFFD}@x.test", .invalidUTF8),
        ]
        for (query, expected) in refusals {
            XCTAssertThrowsError(try QueryString.parse(query), query) { error in
                XCTAssertEqual(error as? QueryStringError, expected, query)
            }
        }
        XCTAssertEqual(try QueryString.parse("a=%EF%BF%BD").first?.value, "\u{FFFD}")
    }

    func testRouterGives405WithAllowAnd404() {
        var router = Router<Int>()
        router.add("GET", ["/a", "/alias"], 1)
        router.add("POST", ["/a"], 2)
        guard case .found(1) = router.match(method: "GET", path: "/alias") else { return XCTFail() }
        guard case .found(2) = router.match(method: "POST", path: "/a/") else { return XCTFail() }
        guard case .methodNotAllowed(let allowed) = router.match(method: "PUT", path: "/a") else { return XCTFail() }
        XCTAssertEqual(allowed, ["GET", "POST"])
        guard case .notFound = router.match(method: "GET", path: "/b") else { return XCTFail() }
    }

    func testResponseHeadIsSafe() {
        var response = HTTPResponse.json(200, Array("{}".utf8))
        response.setHeader("X-Test", "a\r\nSet-Cookie: evil")
        let head = String(decoding: response.cgiHead(), as: UTF8.self)
        XCTAssertTrue(head.hasPrefix("Status: 200 OK\r\n"))
        XCTAssertTrue(head.contains("X-Test: aSet-Cookie: evil\r\n"))
        XCTAssertTrue(head.contains("Content-Length: 2\r\n"))
    }
}

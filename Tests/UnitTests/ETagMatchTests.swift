@testable import API
import HTTP
import XCTest

final class ETagMatchTests: XCTestCase {
    private func request(_ ifNoneMatch: String?) -> HTTPRequest {
        HTTPRequest(method: "GET", path: "/wrapped/data", headers: ifNoneMatch.map { ["if-none-match": $0] } ?? [:])
    }

    func testMatchesTheTagAmongOthersWeakOrStarAndNothingElse() {
        let tag = "\"0123456789abcdef\""
        XCTAssertTrue(ETag.matches(request(tag), tag))
        XCTAssertTrue(ETag.matches(request("\"0000000000000000\", \(tag)"), tag))
        XCTAssertTrue(ETag.matches(request(" \t\(tag)\t , \"x\""), tag))
        XCTAssertTrue(ETag.matches(request("W/\(tag)"), tag))
        XCTAssertTrue(ETag.matches(request("*"), tag))
        XCTAssertTrue(ETag.matches(request("\"a\",*"), tag))
        XCTAssertFalse(ETag.matches(request(nil), tag))
        XCTAssertFalse(ETag.matches(request(""), tag))
        XCTAssertFalse(ETag.matches(request(",,"), tag))
        XCTAssertFalse(ETag.matches(request("0123456789abcdef"), tag), "unquoted")
        XCTAssertFalse(ETag.matches(request("\"0123456789ABCDEF\""), tag), "case matters in a tag")
        XCTAssertFalse(ETag.matches(request("w/\(tag)"), tag), "only W/ marks a weak tag")
        XCTAssertFalse(ETag.matches(request("\(tag)x"), tag))
        XCTAssertFalse(ETag.matches(request("**"), tag))
    }

    func testHeaderNamesCompareWithoutRegardToASCIICase() {
        XCTAssertTrue(ASCIICase.equal("Content-Length", "content-length"))
        XCTAssertFalse(ASCIICase.equal("Content-Length", "content-lengt"))
        XCTAssertFalse(ASCIICase.equal("ETag", "ETaq"))
        XCTAssertTrue(ASCIICase.isLower("if-none-match"))
        XCTAssertFalse(ASCIICase.isLower("If-None-Match"))
        var response = HTTPResponse(status: 200, headers: [("ETag", "\"1\""), ("cache-control", "x")])
        response.setHeader("Cache-Control", "private, no-cache")
        XCTAssertEqual(response.headers.map(\.name), ["ETag", "Cache-Control"])
        XCTAssertEqual(response.header("etag"), "\"1\"")
        XCTAssertEqual(request("\"1\"").header("If-None-Match"), "\"1\"")
    }
}

import FastCGI
import XCTest

/// `RequestScan` against requests built here byte by byte from the FastCGI 1.0 specification's record layout.
final class RequestScanTests: XCTestCase {
    private func record(_ type: UInt8, _ id: UInt16, _ content: [UInt8] = [], padding: UInt8 = 0,
                        version: UInt8 = 1) -> [UInt8] {
        [version, type, UInt8(id >> 8), UInt8(id & 0xff), UInt8(content.count >> 8), UInt8(content.count & 0xff),
         padding, 0] + content + [UInt8](repeating: 0, count: Int(padding))
    }

    private func pair(_ name: String, _ value: String) -> [UInt8] {
        [UInt8(name.utf8.count), UInt8(value.utf8.count)] + Array(name.utf8) + Array(value.utf8)
    }

    private func request(id: UInt16 = 1, body: [UInt8] = []) -> [UInt8] {
        var bytes = record(1, id, [0, 1, 1, 0, 0, 0, 0, 0])
        bytes += record(4, id, pair("REQUEST_METHOD", "GET") + pair("DOCUMENT_URI", "/ping"), padding: 3)
        bytes += record(4, id)
        if !body.isEmpty { bytes += record(5, id, body, padding: 4) }
        return bytes + record(5, id)
    }

    private func scan(_ bytes: [UInt8]) -> RequestScan {
        bytes.withUnsafeBytes { RequestScan.of($0) }
    }

    func testAWholeRequestIsComplete() {
        XCTAssertEqual(scan(request()), .complete)
        XCTAssertEqual(scan(request(body: Array("{\"a\":1}".utf8))), .complete)
    }

    func testEveryShorterPrefixIsIncomplete() {
        for whole in [request(), request(body: [UInt8](repeating: 7, count: 300))] {
            for length in 0..<whole.count {
                XCTAssertEqual(scan(Array(whole[..<length])), .incomplete, "prefix of \(length) of \(whole.count) bytes")
            }
        }
    }

    func testManagementRecordsAndOtherRequestsAreSkipped() {
        let getValues = record(9, 0, pair("FCGI_MAX_CONNS", ""))
        XCTAssertEqual(scan(getValues + request(id: 3)), .complete)
        var interleaved = record(1, 3, [0, 1, 1, 0, 0, 0, 0, 0]) + record(4, 3)
        interleaved += record(4, 9, pair("X", "y")) + record(5, 3)
        XCTAssertEqual(scan(interleaved), .complete)
    }

    func testWhatLibfcgiCannotReadIsHandedOverAsSuch() {
        XCTAssertEqual(scan(record(1, 1, [0, 1, 1, 0, 0, 0, 0, 0], version: 2)), .unreadable)
        XCTAssertEqual(scan(record(4, 1, pair("A", "b"))), .unreadable, "parameters before any FCGI_BEGIN_REQUEST")
        XCTAssertEqual(scan(record(1, 1, [0, 1, 1, 0, 0, 0, 0, 0]) + record(5, 1)), .unreadable,
                       "the body's end before the parameters' end")
    }

    private func lengthBytes(_ length: Int) -> [UInt8] {
        length < 128 ? [UInt8(length)]
            : [UInt8(0x80 | (length >> 24) & 0x7f), UInt8((length >> 16) & 0xff), UInt8((length >> 8) & 0xff),
               UInt8(length & 0xff)]
    }

    func testAParameterDeclaredLongerThanAllowedIsRefusedAtOnce() {
        let begin = record(1, 1, [0, 1, 1, 0, 0, 0, 0, 0])
        // The lengths libfcgi's allocation checks abort on, with nothing after them.
        for (name, value) in [(0x7fff_fffe, 1), (0x4000_0000, 0x4000_0000), (0x7fff_ffff, 0x7fff_ffff), (1, 0x7fff_ffff)] {
            let partial = begin + record(4, 1, lengthBytes(name) + lengthBytes(value) + Array("ab".utf8))
            XCTAssertEqual(scan(partial), .refused, "\(name) + \(value)")
            // Declared in a record whose content has not all arrived yet.
            XCTAssertEqual(scan(Array(partial.dropLast(1))), .refused)
        }
        // A pair after an ordinary one, its lengths split across two records.
        let split = lengthBytes(0x7fff_0000) + lengthBytes(3)
        let pairs = begin + record(4, 1, pair("A", "b") + Array(split[..<3])) + record(4, 1, Array(split[3...]))
        XCTAssertEqual(scan(pairs), .refused)
    }

    func testAOneMegabyteParameterIsServed() {
        let big = [UInt8](repeating: 0x62, count: 1 << 20)
        var params = lengthBytes(6) + lengthBytes(big.count) + Array("HTTP_X".utf8) + big
        var bytes = record(1, 1, [0, 1, 1, 0, 0, 0, 0, 0])
        while !params.isEmpty {
            bytes += record(4, 1, Array(params.prefix(65535)))
            params.removeFirst(min(65535, params.count))
        }
        bytes += record(4, 1) + record(5, 1)
        XCTAssertEqual(scan(bytes), .complete)
        XCTAssertEqual(scan(Array(bytes.prefix(70000))), .incomplete)
    }

    func testABeginRequestWithTheManagementIDIsUnreadable() {
        XCTAssertEqual(scan(request(id: 0)), .unreadable)
    }
}

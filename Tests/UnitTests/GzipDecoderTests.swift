import Crypto
@testable import Importer
import XCTest

/// The streaming gzip decoder against CPython's gzip and zlib output (GzipFixtures.swift, written by
/// make_gzip_fixtures.py): every block type, compression levels 0, 1, 6 and 9, matches reaching back across the
/// 32 KiB window and across output chunks, concatenated members, every optional header field; input fed in any
/// chunk size down to one byte; bounded output chunks; and a clear error, never a crash, for corrupt input.
final class GzipDecoderTests: XCTestCase {
    /// The text the fixtures compress (make_gzip_fixtures.py's `content`).
    static func content(_ lines: Int) -> [UInt8] {
        let words = ["pop", "rock", "indie", "jazz", "metal", "folk", "soul", "house", "techno", "ambient"]
        var text = ""
        for i in 0..<lines {
            text += "{\"Item\":{\"email\":{\"S\":\"user\(i)@example.com\"},\"n\":{\"N\":\"\((i * 7919) % 10007)\"},"
                + "\"g\":{\"S\":\"\(words[(i * 31) % 10])\"}}}\n"
        }
        return Array(text.utf8)
    }

    private func bytes(_ base64: String) -> [UInt8] {
        Base64.decode(base64.filter { $0 != "\n" }) ?? []
    }

    /// Decodes `input` fed in pieces of `piece` bytes; returns the output and the largest chunk handed out.
    private func decode(_ input: [UInt8], piece: Int = 1 << 16, chunkSize: Int = 1 << 16) throws(GzipError)
        -> (output: [UInt8], largestChunk: Int) {
        var offset = 0
        let decoder = GzipDecoder(chunkSize: chunkSize) { () throws(GzipError) -> [UInt8] in
            let end = min(offset + piece, input.count)
            defer { offset = end }
            return Array(input[offset..<end])
        }
        var output: [UInt8] = []
        var largest = 0
        while true {
            let chunk = try decoder.next()
            if chunk.isEmpty { break }
            largest = max(largest, chunk.count)
            output += chunk
        }
        XCTAssertEqual(try decoder.next(), [], "the end stays the end")
        return (output, largest)
    }

    private func assertDecodes(_ fixture: String, to expected: [UInt8], _ name: String,
                               file: StaticString = #filePath, line: UInt = #line) {
        let input = bytes(fixture)
        XCTAssertFalse(input.isEmpty, name, file: file, line: line)
        for piece in [1, 7, 4096, 1 << 20] {
            for chunkSize in [1024, 1 << 16] {
                do {
                    let (output, largest) = try decode(input, piece: piece, chunkSize: chunkSize)
                    XCTAssertEqual(output.count, expected.count, "\(name) piece \(piece)", file: file, line: line)
                    XCTAssertTrue(output == expected, "\(name) piece \(piece) chunk \(chunkSize)", file: file, line: line)
                    XCTAssertLessThanOrEqual(largest, chunkSize + 258, "\(name): chunks stay bounded", file: file, line: line)
                } catch {
                    XCTFail("\(name) piece \(piece): \(error)", file: file, line: line)
                }
            }
        }
    }

    private func assertFails(_ input: [UInt8], with expected: GzipError?, _ name: String,
                             file: StaticString = #filePath, line: UInt = #line) {
        do {
            _ = try decode(input, piece: 3)
            XCTFail("\(name): decoded", file: file, line: line)
        } catch {
            if let expected { XCTAssertEqual(error, expected, name, file: file, line: line) }
        }
    }

    func testDecodesWhatPythonWrites() {
        assertDecodes(GzipFixtures.hello9, to: Array("hello, hello, hello world\n".utf8), "fixed codes")
        assertDecodes(GzipFixtures.empty, to: [], "empty")
        assertDecodes(GzipFixtures.small1, to: Self.content(300), "level 1")
        assertDecodes(GzipFixtures.small9, to: Self.content(300), "level 9")
        assertDecodes(GzipFixtures.stored, to: Self.content(40), "stored blocks")
        assertDecodes(GzipFixtures.big6, to: Self.content(3000), "246 KB, level 6")
        assertDecodes(GzipFixtures.twoMembers, to: Array("first member\nsecond member\n".utf8), "two members")
        assertDecodes(GzipFixtures.allHeaderFields, to: Self.content(300), "FEXTRA, FNAME, FCOMMENT, FHCRC")
    }

    func testLargeStoredStreamIsHandedOutInBoundedChunks() throws {
        // Stored blocks of assorted sizes, written here: 300 KB through a 1 KB output chunk.
        var data: [UInt8] = []
        var seed: UInt32 = 12345
        for _ in 0..<300_000 {
            seed = seed &* 1_103_515_245 &+ 12345
            data.append(UInt8(truncatingIfNeeded: seed >> 16))
        }
        var stream: [UInt8] = [0x1F, 0x8B, 8, 0, 0, 0, 0, 0, 0, 255]
        var offset = 0
        var size = 1
        while offset < data.count {
            let count = min(size, data.count - offset, 65535)
            let final: UInt8 = offset + count == data.count ? 1 : 0
            stream += [final, UInt8(count & 0xFF), UInt8(count >> 8), UInt8(~count & 0xFF), UInt8((~count >> 8) & 0xFF)]
            stream += data[offset..<offset + count]
            offset += count
            size = size * 3 + 17
        }
        var crc = CRC32()
        crc.update(data)
        for value in [crc.value, UInt32(data.count)] {
            stream += [UInt8(value & 0xFF), UInt8((value >> 8) & 0xFF), UInt8((value >> 16) & 0xFF), UInt8(value >> 24)]
        }
        let (output, largest) = try decode(stream, piece: 5000, chunkSize: 1024)
        XCTAssertTrue(output == data)
        XCTAssertLessThanOrEqual(largest, 1024)
    }

    func testRefusesCorruptInput() {
        let small = bytes(GzipFixtures.small9)
        var badCRC = small
        badCRC[small.count - 8] ^= 0x01
        assertFails(badCRC, with: nil, "CRC")
        if case .checksumMismatch? = failure(badCRC) {} else { XCTFail("CRC: \(String(describing: failure(badCRC)))") }
        var badLength = small
        badLength[small.count - 4] ^= 0x01
        if case .lengthMismatch? = failure(badLength) {} else { XCTFail("length: \(String(describing: failure(badLength)))") }
        assertFails(Array(small.dropLast(5)), with: .truncated, "cut in the trailer")
        assertFails(Array(small.prefix(small.count / 2)), with: .truncated, "cut in the middle")
        assertFails([], with: .truncated, "empty input")
        assertFails(Array("{\"Items\": []}".utf8), with: .notGzip, "plain JSON")
        assertFails(small + Array("xyz".utf8), with: .trailingData, "trailing bytes")
        var method = small
        method[2] = 7
        if case .unsupportedHeader? = failure(method) {} else { XCTFail("method") }
        var flags = small
        flags[3] = 0x20
        if case .unsupportedHeader? = failure(flags) {} else { XCTFail("reserved flags") }
        for (name, fixture) in [("distance", GzipFixtures.distanceTooFar), ("block type", GzipFixtures.blockType3),
                                ("stored length", GzipFixtures.storedBadComplement)] {
            if case .corrupt? = failure(bytes(fixture)) {} else { XCTFail("\(name): \(String(describing: failure(bytes(fixture))))") }
        }
    }

    func testNeverTrapsOnDamagedInput() {
        // Every prefix, and thousands of single-byte changes: an error or some output, never a crash or a hang.
        let hello = bytes(GzipFixtures.hello9)
        for length in 0..<hello.count {
            XCTAssertEqual(failure(Array(hello.prefix(length))), .truncated, "prefix \(length)")
        }
        let small = bytes(GzipFixtures.small9)
        var seed: UInt32 = 7
        var refused = 0
        for _ in 0..<1000 {
            seed = seed &* 1_103_515_245 &+ 12345
            var damaged = small
            let index = 10 + Int(seed >> 8) % (small.count - 18)
            damaged[index] ^= UInt8(truncatingIfNeeded: seed >> 3) | 1
            if failure(damaged) != nil { refused += 1 }
        }
        // A change in the deflate data nearly always shows: as corrupt data, or through the CRC.
        XCTAssertGreaterThan(refused, 960)
    }

    private func failure(_ input: [UInt8]) -> GzipError? {
        do {
            _ = try decode(input, piece: 11)
            return nil
        } catch {
            return error
        }
    }
}

import Crypto
import Store
import XCTest

/// The refresh-token key ring (SPEC §3: the 256-bit refresh-token key, read from a file; §4: AES-256-GCM, random
/// nonce, key version byte, the row's email as associated data, "a ciphertext copied to another row must not
/// decrypt"). The key file holds one key per line, `base64` (version 1) or `version:base64`; the last line is
/// the current key, every line still opens what it sealed.
final class TokenKeyRingTests: XCTestCase {
    /// Three distinct 32-byte keys, and their base64.
    private let key1 = (0..<32).map { UInt8($0) }
    private let key2 = (0..<32).map { UInt8(100 + $0) }
    private let key7 = [UInt8](repeating: 0xA7, count: 32)
    private var b64_1: String { Base64.encode(key1) }
    private var b64_2: String { Base64.encode(key2) }
    private var b64_7: String { Base64.encode(key7) }

    /// ParseError is not Equatable: the tests compare this copy of it.
    private enum Refusal: Equatable {
        case malformedLine(Int)
        case wrongKeyLength(line: Int, bytes: Int)
        case empty
    }

    private func refusal(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> Refusal? {
        do throws(TokenKeyRing.ParseError) {
            _ = try TokenKeyRing(parsing: text)
            XCTFail("accepted \(text.debugDescription)", file: file, line: line)
            return nil
        } catch {
            switch error {
            case .malformedLine(let number): return .malformedLine(number)
            case .wrongKeyLength(let number, let bytes): return .wrongKeyLength(line: number, bytes: bytes)
            case .empty: return .empty
            }
        }
    }

    private func assertOpenFails(_ ring: TokenKeyRing, _ stored: [UInt8], email: String, with expected: CryptoError,
                                 _ name: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try ring.open(stored, email: email), name, file: file, line: line) { error in
            XCTAssertEqual(error as? CryptoError, expected, name, file: file, line: line)
        }
    }

    func testOneBareLineIsVersionOne() throws {
        let ring = try TokenKeyRing(parsing: b64_1 + "\n")
        XCTAssertEqual(ring.currentVersion, 1)
        let stored = try ring.seal("AQ-refresh-token", email: "a@x.test")
        XCTAssertEqual(stored.first, 1)
        XCTAssertEqual(try ring.open(stored, email: "a@x.test"), "AQ-refresh-token")
    }

    func testTheStoredFormatIsVersionNonceCiphertextTag() throws {
        // SPEC §4, checked with AES-GCM directly: version byte ‖ 12-byte nonce ‖ ciphertext ‖ 16-byte tag, the
        // email as associated data, a fresh nonce each time.
        let ring = try TokenKeyRing(parsing: "2:\(b64_2)")
        let token = "AQ-token-é"
        let stored = try ring.seal(token, email: "a@x.test")
        XCTAssertEqual(stored.count, 1 + 12 + token.utf8.count + 16)
        XCTAssertEqual(stored[0], 2)
        XCTAssertEqual(try AESGCM.open(Array(stored.dropFirst()), key: key2, associatedData: Array("a@x.test".utf8)),
                       Array(token.utf8))
        let again = try ring.seal(token, email: "a@x.test")
        XCTAssertNotEqual(Array(again[1..<13]), Array(stored[1..<13]), "a fresh nonce for every seal")
    }

    func testTheLastLineIsCurrentAndEveryLineStillOpens() throws {
        let old = try TokenKeyRing(parsing: b64_1)
        let sealedWithOne = try old.seal("token-of-2025", email: "a@x.test")
        // Rotation: the new key appended; comments, blank lines, spaces and CRLF line ends are fine.
        let text = "# keys, oldest first\r\n\(b64_1)\r\n\r\n  2: \(b64_2)  \r\n"
        let ring = try TokenKeyRing(parsing: text)
        XCTAssertEqual(ring.currentVersion, 2)
        let sealedWithTwo = try ring.seal("token-of-2026", email: "a@x.test")
        XCTAssertEqual(sealedWithTwo.first, 2)
        XCTAssertEqual(try ring.open(sealedWithOne, email: "a@x.test"), "token-of-2025")
        XCTAssertEqual(try ring.open(sealedWithTwo, email: "a@x.test"), "token-of-2026")
        // The old ring cannot open what the new key sealed: version 2 is unknown to it.
        assertOpenFails(old, sealedWithTwo, email: "a@x.test", with: .malformedInput("unknown key version"), "old ring")
        // "Last" is the line's position, not the highest number.
        let reordered = try TokenKeyRing(parsing: "7:\(b64_7)\n2:\(b64_2)\n")
        XCTAssertEqual(reordered.currentVersion, 2)
        XCTAssertEqual(try reordered.seal("t", email: "a@x.test").first, 2)
        XCTAssertEqual(try reordered.open(try TokenKeyRing(parsing: "7:\(b64_7)").seal("seven", email: "a@x.test"),
                                          email: "a@x.test"), "seven")
        // A version given twice: the later line's key is the one kept.
        let twice = try TokenKeyRing(parsing: "1:\(b64_7)\n1:\(b64_1)")
        XCTAssertEqual(try twice.open(sealedWithOne, email: "a@x.test"), "token-of-2025")
    }

    func testMalformedLinesAndWrongLengthsAreRefusedWithTheirLine() {
        let short = Base64.encode([UInt8](repeating: 1, count: 16))
        let long = Base64.encode([UInt8](repeating: 1, count: 33))
        XCTAssertEqual(refusal(short), .wrongKeyLength(line: 1, bytes: 16))
        XCTAssertEqual(refusal("\(b64_1)\n2:\(long)"), .wrongKeyLength(line: 2, bytes: 33))
        XCTAssertEqual(refusal("# comment\n\(b64_1)\n3:"), .wrongKeyLength(line: 3, bytes: 0))
        XCTAssertEqual(refusal("not base64!"), .malformedLine(1))
        XCTAssertEqual(refusal("\(b64_1)\n*\(b64_1.dropFirst())"), .malformedLine(2), "a character outside base64")
        XCTAssertEqual(refusal("\(b64_1)\n\(b64_1)=="), .malformedLine(2), "too much padding")
        XCTAssertEqual(refusal("# comment\n0:\(b64_1)"), .malformedLine(2), "version 0")
        XCTAssertEqual(refusal("\(b64_1)\n\n\n\nnot base64!"), .malformedLine(5), "blank lines count as lines")
        XCTAssertEqual(refusal("\(b64_1)\r\n\r\n\(short)"), .wrongKeyLength(line: 3, bytes: 16), "CRLF line ends")
        XCTAssertEqual(refusal("256:\(b64_1)"), .malformedLine(1), "a version is one byte")
        XCTAssertEqual(refusal("-1:\(b64_1)"), .malformedLine(1))
        XCTAssertEqual(refusal("v2:\(b64_1)"), .malformedLine(1))
        XCTAssertEqual(refusal(":\(b64_1)"), .malformedLine(1))
        XCTAssertEqual(refusal("2:\(b64_1):extra"), .malformedLine(1))
        XCTAssertEqual(refusal(""), .empty)
        XCTAssertEqual(refusal("\n  \n"), .empty)
        XCTAssertEqual(refusal("# no key yet\n"), .empty)
        // The message names the line and never the key.
        do throws(TokenKeyRing.ParseError) {
            _ = try TokenKeyRing(parsing: "\(b64_1)\n\(short)")
            XCTFail("a 16-byte key was accepted")
        } catch {
            XCTAssertEqual(error.description, "line 2 holds 16 bytes, a key is 32")
            XCTAssertFalse(error.description.contains(short))
        }
    }

    func testACiphertextOpensOnlyForItsOwnEmailAndUntouched() throws {
        let ring = try TokenKeyRing(parsing: "1:\(b64_1)\n2:\(b64_2)")
        let stored = try ring.seal("AQ-secret-refresh-token", email: "a@x.test")
        XCTAssertEqual(try ring.open(stored, email: "a@x.test"), "AQ-secret-refresh-token")
        // Copied to another row: another email, not even a different case of it (rows hold lower-cased emails).
        assertOpenFails(ring, stored, email: "b@x.test", with: .authenticationFailed, "another email")
        assertOpenFails(ring, stored, email: "A@x.test", with: .authenticationFailed, "the email in another case")
        assertOpenFails(ring, stored, email: "", with: .authenticationFailed, "no email")
        // Any changed byte of nonce, ciphertext or tag.
        for index in [1, 12, 13, stored.count - 17, stored.count - 1] {
            var tampered = stored
            tampered[index] ^= 0x01
            assertOpenFails(ring, tampered, email: "a@x.test", with: .authenticationFailed, "byte \(index) changed")
        }
        // The version byte changed to the other key's, or to one the ring does not have.
        var otherVersion = stored
        otherVersion[0] = 1
        assertOpenFails(ring, otherVersion, email: "a@x.test", with: .authenticationFailed, "version 2 → 1")
        var unknownVersion = stored
        unknownVersion[0] = 9
        assertOpenFails(ring, unknownVersion, email: "a@x.test", with: .malformedInput("unknown key version"), "version 9")
        // Truncated: a byte short still has room for nonce and tag (the tag fails); shorter is malformed.
        assertOpenFails(ring, Array(stored.dropLast()), email: "a@x.test", with: .authenticationFailed, "one byte short")
        assertOpenFails(ring, Array(stored.prefix(1 + 27)), email: "a@x.test",
                        with: .malformedInput("sealed box too short"), "shorter than nonce and tag")
        assertOpenFails(ring, [], email: "a@x.test", with: .malformedInput("unknown key version"), "nothing stored")
    }
}

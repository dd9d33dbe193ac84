import Crypto
import XCTest

final class CryptoTests: XCTestCase {
    func testHMACSHA256MatchesRFC4231() throws {
        // RFC 4231 test case 2.
        let mac = try Digest.hmacSHA256(key: Array("Jefe".utf8), message: Array("what do ya want for nothing?".utf8))
        XCTAssertEqual(Hex.encode(mac), "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
        // No key is refused rather than answered with a buffer of zeros.
        XCTAssertThrowsError(try Digest.hmacSHA256(key: [], message: [1])) { error in
            XCTAssertEqual(error as? CryptoError, .invalidKeyLength(expected: 32, actual: 0))
        }
    }

    func testSHA256() {
        XCTAssertEqual(Hex.encode(Digest.sha256(Array("abc".utf8))),
                       "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }

    func testBase64RoundTripsAndRejectsGarbage() {
        for length in 0..<40 {
            let bytes = (0..<length).map { UInt8(truncatingIfNeeded: $0 * 37 + 11) }
            XCTAssertEqual(Base64.decode(Base64.encode(bytes)), bytes)
            XCTAssertEqual(Base64.urlDecode(Base64.urlEncode(bytes)), bytes)
        }
        XCTAssertEqual(Base64.encode(Array("foobar".utf8)), "Zm9vYmFy")
        XCTAssertEqual(Base64.urlEncode([0xfb, 0xff]), "-_8")
        XCTAssertNil(Base64.urlDecode("a"))
        XCTAssertNil(Base64.urlDecode("ab$d"))
        XCTAssertNil(Base64.decode("Zm9vYmFy="))
        XCTAssertNil(Base64.urlDecode("-_9"), "non-canonical trailing bits are refused")
    }

    func testAESGCMSealsOpensAndBindsTheAssociatedData() throws {
        let key = try SecureRandom.bytes(32)
        let box = try AESGCM.seal(Array("refresh-token".utf8), key: key, associatedData: Array("a@b.c".utf8))
        XCTAssertEqual(box.count, AESGCM.nonceLength + "refresh-token".utf8.count + AESGCM.tagLength)
        XCTAssertEqual(try AESGCM.open(box, key: key, associatedData: Array("a@b.c".utf8)), Array("refresh-token".utf8))
        // Each refusal is its own case: another associated data, a changed nonce, ciphertext or tag, another key.
        let refusals: [(String, () throws -> [UInt8], CryptoError)] = [
            ("other associated data", { try AESGCM.open(box, key: key, associatedData: Array("x@b.c".utf8)) }, .authenticationFailed),
            ("no associated data", { try AESGCM.open(box, key: key, associatedData: []) }, .authenticationFailed),
            ("nonce changed", { try AESGCM.open(Self.flipping(box, at: 0), key: key, associatedData: Array("a@b.c".utf8)) },
             .authenticationFailed),
            ("ciphertext changed", { try AESGCM.open(Self.flipping(box, at: 14), key: key, associatedData: Array("a@b.c".utf8)) },
             .authenticationFailed),
            ("tag changed", { try AESGCM.open(Self.flipping(box, at: box.count - 1), key: key, associatedData: Array("a@b.c".utf8)) },
             .authenticationFailed),
            ("truncated by one byte", { try AESGCM.open(Array(box.dropLast()), key: key, associatedData: Array("a@b.c".utf8)) },
             .authenticationFailed),
            ("another key", { try AESGCM.open(box, key: [UInt8](repeating: 7, count: 32), associatedData: Array("a@b.c".utf8)) },
             .authenticationFailed),
            ("shorter than nonce and tag", { try AESGCM.open(Array(box.prefix(27)), key: key, associatedData: []) },
             .malformedInput("sealed box too short")),
            ("short key", { try AESGCM.open(box, key: [1, 2, 3], associatedData: []) },
             .invalidKeyLength(expected: 32, actual: 3)),
            ("sealing with a short key", { try AESGCM.seal([1], key: [1, 2, 3], associatedData: []) },
             .invalidKeyLength(expected: 32, actual: 3)),
        ]
        for (name, attempt, expected) in refusals {
            XCTAssertThrowsError(try attempt(), name) { error in
                XCTAssertEqual(error as? CryptoError, expected, name)
            }
        }
        let other = try AESGCM.seal(Array("refresh-token".utf8), key: key, associatedData: Array("a@b.c".utf8))
        XCTAssertNotEqual(box, other, "every seal uses a fresh nonce")
        XCTAssertNotEqual(Array(box.prefix(AESGCM.nonceLength)), Array(other.prefix(AESGCM.nonceLength)))
    }

    static func flipping(_ bytes: [UInt8], at index: Int) -> [UInt8] {
        var changed = bytes
        changed[index] ^= 1
        return changed
    }

    func testConstantTimeEquals() {
        XCTAssertTrue(ConstantTime.equals([1, 2, 3], [1, 2, 3]))
        XCTAssertFalse(ConstantTime.equals([1, 2, 3], [1, 2, 4]))
        XCTAssertFalse(ConstantTime.equals([1, 2, 3], [1, 2]))
    }
}

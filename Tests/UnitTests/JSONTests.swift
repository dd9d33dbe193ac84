import JSON
import XCTest

final class JSONTests: XCTestCase {
    func testParsesAndKeepsMemberOrderAndNumberLiterals() throws {
        let value = try JSONParser.parse(#"{"b": 1, "a": [true, null, "x\u00e9\ud83d\ude00"], "n": 12345678901234567890123}"#)
        XCTAssertEqual(value.objectValue?.keys, ["b", "a", "n"])
        XCTAssertEqual(value["a"].arrayValue?[2].stringValue, "xé😀")
        XCTAssertEqual(value["n"].numberValue?.literal, "12345678901234567890123")
        XCTAssertNil(value["n"].intValue, "a number beyond 64 bits is not an Int")
        XCTAssertEqual(value["b"].intValue, 1)
    }

    func testRefusesWhatIsNotStrictJSON() {
        // Each refusal with its reason (RFC 8259's grammar says where the text stops being JSON).
        let bad: [(String, JSONError.Reason)] = [
            ("", .empty), (" ", .empty),
            ("{", .unexpectedEnd), ("[1,", .unexpectedEnd), ("\"abc", .unexpectedEnd), ("tru", .unexpectedEnd),
            ("nul", .unexpectedEnd),
            ("[1,]", .unexpectedCharacter), ("{\"a\":1,}", .unexpectedCharacter), ("{'a':1}", .unexpectedCharacter),
            ("+1", .unexpectedCharacter), ("NaN", .unexpectedCharacter), ("{\"a\" 1}", .unexpectedCharacter),
            ("trux", .unexpectedCharacter),
            ("1.", .invalidNumber), ("-", .invalidNumber), ("1e", .invalidNumber), ("-a", .invalidNumber),
            (String(repeating: "1", count: 65), .invalidNumber),
            ("01", .trailingCharacters), ("[1] 2", .trailingCharacters), ("{} {}", .trailingCharacters),
            ("{\"a\":1,\"a\":2}", .duplicateKey("a")),
            ("\"\\x\"", .invalidEscape), ("\"\\ud800\"", .invalidEscape), ("\"\\udc00x\"", .invalidEscape),
            ("\"\\u12G4\"", .invalidEscape),
            ("\"a\tb\"", .controlCharacterInString), ("\"a\nb\"", .controlCharacterInString),
        ]
        for (text, reason) in bad {
            XCTAssertThrowsError(try JSONParser.parse(text), "accepted \(text.debugDescription)") { error in
                XCTAssertEqual((error as? JSONError)?.reason, reason, text.debugDescription)
            }
        }
    }

    func testRefusesInvalidUTF8() {
        for bytes: [UInt8] in [[0x22, 0xFF, 0x22], [0x22, 0xC0, 0xAF, 0x22], [0x22, 0xED, 0xA0, 0x80, 0x22], [0x22, 0xE2, 0x82, 0x22]] {
            XCTAssertThrowsError(try JSONParser.parse(bytes)) { error in
                XCTAssertEqual((error as? JSONError)?.reason, .invalidUTF8)
            }
        }
    }

    func testDepthIsBounded() {
        let deep = String(repeating: "[", count: 100) + String(repeating: "]", count: 100)
        XCTAssertThrowsError(try JSONParser.parse(deep, maxDepth: 64)) { error in
            XCTAssertEqual((error as? JSONError)?.reason, .tooDeep)
        }
        XCTAssertNoThrow(try JSONParser.parse(String(repeating: "[", count: 10) + String(repeating: "]", count: 10)))
    }

    func testWriterEscapesAndRoundTrips() throws {
        var writer = JSONWriter()
        writer.beginObject()
        writer.key("quote\"back\\slash"); writer.string("line\nbreak\u{01}tab\t")
        writer.key("list"); writer.stringArray(["a", "b"])
        writer.key("empty"); writer.beginObject(); writer.endObject()
        writer.key("n"); writer.int(-3)
        writer.endObject()
        let text = String(decoding: writer.bytes, as: UTF8.self)
        XCTAssertEqual(text, #"{"quote\"back\\slash":"line\nbreak\u0001tab\t","list":["a","b"],"empty":{},"n":-3}"#)
        let parsed = try JSONParser.parse(writer.bytes)
        XCTAssertEqual(parsed["quote\"back\\slash"].stringValue, "line\nbreak\u{01}tab\t")
        XCTAssertEqual(parsed.serialized(), writer.bytes)
    }
}

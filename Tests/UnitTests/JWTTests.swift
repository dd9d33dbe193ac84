import Auth
import Crypto
import JSON
import XCTest

/// The case of a refusal, with what identifies it: a test that only checked "it threw" would pass if every
/// token were reported as malformed. `malformed` and `invalidClaims` carry a free-text reason; the tests name a
/// word of it that tells which check refused (the header, the payload, the segments...), not its whole wording.
private enum Refusal: Equatable {
    case malformed(mentioning: String)
    case unsupportedAlgorithm(String)
    case badSignature
    case expired
    case notYetValid
    case invalidClaims(mentioning: String)
}

private func assertRefused(_ expression: @autoclosure () throws -> Any, _ expected: Refusal, _ name: String,
                           file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertThrowsError(try expression(), name, file: file, line: line) { error in
        guard let error = error as? JWTError else {
            return XCTFail("\(name): \(error) is not a JWTError", file: file, line: line)
        }
        switch (error, expected) {
        case (.malformed(let why), .malformed(let word)):
            XCTAssertTrue(why.contains(word), "\(name): malformed, but \"\(why)\" does not mention \(word)", file: file, line: line)
        case (.invalidClaims(let why), .invalidClaims(let word)):
            XCTAssertTrue(why.contains(word), "\(name): invalid claims, but \"\(why)\" does not mention \(word)", file: file, line: line)
        case (.unsupportedAlgorithm(let alg), .unsupportedAlgorithm(let wanted)):
            XCTAssertEqual(alg, wanted, name, file: file, line: line)
        case (.badSignature, .badSignature), (.expired, .expired), (.notYetValid, .notYetValid):
            break
        default:
            XCTFail("\(name): refused as \(error), expected \(expected)", file: file, line: line)
        }
    }
}

/// The same token with its signature changed in its first character: still canonical base64url (the first
/// character carries six whole bits), so the refusal is the signature's, not the encoding's. (Changing the
/// last character instead can leave non-zero padding bits, which is a malformed token, not a bad signature.)
func tamperedSignature(_ token: String) -> String {
    var parts = token.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
    let first = parts[2].removeFirst()
    parts[2] = (first == "A" ? "B" : "A") + parts[2]
    return parts.joined(separator: ".")
}

final class JWTTests: XCTestCase {
    let secret = Array("0123456789abcdef0123456789abcdef-secret".utf8)
    let now: Int64 = 1_800_000_000

    private func claims(_ pairs: [(String, JSON)]) -> JSONObject {
        JSONObject(pairs.map { JSONObject.Member(key: $0.0, value: $0.1) })
    }

    /// A token over any header and payload text, with a correct HS256 signature (unless `key` is another one).
    private func token(header: String, payload: String, key: [UInt8]? = nil) -> String {
        token(encodedHeader: Base64.urlEncode(Array(header.utf8)), encodedPayload: Base64.urlEncode(Array(payload.utf8)),
              key: key)
    }

    /// The same over segments given as they go on the wire (so that they can be invalid base64url).
    private func token(encodedHeader h: String, encodedPayload p: String, key: [UInt8]? = nil) -> String {
        // An OpenSSL failure leaves no signature, and every case using it then fails.
        let signature = (try? Digest.hmacSHA256(key: key ?? secret, message: Array("\(h).\(p)".utf8))) ?? []
        return "\(h).\(p).\(Base64.urlEncode(signature))"
    }

    func testSignedTokenVerifies() throws {
        let jwt = JWT(secret: secret)
        let signed = try jwt.sign(claims([("email", .string("A@B.com")), ("userId", .string("u1")),
                                      ("iat", JSON(Int(now))), ("exp", JSON(Int(now + 3600)))]))
        let verified = try jwt.verify(signed, now: now)
        XCTAssertEqual(verified.email, "A@B.com")
        XCTAssertEqual(verified.userID, "u1")
        XCTAssertEqual(verified.issuedAt, now)
        XCTAssertEqual(verified.expiresAt, now + 3600)
        XCTAssertNil(verified.notBefore)
    }

    func testEachRefusalIsReportedAsItsOwnCase() {
        let jwt = JWT(secret: secret)
        let hs256 = #"{"alg":"HS256"}"#
        let payload = #"{"email":"a@b.c","exp":\#(now + 100)}"#
        let good = token(header: hs256, payload: payload)
        let segments = good.split(separator: ".").map(String.init)
        let cases: [(String, String, Refusal)] = [
            // The shape of the token.
            ("garbage", "not a token", .malformed(mentioning: "three segments")),
            ("two segments", "abc.def", .malformed(mentioning: "three segments")),
            ("four segments", good + ".x", .malformed(mentioning: "three segments")),
            ("empty signature", "\(segments[0]).\(segments[1]).", .malformed(mentioning: "empty segment")),
            ("empty header", ".\(segments[1]).\(segments[2])", .malformed(mentioning: "empty segment")),
            ("over 8 KiB", good + String(repeating: "A", count: 8192), .malformed(mentioning: "too long")),
            // The header.
            ("header not base64url", "***.\(segments[1]).\(segments[2])", .malformed(mentioning: "header")),
            ("header not JSON", token(header: "not json", payload: payload), .malformed(mentioning: "header")),
            ("header an array", token(header: #"["HS256"]"#, payload: payload), .malformed(mentioning: "header")),
            ("header without alg", token(header: #"{"typ":"JWT"}"#, payload: payload), .malformed(mentioning: "alg")),
            ("alg not a string", token(header: #"{"alg":256}"#, payload: payload), .malformed(mentioning: "alg")),
            ("critical extension", token(header: #"{"alg":"HS256","crit":["exp"]}"#, payload: payload),
             .malformed(mentioning: "critical")),
            // Only HS256, spelled exactly so.
            ("alg none", token(header: #"{"alg":"none"}"#, payload: payload), .unsupportedAlgorithm("none")),
            ("alg HS512", token(header: #"{"alg":"HS512"}"#, payload: payload), .unsupportedAlgorithm("HS512")),
            ("RS256", token(header: #"{"alg":"RS256","typ":"JWT"}"#, payload: payload), .unsupportedAlgorithm("RS256")),
            ("alg in lower case", token(header: #"{"alg":"hs256"}"#, payload: payload), .unsupportedAlgorithm("hs256")),
            // The signature.
            ("wrong key", token(header: hs256, payload: payload, key: Array("another secret of enough length!!".utf8)),
             .badSignature),
            ("tampered signature", tamperedSignature(good), .badSignature),
            ("signature not base64url", "\(segments[0]).\(segments[1]).\(segments[2].dropLast())$",
             .malformed(mentioning: "signature")),
            ("payload changed after signing", "\(segments[0]).\(Base64.urlEncode(Array(#"{"email":"root@b.c","exp":\#(now + 100)}"#.utf8))).\(segments[2])",
             .badSignature),
            // The payload, correctly signed.
            ("payload not base64url", token(encodedHeader: segments[0], encodedPayload: "%%%"),
             .malformed(mentioning: "payload")),
            ("payload not JSON", token(header: hs256, payload: "{oops"), .malformed(mentioning: "payload")),
            ("array payload", token(header: hs256, payload: "[1,2]"), .malformed(mentioning: "payload")),
            ("string payload", token(header: hs256, payload: #""a@b.c""#), .malformed(mentioning: "payload")),
            // The claims.
            ("user token without exp", token(header: hs256, payload: #"{"email":"a@b.c"}"#),
             .invalidClaims(mentioning: "exp")),
            ("exp beyond 7 days", token(header: hs256, payload: #"{"email":"a@b.c","iat":\#(now),"exp":\#(now + 8 * 86400)}"#),
             .invalidClaims(mentioning: "7 days")),
            ("email not a string", token(header: hs256, payload: #"{"email":7,"exp":\#(now + 100)}"#),
             .invalidClaims(mentioning: "email")),
            ("userId not a string", token(header: hs256, payload: #"{"email":"a@b.c","userId":[],"exp":\#(now + 100)}"#),
             .invalidClaims(mentioning: "userId")),
            ("exp not a number", token(header: hs256, payload: #"{"email":"a@b.c","exp":"tomorrow"}"#),
             .invalidClaims(mentioning: "exp")),
            ("nbf not a number", token(header: hs256, payload: #"{"email":"a@b.c","exp":\#(now + 100),"nbf":true}"#),
             .invalidClaims(mentioning: "nbf")),
            // The times, beyond the 60 s leeway (SPEC §5.1).
            ("expired", token(header: hs256, payload: #"{"email":"a@b.c","exp":\#(now - 61)}"#), .expired),
            ("not yet valid", token(header: hs256, payload: #"{"email":"a@b.c","exp":\#(now + 500),"nbf":\#(now + 61)}"#),
             .notYetValid),
            ("legacy token expired", token(header: hs256, payload: #"{"scope":"xomify","exp":\#(now - 3600)}"#), .expired),
        ]
        for (name, candidate, expected) in cases {
            assertRefused(try jwt.verify(candidate, now: now), expected, name)
        }
        XCTAssertNoThrow(try jwt.verify(good, now: now), "the untampered token the cases start from")
    }

    func testLeewayOf60Seconds() throws {
        let jwt = JWT(secret: secret)
        XCTAssertNoThrow(try jwt.verify(token(header: #"{"alg":"HS256"}"#, payload: #"{"email":"a@b.c","exp":\#(now - 59)}"#), now: now))
        XCTAssertNoThrow(try jwt.verify(token(header: #"{"alg":"HS256"}"#, payload: #"{"email":"a@b.c","exp":\#(now + 900),"nbf":\#(now + 59)}"#), now: now))
        // One more second either way is refused, each as its own case.
        assertRefused(try jwt.verify(token(header: #"{"alg":"HS256"}"#, payload: #"{"email":"a@b.c","exp":\#(now - 59)}"#), now: now + 2),
                      .expired, "two seconds later")
        assertRefused(try jwt.verify(token(header: #"{"alg":"HS256"}"#, payload: #"{"email":"a@b.c","exp":\#(now + 900),"nbf":\#(now + 59)}"#), now: now - 2),
                      .notYetValid, "two seconds earlier")
    }

    func testAuthorizer() throws {
        let jwt = JWT(secret: secret)
        let user = try jwt.sign(claims([("email", .string("Me@X.io")), ("exp", JSON(Int(now + 100)))]))
        let legacy = try jwt.sign(claims([("sub", .string("shared"))]))
        let deny = Authorizer(jwt: jwt, legacy: .deny, adminEmails: ["boss@x.io"])
        let allow = Authorizer(jwt: jwt, legacy: .allow, adminEmails: [])
        XCTAssertEqual(try deny.identify(authorization: "Bearer \(user)", now: now), .user(email: "me@x.io", userID: nil, isAdmin: false))
        XCTAssertEqual(try deny.identify(authorization: user, now: now), .user(email: "me@x.io", userID: nil, isAdmin: false))
        XCTAssertEqual(try deny.identify(authorization: "bearer   \(user)  ", now: now), .user(email: "me@x.io", userID: nil, isAdmin: false))
        let refusals: [(String?, AuthorizationError)] = [
            (nil, .missingToken),
            ("", .missingToken),
            ("Bearer ", .missingToken),
            ("Bearer", .missingToken),
            ("   ", .missingToken),
            ("Bearer \(legacy)", .legacyTokenDenied),
            ("Bearer \(tamperedSignature(user))", .invalidToken(.badSignature)),
            ("Bearer \(try jwt.sign(claims([("email", .string("me@x.io")), ("exp", JSON(Int(now - 100)))])))", .invalidToken(.expired)),
        ]
        for (header, expected) in refusals {
            XCTAssertThrowsError(try deny.identify(authorization: header, now: now), header ?? "no header") { error in
                XCTAssertEqual(error as? AuthorizationError, expected, header ?? "no header")
            }
        }
        XCTAssertThrowsError(try deny.identify(authorization: "Basic dXNlcjpwYXNzd29yZA==", now: now)) { error in
            guard case .invalidToken(.malformed) = error as? AuthorizationError else {
                return XCTFail("a Basic header is a malformed token, got \(error)")
            }
        }
        XCTAssertEqual(try allow.identify(authorization: "Bearer \(legacy)", now: now), .legacy)
        // Allowing legacy tokens does not allow bad ones.
        XCTAssertThrowsError(try allow.identify(authorization: "Bearer \(tamperedSignature(legacy))", now: now)) { error in
            XCTAssertEqual(error as? AuthorizationError, .invalidToken(.badSignature))
        }
        let boss = try jwt.sign(claims([("email", .string("BOSS@x.io")), ("exp", JSON(Int(now + 100)))]))
        XCTAssertEqual(try deny.identify(authorization: "Bearer \(boss)", now: now), .user(email: "boss@x.io", userID: nil, isAdmin: true))
    }
}

final class VerifiedTokensTests: XCTestCase {
    func testCachedTokensAreStillCheckedForExpiry() throws {
        let jwt = JWT(secret: Array("0123456789abcdef0123456789abcdef-secret".utf8))
        let now: Int64 = 1_800_000_000
        let token = try jwt.sign(JSONObject([.init(key: "email", value: .string("a@b.c")), .init(key: "exp", value: JSON(Int(now + 10)))]))
        var cache = VerifiedTokens()
        XCTAssertEqual(try cache.claims(of: token, jwt: jwt, now: now).email, "a@b.c")
        XCTAssertEqual(try cache.claims(of: token, jwt: jwt, now: now + 60).email, "a@b.c", "within the leeway")
        XCTAssertThrowsError(try cache.claims(of: token, jwt: jwt, now: now + 71)) { error in
            XCTAssertEqual(error as? JWTError, .expired)
        }
        // A token the cache has not seen is verified in full: a changed signature is a bad signature.
        XCTAssertThrowsError(try cache.claims(of: tamperedSignature(token), jwt: jwt, now: now)) { error in
            XCTAssertEqual(error as? JWTError, .badSignature)
        }
    }
}

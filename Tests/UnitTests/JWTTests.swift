import Auth
import Crypto
import JSON
import XCTest

final class JWTTests: XCTestCase {
    let secret = Array("0123456789abcdef0123456789abcdef-secret".utf8)
    let now: Int64 = 1_800_000_000

    private func claims(_ pairs: [(String, JSON)]) -> JSONObject {
        JSONObject(pairs.map { JSONObject.Member(key: $0.0, value: $0.1) })
    }

    private func token(header: String, payload: String, key: [UInt8]? = nil) -> String {
        let h = Base64.urlEncode(Array(header.utf8))
        let p = Base64.urlEncode(Array(payload.utf8))
        let signature = Digest.hmacSHA256(key: key ?? secret, message: Array("\(h).\(p)".utf8))
        return "\(h).\(p).\(Base64.urlEncode(signature))"
    }

    func testSignedTokenVerifies() throws {
        let jwt = JWT(secret: secret)
        let signed = jwt.sign(claims([("email", .string("A@B.com")), ("userId", .string("u1")),
                                      ("iat", JSON(Int(now))), ("exp", JSON(Int(now + 3600)))]))
        let verified = try jwt.verify(signed, now: now)
        XCTAssertEqual(verified.email, "A@B.com")
        XCTAssertEqual(verified.userID, "u1")
    }

    func testRefusals() {
        let jwt = JWT(secret: secret)
        let payload = #"{"email":"a@b.c","exp":\#(now + 100)}"#
        let cases: [(String, String)] = [
            ("garbage", "not a token"),
            ("two segments", "abc.def"),
            ("four segments", token(header: #"{"alg":"HS256"}"#, payload: payload) + ".x"),
            ("alg none", token(header: #"{"alg":"none"}"#, payload: payload)),
            ("alg HS512", token(header: #"{"alg":"HS512"}"#, payload: payload)),
            ("RS256", token(header: #"{"alg":"RS256","typ":"JWT"}"#, payload: payload)),
            ("wrong key", token(header: #"{"alg":"HS256"}"#, payload: payload, key: Array("another secret of enough length!!".utf8))),
            ("expired", token(header: #"{"alg":"HS256"}"#, payload: #"{"email":"a@b.c","exp":\#(now - 61)}"#)),
            ("not yet valid", token(header: #"{"alg":"HS256"}"#, payload: #"{"email":"a@b.c","exp":\#(now + 500),"nbf":\#(now + 61)}"#)),
            ("array payload", token(header: #"{"alg":"HS256"}"#, payload: "[1,2]")),
            ("payload not json", token(header: #"{"alg":"HS256"}"#, payload: "{oops")),
            ("user token without exp", token(header: #"{"alg":"HS256"}"#, payload: #"{"email":"a@b.c"}"#)),
            ("exp beyond 7 days", token(header: #"{"alg":"HS256"}"#, payload: #"{"email":"a@b.c","iat":\#(now),"exp":\#(now + 8 * 86400)}"#)),
            ("email not a string", token(header: #"{"alg":"HS256"}"#, payload: #"{"email":7,"exp":\#(now + 100)}"#)),
        ]
        for (name, candidate) in cases {
            XCTAssertThrowsError(try jwt.verify(candidate, now: now), name)
        }
        var tampered = token(header: #"{"alg":"HS256"}"#, payload: payload)
        tampered.removeLast()
        tampered += "A"
        XCTAssertThrowsError(try jwt.verify(tampered, now: now), "tampered signature")
    }

    func testLeewayOf60Seconds() throws {
        let jwt = JWT(secret: secret)
        XCTAssertNoThrow(try jwt.verify(token(header: #"{"alg":"HS256"}"#, payload: #"{"email":"a@b.c","exp":\#(now - 59)}"#), now: now))
        XCTAssertNoThrow(try jwt.verify(token(header: #"{"alg":"HS256"}"#, payload: #"{"email":"a@b.c","exp":\#(now + 900),"nbf":\#(now + 59)}"#), now: now))
    }

    func testAuthorizer() throws {
        let jwt = JWT(secret: secret)
        let user = jwt.sign(claims([("email", .string("Me@X.io")), ("exp", JSON(Int(now + 100)))]))
        let legacy = jwt.sign(claims([("sub", .string("shared"))]))
        let deny = Authorizer(jwt: jwt, legacy: .deny, adminEmails: ["boss@x.io"])
        let allow = Authorizer(jwt: jwt, legacy: .allow, adminEmails: [])
        XCTAssertEqual(try deny.identify(authorization: "Bearer \(user)", now: now), .user(email: "me@x.io", userID: nil, isAdmin: false))
        XCTAssertEqual(try deny.identify(authorization: user, now: now), .user(email: "me@x.io", userID: nil, isAdmin: false))
        XCTAssertThrowsError(try deny.identify(authorization: nil, now: now))
        XCTAssertThrowsError(try deny.identify(authorization: "Bearer ", now: now))
        XCTAssertThrowsError(try deny.identify(authorization: "Bearer \(legacy)", now: now))
        XCTAssertEqual(try allow.identify(authorization: "Bearer \(legacy)", now: now), .legacy)
        let boss = jwt.sign(claims([("email", .string("BOSS@x.io")), ("exp", JSON(Int(now + 100)))]))
        XCTAssertEqual(try deny.identify(authorization: "Bearer \(boss)", now: now), .user(email: "boss@x.io", userID: nil, isAdmin: true))
    }
}

final class VerifiedTokensTests: XCTestCase {
    func testCachedTokensAreStillCheckedForExpiry() throws {
        let jwt = JWT(secret: Array("0123456789abcdef0123456789abcdef-secret".utf8))
        let now: Int64 = 1_800_000_000
        let token = jwt.sign(JSONObject([.init(key: "email", value: .string("a@b.c")), .init(key: "exp", value: JSON(Int(now + 10)))]))
        var cache = VerifiedTokens()
        XCTAssertEqual(try cache.claims(of: token, jwt: jwt, now: now).email, "a@b.c")
        XCTAssertEqual(try cache.claims(of: token, jwt: jwt, now: now + 60).email, "a@b.c", "within the leeway")
        XCTAssertThrowsError(try cache.claims(of: token, jwt: jwt, now: now + 71)) { error in
            XCTAssertEqual(error as? JWTError, .expired)
        }
        var tampered = token
        tampered.removeLast()
        XCTAssertThrowsError(try cache.claims(of: tampered + "x", jwt: jwt, now: now))
    }
}

import Crypto
import JSON

/// Why a token was refused. Never carries the token itself.
public enum JWTError: Error, Sendable, Equatable, CustomStringConvertible {
    case malformed(String)
    case unsupportedAlgorithm(String)
    case badSignature
    case expired
    case notYetValid
    case invalidClaims(String)
    /// The signature could not be computed (OpenSSL failed): the token is refused.
    case signatureUnavailable

    public var description: String {
        switch self {
        case .malformed(let why): return "malformed token: \(why)"
        case .unsupportedAlgorithm(let alg): return "unsupported algorithm \(alg.prefix(16))"
        case .badSignature: return "bad signature"
        case .expired: return "token expired"
        case .notYetValid: return "token not yet valid"
        case .invalidClaims(let why): return "invalid claims: \(why)"
        case .signatureUnavailable: return "the signature could not be checked"
        }
    }
}

/// The claims of a verified token.
public struct JWTClaims: Sendable, Equatable {
    public let email: String?
    public let userID: String?
    public let issuedAt: Int64?
    public let expiresAt: Int64?
    public let notBefore: Int64?
}

/// HS256 JSON Web Tokens (RFC 7519): signing, and verification that accepts nothing else.
public struct JWT: Sendable {
    private let secret: [UInt8]
    public let leewaySeconds: Int64

    public init(secret: [UInt8], leewaySeconds: Int64 = 60) {
        self.secret = secret
        self.leewaySeconds = leewaySeconds
    }

    /// The longest a user token may live (SPEC §5.1): 7 days from its issue. `/auth/login` gives tokens this long.
    public static let longestUserTokenSeconds: Int64 = 7 * 86400

    /// Signs a user token (SPEC §5.1): the user's email and, when known, Spotify id, with its issue and expiry.
    public func signUserToken(email: String, userID: String?, issuedAt: Int64,
                              expiresAt: Int64) throws(CryptoError) -> String {
        var claims = JSONObject()
        claims.append("email", .string(email))
        if let userID { claims.append("userId", .string(userID)) }
        claims.append("iat", .number(JSONNumber(Int(issuedAt))))
        claims.append("exp", .number(JSONNumber(Int(expiresAt))))
        return try sign(claims)
    }

    /// Signs `claims` (a JSON object) with HS256.
    public func sign(_ claims: JSONObject) throws(CryptoError) -> String {
        let header = Base64.urlEncode(Array(#"{"alg":"HS256","typ":"JWT"}"#.utf8))
        let payload = Base64.urlEncode(JSON.object(claims).serialized())
        let signingInput = header + "." + payload
        let signature = try Digest.hmacSHA256(key: secret, message: Array(signingInput.utf8))
        return signingInput + "." + Base64.urlEncode(signature)
    }

    /// Verifies `token` at time `now` (seconds since the epoch) and returns its claims.
    public func verify(_ token: String, now: Int64) throws(JWTError) -> JWTClaims {
        guard token.utf8.count <= 8192 else { throw .malformed("too long") }
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3 else { throw .malformed("expected three segments, got \(parts.count)") }
        guard !parts[0].isEmpty, !parts[1].isEmpty, !parts[2].isEmpty else { throw .malformed("empty segment") }
        guard let headerBytes = Base64.urlDecode(parts[0]) else { throw .malformed("header is not base64url") }
        let header: JSON
        do { header = try JSONParser.parse(headerBytes, maxDepth: 4) } catch { throw .malformed("header is not JSON") }
        guard case .object(let headerObject) = header else { throw .malformed("header is not an object") }
        guard let alg = headerObject["alg"]?.stringValue else { throw .malformed("header has no alg") }
        // Only HS256: `none`, other HMACs and public-key algorithms are refused before any other work.
        guard alg == "HS256" else { throw .unsupportedAlgorithm(alg) }
        if let crit = headerObject["crit"], !crit.isNull { throw .malformed("critical header extensions are not supported") }

        guard let signature = Base64.urlDecode(parts[2]) else { throw .malformed("signature is not base64url") }
        let signingInput = Array(token.utf8.prefix(parts[0].utf8.count + 1 + parts[1].utf8.count))
        let expected: [UInt8]
        do { expected = try Digest.hmacSHA256(key: secret, message: signingInput) } catch { throw .signatureUnavailable }
        guard ConstantTime.equals(signature, expected) else { throw .badSignature }

        guard let payloadBytes = Base64.urlDecode(parts[1]) else { throw .malformed("payload is not base64url") }
        let payload: JSON
        do { payload = try JSONParser.parse(payloadBytes, maxDepth: 16) } catch { throw .malformed("payload is not JSON") }
        guard case .object(let claims) = payload else { throw .malformed("payload is not an object") }

        let expiresAt = try numericDate(claims, "exp")
        let notBefore = try numericDate(claims, "nbf")
        let issuedAt = try numericDate(claims, "iat")

        let email = try optionalString(claims, "email")
        let userID = try optionalString(claims, "userId")
        if email != nil {
            // User tokens must expire, and within 7 days of issue.
            guard let expiresAt else { throw .invalidClaims("a user token needs exp") }
            if let issuedAt, expiresAt - issuedAt > JWT.longestUserTokenSeconds + leewaySeconds {
                throw .invalidClaims("exp is more than 7 days after iat")
            }
        }
        let verified = JWTClaims(email: email, userID: userID, issuedAt: issuedAt, expiresAt: expiresAt, notBefore: notBefore)
        try checkTimes(verified, now: now)
        return verified
    }

    /// `exp` and `nbf` at `now`, with the leeway.
    public func checkTimes(_ claims: JWTClaims, now: Int64) throws(JWTError) {
        if let expiresAt = claims.expiresAt, now > expiresAt + leewaySeconds { throw .expired }
        if let notBefore = claims.notBefore, now + leewaySeconds < notBefore { throw .notYetValid }
    }

    private func numericDate(_ claims: JSONObject, _ name: String) throws(JWTError) -> Int64? {
        guard let value = claims[name], !value.isNull else { return nil }
        guard let number = value.numberValue?.double, number.isFinite, abs(number) < 1e15 else {
            throw .invalidClaims("\(name) is not a number")
        }
        return Int64(number.rounded(.down))
    }

    private func optionalString(_ claims: JSONObject, _ name: String) throws(JWTError) -> String? {
        guard let value = claims[name], !value.isNull else { return nil }
        guard let text = value.stringValue else { throw .invalidClaims("\(name) is not a string") }
        return text
    }
}

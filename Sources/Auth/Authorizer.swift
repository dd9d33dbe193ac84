import JSON
import Text

/// Who is calling, as established by the authorizer. Handlers receive this; they never re-read the request.
public enum Identity: Sendable, Equatable {
    /// A user token: the caller is `email` (lower-cased), an admin when listed in XOMIFY_ADMIN_EMAILS.
    case user(email: String, userID: String?, isAdmin: Bool)
    /// The old clients' shared token (no email claim), accepted only when legacy tokens are allowed: the
    /// request's own `email` is trusted, as in the old system.
    case legacy
}

/// Why a request was refused by the authorizer (401).
public enum AuthorizationError: Error, Sendable, Equatable, CustomStringConvertible {
    case missingToken
    case invalidToken(JWTError)
    case legacyTokenDenied

    public var description: String {
        switch self {
        case .missingToken: return "missing bearer token"
        case .invalidToken(let error): return error.description
        case .legacyTokenDenied: return "shared legacy tokens are not accepted"
        }
    }
}

/// The authorizer of SPEC §5.1: a filter that runs before routing.
public struct Authorizer: Sendable {
    public enum LegacyPolicy: String, Sendable { case allow, deny }

    private let jwt: JWT
    private let legacy: LegacyPolicy
    private let admins: Set<String>

    public init(jwt: JWT, legacy: LegacyPolicy, adminEmails: [String]) {
        self.jwt = jwt
        self.legacy = legacy
        self.admins = Set(adminEmails.map { $0.lowercased() })
    }

    /// The identity behind an `Authorization` header (`Bearer <jwt>`, or the bare token).
    public func identify(authorization: String?, now: Int64) throws(AuthorizationError) -> Identity {
        var uncached = VerifiedTokens(capacity: 0)
        return try identify(authorization: authorization, now: now, verified: &uncached)
    }

    /// The same, remembering verified tokens in `verified` (a responder thread's).
    public func identify(authorization: String?, now: Int64,
                         verified: inout VerifiedTokens) throws(AuthorizationError) -> Identity {
        // On the header's bytes and slices (this runs for every request; counting a 300-character token's
        // Characters or lower-casing all of it cost more than the rest of the check).
        guard var token = authorization?.trimmedSlice(), !token.isEmpty else { throw .missingToken }
        if token.utf8.count >= 7, Authorizer.isBearer(token.utf8.prefix(7), withSpace: true) {
            token = Substring(token.utf8.dropFirst(7)).trimmedSlice()
        } else if token.utf8.count == 6, Authorizer.isBearer(token.utf8[...], withSpace: false) {
            throw .missingToken
        }
        guard !token.isEmpty else { throw .missingToken }
        let claims: JWTClaims
        do {
            claims = try verified.claims(of: String(token), jwt: jwt, now: now)
        } catch {
            throw .invalidToken(error)
        }
        guard let email = claims.email else {
            guard legacy == .allow else { throw .legacyTokenDenied }
            return .legacy
        }
        let lowered = email.lowercased()
        return .user(email: lowered, userID: claims.userID, isAdmin: admins.contains(lowered))
    }

    /// `bearer` (and a space after it), in any case of its letters.
    private static func isBearer(_ bytes: Substring.UTF8View.SubSequence, withSpace: Bool) -> Bool {
        let word = Array((withSpace ? "bearer " : "bearer").utf8)
        return bytes.count == word.count
            && zip(bytes, word).allSatisfy { byte, letter in byte | (byte >= 0x41 && byte <= 0x5A ? 0x20 : 0) == letter }
    }
}

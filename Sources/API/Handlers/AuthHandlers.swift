import HTTP
import JSON
import Model
import Spotify
import Store

/// POST /auth/login: a Spotify access token in, a 7-day user token out.
enum AuthHandlers {
    static let tokenLifetime: Int64 = 7 * 86400

    static func login(_ context: RequestContext) throws -> HTTPResponse {
        var input = try Input(body: context.request.body, allowed: ["spotifyAccessToken", "email"])
        let accessToken = input.string("spotifyAccessToken", required: true, maxLength: 4096)
        let requested = input.email()
        try input.finish()
        guard let accessToken else { throw APIError.internalError }

        let profile = try context.services.spotify.profile(accessToken: accessToken)
        let users = context.services.users
        let user: User
        if let known = try users.user(spotifyID: profile.id) {
            // The Spotify id decides who this is; an email that names someone else is refused.
            if let requested, requested != known.email {
                throw APIError(409, .conflict, "This Spotify account is registered to another email")
            }
            user = known
        } else {
            guard let email = requested ?? profile.email.flatMap(Email.init) else {
                throw APIError.invalidInput(APIError.Fields(missing: ["email"]))
            }
            do {
                user = try users.createForLogin(email, spotifyID: profile.id, displayName: profile.displayName)
            } catch {
                guard case .conflict = error else { throw error }
                throw APIError(409, .conflict, "That email belongs to another Spotify account")
            }
        }

        let issued = context.now
        let expires = issued + tokenLifetime
        var claims = JSONObject()
        claims.append("email", .string(user.email.value))
        claims.append("userId", .string(profile.id))
        claims.append("iat", .number(JSONNumber(Int(issued))))
        claims.append("exp", .number(JSONNumber(Int(expires))))
        let token = context.services.jwt.sign(claims)
        var writer = JSONWriter()
        writer.beginObject()
        writer.key("token"); writer.string(token)
        writer.key("expiresAt"); writer.string(Timestamp(seconds: expires).iso8601)
        writer.endObject()
        return .okJSON(writer.bytes, etag: nil)
    }
}

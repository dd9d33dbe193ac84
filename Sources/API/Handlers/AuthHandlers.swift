import Auth
import HTTP
import JSON
import Model
import Spotify
import Store

/// POST /auth/login: a Spotify access token in, a 7-day user token out.
enum AuthHandlers {
    static func login(_ context: RequestContext) throws -> HTTPResponse {
        var input = try Input(body: context.request.body, allowed: ["spotifyAccessToken", "email"])
        let accessToken = input.string("spotifyAccessToken", required: true, maxLength: 4096)
        let requested = input.email()
        try input.finish()
        guard let accessToken else { throw APIError.internalError }

        let profile = try context.services.spotify.profile(accessToken: accessToken, deadline: context.deadline)
        let users = context.services.users
        // SPEC §5.3: the user row with that Spotify id, else the email given, else the profile's, else (profiles of
        // development-mode apps carry none, and later clients send only the access token) an address of the
        // reserved domain .invalid made from the Spotify id, which can never be a real one.
        let user: User
        if let known = try users.user(spotifyID: profile.id) {
            user = known
        } else {
            guard let email = requested ?? profile.email.flatMap(Email.init) ?? Email(profile.id.lowercased() + "@spotify.invalid") else {
                throw APIError(502, .badGateway, "Spotify answered with a profile id that cannot name a user")
            }
            do {
                user = try users.createForLogin(email, spotifyID: profile.id, displayName: profile.displayName)
            } catch {
                guard case .conflict = error else { throw error }
                throw APIError(409, .conflict, "That email belongs to another Spotify account")
            }
        }

        let issued = context.now
        let expires = issued + JWT.longestUserTokenSeconds
        let token = try context.services.jwt.signUserToken(email: user.email.value, userID: profile.id,
                                                           issuedAt: issued, expiresAt: expires)
        var writer = JSONWriter()
        writer.beginObject()
        writer.key("token"); writer.string(token)
        writer.key("expiresAt"); writer.string(Timestamp(seconds: expires).iso8601)
        writer.endObject()
        return .okJSON(writer.bytes, etag: nil)
    }
}

import JSON
import Model

extension User {
    /// The user object of SPEC §5.3. The refresh token is not a property of `User`, so it cannot appear here.
    func apiJSON() -> [UInt8] {
        var writer = JSONWriter(capacity: 512)
        writer.beginObject()
        writer.key("email"); writer.string(email.value)
        writer.key("userId"); writer.optionalString(spotifyUserID)
        writer.key("displayName"); writer.optionalString(displayName)
        writer.key("avatar"); writer.optionalString(avatarURL)
        writer.key("active"); writer.bool(active)
        writer.key("activeWrapped"); writer.bool(activeWrapped)
        writer.key("activeReleaseRadar"); writer.bool(activeReleaseRadar)
        writer.key("releaseRadarId"); writer.optionalString(releaseRadarPlaylistID)
        writer.key("tokenStatus"); writer.string(tokenStatus.rawValue)
        writer.key("createdAt"); writer.string(createdAt.apiText)
        writer.key("updatedAt"); writer.string(updatedAt.apiText)
        writer.endObject()
        return writer.bytes
    }
}

import Model
import Store

/// An item of `xomify-users` (`xomify-user`) as a user row: `email` (key), `userId`, `displayName`, `avatar`,
/// `refreshToken` (plaintext; the store seals it), `active`, `activeWrapped`, `activeReleaseRadar`,
/// `releaseRadarId`, `updatedAt` (and `createdAt` if an item has one). A missing attribute keeps what the
/// database holds (a new user gets the defaults: flags false, token state `missing` without a token); `NULL`
/// clears it, except the refresh token, which the import never removes. Other attributes are ignored.
enum UserRecord {
    static func user(_ item: DynamoItem) throws(Rejection) -> ImportStore.ImportedUser {
        var user = ImportStore.ImportedUser(email: try KeyAttributes.email(item))
        user.spotifyUserID = update(try KeyAttributes.identifier(item, "userId", numbersAllowed: true))
        user.displayName = update(try item.text("displayName", maximumLength: 1024))
        user.avatarURL = update(try item.text("avatar", maximumLength: 2048))
        user.releaseRadarPlaylistID = update(try KeyAttributes.identifier(item, "releaseRadarId"))
        user.active = try item.flag("active")
        user.activeWrapped = try item.flag("activeWrapped")
        user.activeReleaseRadar = try item.flag("activeReleaseRadar")
        // The API's limit for a posted token; the value never appears in a message.
        if case .value(let token) = try item.text("refreshToken", maximumLength: 4096, secret: true), !token.isEmpty {
            user.refreshToken = token
        }
        user.createdAt = try item.timestamp("createdAt")?.timestamp
        user.updatedAt = try item.timestamp("updatedAt")?.timestamp
        return user
    }

    private static func update(_ field: DynamoItem.Field<String>) -> FieldUpdate<String> {
        switch field {
        case .absent: return .keep
        case .null: return .set(nil)
        case .value(let text): return .set(text)
        }
    }
}

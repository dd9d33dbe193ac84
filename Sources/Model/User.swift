/// The state of a user's Spotify refresh token.
public enum TokenStatus: String, Sendable, Equatable {
    case ok
    /// Spotify refused the token (revoked or expired): skipped by the jobs until they post a new one.
    case needsReauth = "needs_reauth"
    /// No token stored yet (a user created by /auth/login).
    case missing
}

/// A user row as the API shows it. The refresh token is deliberately not a property: it never leaves the store.
public struct User: Sendable, Equatable {
    public var email: Email
    public var spotifyUserID: String?
    public var displayName: String?
    public var avatarURL: String?
    public var active: Bool
    public var activeWrapped: Bool
    public var activeReleaseRadar: Bool
    public var releaseRadarPlaylistID: String?
    public var tokenStatus: TokenStatus
    public var revision: Int64
    public var createdAt: Timestamp
    public var updatedAt: Timestamp

    public init(email: Email, spotifyUserID: String?, displayName: String?, avatarURL: String?, active: Bool,
                activeWrapped: Bool, activeReleaseRadar: Bool, releaseRadarPlaylistID: String?,
                tokenStatus: TokenStatus, revision: Int64, createdAt: Timestamp, updatedAt: Timestamp) {
        self.email = email
        self.spotifyUserID = spotifyUserID
        self.displayName = displayName
        self.avatarURL = avatarURL
        self.active = active
        self.activeWrapped = activeWrapped
        self.activeReleaseRadar = activeReleaseRadar
        self.releaseRadarPlaylistID = releaseRadarPlaylistID
        self.tokenStatus = tokenStatus
        self.revision = revision
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

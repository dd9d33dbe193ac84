import Auth
import HTTP
import Log
import Store

/// What the handlers of one pool thread work with: that thread's database session and stores, and what
/// the worker shares (token signing, the bounded Spotify calls of logins and legacy token checks, the pool's
/// status).
final class Services {
    let database: Database
    let users: UserStore
    let wraps: WrapStore
    let weeks: WeekStore
    let jwt: JWT
    let spotify: BoundedSpotify
    let poolStatus: any PoolStatusSource
    /// Seconds a request may take.
    let requestTimeout: Double
    let log = Logger("api")
    /// Tokens this thread has verified (per thread, so no lock).
    var verifiedTokens = VerifiedTokens()

    init(database: Database, keys: TokenKeyRing, jwt: JWT, spotify: BoundedSpotify, poolStatus: any PoolStatusSource,
         requestTimeout: Double) {
        self.database = database
        users = UserStore(database: database, keys: keys)
        wraps = WrapStore(database: database)
        weeks = WeekStore(database: database)
        self.jwt = jwt
        self.spotify = spotify
        self.poolStatus = poolStatus
        self.requestTimeout = requestTimeout
    }
}

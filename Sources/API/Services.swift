import Auth
import Log
import Model
import Spotify
import Store

/// What the handlers of one pool thread work with: that thread's database session and stores, and what
/// the worker shares (token signing, the Spotify client for logins).
final class Services {
    let database: Database
    let users: UserStore
    let wraps: WrapStore
    let weeks: WeekStore
    let jwt: JWT
    let spotify: SpotifyLogin
    let log = Logger("api")

    init(database: Database, keys: TokenKeyRing, jwt: JWT, spotify: SpotifyLogin) {
        self.database = database
        users = UserStore(database: database, keys: keys)
        wraps = WrapStore(database: database)
        weeks = WeekStore(database: database)
        self.jwt = jwt
        self.spotify = spotify
    }
}

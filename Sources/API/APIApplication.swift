import Auth
import HTTP
import Spotify
import Store

/// Everything a worker needs to build its responders, made once per process from the configuration.
public final class APIApplication: ResponderFactory {
    public struct Settings: Sendable {
        public var conninfo: String
        /// The time a request may take (its database commands and its Spotify call are cut to what is left).
        public var requestTimeoutMilliseconds: Int
        public var jwtSecret: [UInt8]
        public var tokenKeys: TokenKeyRing
        public var legacyTokens: Authorizer.LegacyPolicy
        public var adminEmails: [String]
        public var spotify: SpotifyConfiguration
        /// The longest a request waits on Spotify (a login, a legacy token check).
        public var spotifyBound: Double

        public init(conninfo: String, requestTimeoutMilliseconds: Int, jwtSecret: [UInt8], tokenKeys: TokenKeyRing,
                    legacyTokens: Authorizer.LegacyPolicy, adminEmails: [String], spotify: SpotifyConfiguration,
                    spotifyBound: Double) {
            self.conninfo = conninfo
            self.requestTimeoutMilliseconds = requestTimeoutMilliseconds
            self.jwtSecret = jwtSecret
            self.tokenKeys = tokenKeys
            self.legacyTokens = legacyTokens
            self.adminEmails = adminEmails
            self.spotify = spotify
            self.spotifyBound = spotifyBound
        }
    }

    private let settings: Settings
    private let jwt: JWT
    private let pipeline: Pipeline
    private let spotify: BoundedSpotify

    public init(settings: Settings) throws(SpotifyError) {
        self.settings = settings
        jwt = JWT(secret: settings.jwtSecret)
        pipeline = Routes.pipeline(authorizer: Authorizer(jwt: jwt, legacy: settings.legacyTokens,
                                                          adminEmails: settings.adminEmails))
        spotify = BoundedSpotify(client: try SpotifyClient(configuration: settings.spotify),
                                 bound: settings.spotifyBound)
    }

    public func makeResponder(thread: Int, poolStatus: any PoolStatusSource) -> any Responder {
        let database = Database(conninfo: settings.conninfo,
                                options: .apiRequest(statementTimeoutMilliseconds: settings.requestTimeoutMilliseconds))
        let services = Services(database: database, keys: settings.tokenKeys, jwt: jwt, spotify: spotify,
                                poolStatus: poolStatus,
                                requestTimeout: Double(settings.requestTimeoutMilliseconds) / 1000)
        return APIResponder(services: services, pipeline: pipeline)
    }
}

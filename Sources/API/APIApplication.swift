import Auth
import Platform
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
        /// Bytes of rendered answers each worker keeps (`AnswerCache`; 0 = none).
        public var answerCacheBytes: Int
        /// Where the workers of the host keep answers as files (`AnswerFiles`; nil = none), and how many at most.
        public var answerFilesDirectory: String?
        public var answerFiles: Int

        public init(conninfo: String, requestTimeoutMilliseconds: Int, jwtSecret: [UInt8], tokenKeys: TokenKeyRing,
                    legacyTokens: Authorizer.LegacyPolicy, adminEmails: [String], spotify: SpotifyConfiguration,
                    spotifyBound: Double, answerCacheBytes: Int = 0, answerFilesDirectory: String? = nil,
                    answerFiles: Int = 16384) {
            self.conninfo = conninfo
            self.requestTimeoutMilliseconds = requestTimeoutMilliseconds
            self.jwtSecret = jwtSecret
            self.tokenKeys = tokenKeys
            self.legacyTokens = legacyTokens
            self.adminEmails = adminEmails
            self.spotify = spotify
            self.spotifyBound = spotifyBound
            self.answerCacheBytes = answerCacheBytes
            self.answerFilesDirectory = answerFilesDirectory
            self.answerFiles = answerFiles
        }
    }

    private let settings: Settings
    private let jwt: JWT
    private let pipeline: Pipeline
    private let spotify: BoundedSpotify
    /// One per worker process, shared by its threads.
    private let answers: AnswerCache
    private let answerFiles: AnswerFiles?

    public init(settings: Settings) throws(SpotifyError) {
        self.settings = settings
        jwt = JWT(secret: settings.jwtSecret)
        pipeline = Routes.pipeline(authorizer: Authorizer(jwt: jwt, legacy: settings.legacyTokens,
                                                          adminEmails: settings.adminEmails))
        spotify = BoundedSpotify(client: try SpotifyClient(configuration: settings.spotify),
                                 bound: settings.spotifyBound)
        answers = AnswerCache(maxBytes: settings.answerCacheBytes)
        answerFiles = settings.answerFilesDirectory.map { AnswerFiles(directory: $0, limit: settings.answerFiles) }
    }

    /// Empties (or creates) the answer files' directory, when there is one: the supervisor does this once, before
    /// its workers start.
    public static func prepareAnswerFiles(_ settings: Settings) throws(SystemError) {
        guard let directory = settings.answerFilesDirectory else { return }
        try AnswerFiles.prepare(directory: directory)
    }

    public func makeResponder(thread: Int, poolStatus: any PoolStatusSource) -> any Responder {
        let database = Database(conninfo: settings.conninfo,
                                options: .apiRequest(statementTimeoutMilliseconds: settings.requestTimeoutMilliseconds))
        let services = Services(database: database, keys: settings.tokenKeys, jwt: jwt, spotify: spotify,
                                answers: answers, answerFiles: answerFiles, poolStatus: poolStatus,
                                requestTimeout: Double(settings.requestTimeoutMilliseconds) / 1000)
        return APIResponder(services: services, pipeline: pipeline)
    }
}

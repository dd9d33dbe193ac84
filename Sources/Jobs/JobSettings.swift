import Configuration
import Log
import Platform
import Spotify
import Store

/// What a job runner needs from the configuration (SPEC §3), checked at start: one clear line per bad setting.
public struct JobSettings: Sendable {
    public var conninfo: String
    public var tokenKeys: TokenKeyRing
    public var spotify: SpotifyConfiguration
    /// Requests per rolling 24 h shared by all runners; 0 = unlimited.
    public var dailyBudget: Int
    public var parallelism: Int
    public var leaseSeconds: Int
    public var assetsDirectory: String
    /// The release radar's appears_on scan for users without their own setting.
    public var releaseRadarAppearsOn: Bool

    public static let relevant: [Setting] = [
        Settings.config, Settings.databaseURL, Settings.tokenKeyFile, Settings.spotifyClientID,
        Settings.spotifyClientSecretFile, Settings.spotifyAPIURL, Settings.spotifyAccountsURL, Settings.spotifyMaxRPS,
        Settings.spotifyConcurrency, Settings.spotifyDailyBudget, Settings.spotifyTimeoutMilliseconds,
        Settings.jobParallelism, Settings.jobLeaseSeconds, Settings.assetsDirectory, Settings.logLevel,
        Settings.releaseRadarAppearsOn,
    ]

    public static func load(_ configuration: Configuration) throws(ConfigurationError) -> JobSettings {
        let secrets = Secrets(configuration: configuration, environment: Environment.all())
        let keys: TokenKeyRing
        do { keys = try TokenKeyRing(parsing: try secrets.tokenKeys()) } catch let error as ConfigurationError {
            throw error
        } catch {
            throw ConfigurationError(Settings.tokenKeyFile.name, "the token key file is not valid: \(error)")
        }
        let clientSecret = try secrets.spotifyClientSecret()
        // Never logged anyway; registered so that a slip anywhere would be redacted.
        LogSettings.neverLog(clientSecret)
        let spotify = SpotifyConfiguration(
            apiURL: try configuration.baseURL(Settings.spotifyAPIURL),
            accountsURL: try configuration.baseURL(Settings.spotifyAccountsURL),
            clientID: try configuration.required(Settings.spotifyClientID),
            clientSecret: clientSecret,
            maxRequestsPerSecond: Double(try configuration.integer(Settings.spotifyMaxRPS, in: 1...1000)),
            concurrency: try configuration.integer(Settings.spotifyConcurrency, in: 1...256),
            timeout: Double(try configuration.integer(Settings.spotifyTimeoutMilliseconds, in: 100...600_000)) / 1000)
        return JobSettings(conninfo: try configuration.required(Settings.databaseURL), tokenKeys: keys, spotify: spotify,
                           dailyBudget: try configuration.integer(Settings.spotifyDailyBudget, in: 0...10_000_000),
                           parallelism: try configuration.integer(Settings.jobParallelism, in: 1...64),
                           leaseSeconds: try configuration.integer(Settings.jobLeaseSeconds, in: 30...86400),
                           assetsDirectory: configuration.string(Settings.assetsDirectory) ?? "",
                           releaseRadarAppearsOn: try configuration.choice(Settings.releaseRadarAppearsOn, ["true", "false"]) == "true")
    }
}

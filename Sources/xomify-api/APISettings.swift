import API
import Auth
import Configuration
import Log
import Platform
import ResponderPool
import Spotify
import Store

/// Turning settings into the pool's options and the application's settings, with one clear line per bad value.
enum APISettings {
    static let relevant: [Setting] = [
        Settings.config, Settings.databaseURL, Settings.listen, Settings.workers, Settings.threads, Settings.maxRequests,
        Settings.maxBodyBytes, Settings.requestTimeoutMilliseconds, Settings.requestReadTimeoutMilliseconds,
        Settings.keepAliveTimeoutMilliseconds, Settings.slowRequestMilliseconds,
        Settings.jwtSecretFile, Settings.tokenKeyFile, Settings.spotifyClientID, Settings.spotifyAPIURL,
        Settings.spotifyAccountsURL, Settings.spotifyTimeoutMilliseconds, Settings.legacyTokens, Settings.adminEmails,
        Settings.logLevel, Settings.sqlDirectory,
    ]

    static func poolOptions(_ configuration: Configuration) throws(ConfigurationError) -> PoolOptions {
        let listen = configuration.string(Settings.listen) ?? ""
        func seconds(_ setting: Setting, in range: ClosedRange<Int>) throws(ConfigurationError) -> Double {
            Double(try configuration.integer(setting, in: range)) / 1000
        }
        return PoolOptions(listenPath: listen.isEmpty ? nil : listen,
                           workers: try configuration.integer(Settings.workers, in: 1...256),
                           threadsPerWorker: try configuration.integer(Settings.threads, in: 1...256),
                           maxRequestsPerWorker: try configuration.integer(Settings.maxRequests, in: 0...Int(Int32.max)),
                           maxBodyBytes: try configuration.integer(Settings.maxBodyBytes, in: 1024...(16 << 20)),
                           slowRequestSeconds: try seconds(Settings.slowRequestMilliseconds, in: 1...3_600_000),
                           requestReadTimeoutSeconds: try seconds(Settings.requestReadTimeoutMilliseconds, in: 100...600_000),
                           requestTimeoutSeconds: try seconds(Settings.requestTimeoutMilliseconds, in: 100...600_000),
                           keepAliveSeconds: try seconds(Settings.keepAliveTimeoutMilliseconds, in: 1000...3_600_000))
    }

    /// Everything a worker loads, read from the files and checked: what the supervisor hands its workers.
    static func snapshot(_ configuration: Configuration) throws(ConfigurationError) -> ConfigurationSnapshot {
        let files = Secrets(configuration: configuration, environment: Environment.all())
        let snapshot = ConfigurationSnapshot(configuration: configuration, secrets: [
            "jwt-secret": try files.read(credential: "jwt-secret", pathSetting: Settings.jwtSecretFile),
            "token-key": try files.read(credential: "token-key", pathSetting: Settings.tokenKeyFile),
        ])
        _ = try poolOptions(configuration)
        _ = try application(snapshot)
        return snapshot
    }

    static func application(_ snapshot: ConfigurationSnapshot) throws(ConfigurationError) -> APIApplication.Settings {
        let configuration = snapshot.configuration
        let secrets = Secrets(snapshot: snapshot)
        let jwtSecret = try secrets.jwtSecret()
        // Never logged anyway; registered so that a slip anywhere would be redacted.
        LogSettings.neverLog(String(decoding: jwtSecret, as: UTF8.self))
        let keyText = try secrets.tokenKeys()
        let keys: TokenKeyRing
        do { keys = try TokenKeyRing(parsing: keyText) } catch {
            throw ConfigurationError(Settings.tokenKeyFile.name, "the token key file is not valid: \(error)")
        }
        // A request must never hold a responder thread for long: each Spotify request at most 2.5 s, one retry of
        // a failure, no wait for a 429 (the client gets 503 and Retry-After), the whole at most 5 s.
        let timeout = Double(try configuration.integer(Settings.spotifyTimeoutMilliseconds, in: 100...600_000)) / 1000
        let spotify = SpotifyConfiguration(
            apiURL: try configuration.baseURL(Settings.spotifyAPIURL),
            accountsURL: try configuration.baseURL(Settings.spotifyAccountsURL),
            clientID: configuration.string(Settings.spotifyClientID) ?? "", clientSecret: "",
            maxRequestsPerSecond: 50, concurrency: 16, timeout: min(timeout, 2.5), maxAttempts: 2, longestWait: 0)
        return APIApplication.Settings(
            conninfo: try configuration.required(Settings.databaseURL),
            requestTimeoutMilliseconds: try configuration.integer(Settings.requestTimeoutMilliseconds, in: 100...600_000),
            jwtSecret: jwtSecret, tokenKeys: keys,
            legacyTokens: Authorizer.LegacyPolicy(rawValue: try configuration.choice(Settings.legacyTokens, ["allow", "deny"])) ?? .deny,
            adminEmails: configuration.list(Settings.adminEmails), spotify: spotify, spotifyBound: 5)
    }
}

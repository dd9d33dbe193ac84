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
        Settings.jwtSecretFile, Settings.tokenKeyFile, Settings.spotifyClientID, Settings.spotifyClientSecretFile,
        Settings.spotifyAPIURL,
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
        var secrets = [
            "jwt-secret": try files.read(credential: "jwt-secret", pathSetting: Settings.jwtSecretFile),
            "token-key": try files.read(credential: "token-key", pathSetting: Settings.tokenKeyFile),
        ]
        // The client secret only when legacy tokens are allowed (`application` says why).
        if try configuration.choice(Settings.legacyTokens, ["allow", "deny"]) == "allow" {
            do {
                secrets["spotify-client-secret"] = try files.spotifyClientSecret()
            } catch {
                throw ConfigurationError(error.setting, "\(error.problem); the API needs it when \(Settings.legacyTokens.name)=allow")
            }
        }
        let snapshot = ConfigurationSnapshot(configuration: configuration, secrets: secrets)
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
        let legacyTokens = Authorizer.LegacyPolicy(rawValue: try configuration.choice(Settings.legacyTokens, ["allow", "deny"])) ?? .deny
        // The login needs no app credentials (it uses the caller's own access token). A refresh token posted under
        // the legacy shared token is checked with a refresh (SPEC §5.1), which does: so the client id and secret
        // are required exactly when legacy tokens are allowed, and the secret is read only then.
        var clientID = configuration.string(Settings.spotifyClientID) ?? ""
        var clientSecret = ""
        if legacyTokens == .allow {
            clientID = try configuration.required(Settings.spotifyClientID)
            do {
                clientSecret = try secrets.spotifyClientSecret()
            } catch {
                throw ConfigurationError(error.setting, "\(error.problem); the API needs it when \(Settings.legacyTokens.name)=allow")
            }
            // Never logged anyway; registered so that a slip anywhere would be redacted.
            LogSettings.neverLog(clientSecret)
        }
        // A request must never hold a responder thread for long: each Spotify request at most 2.5 s, one retry of
        // a failure, no wait for a 429 (the client gets 503 and Retry-After), the whole at most 5 s (a login's
        // profile, or a legacy token check's refresh and profile together).
        let timeout = Double(try configuration.integer(Settings.spotifyTimeoutMilliseconds, in: 100...600_000)) / 1000
        let spotify = SpotifyConfiguration(
            apiURL: try configuration.baseURL(Settings.spotifyAPIURL),
            accountsURL: try configuration.baseURL(Settings.spotifyAccountsURL),
            clientID: clientID, clientSecret: clientSecret,
            maxRequestsPerSecond: 50, concurrency: 16, timeout: min(timeout, 2.5), maxAttempts: 2, longestWait: 0)
        return APIApplication.Settings(
            conninfo: try configuration.required(Settings.databaseURL),
            requestTimeoutMilliseconds: try configuration.integer(Settings.requestTimeoutMilliseconds, in: 100...600_000),
            jwtSecret: jwtSecret, tokenKeys: keys, legacyTokens: legacyTokens,
            adminEmails: configuration.list(Settings.adminEmails), spotify: spotify, spotifyBound: 5)
    }
}

/// One configuration setting: its name (`XOMIFY_…`), the flag that overrides it, what it means and its default.
public struct Setting: Sendable, Hashable {
    public let name: String
    public let meaning: String
    public let defaultValue: String?

    public init(_ name: String, _ meaning: String, default defaultValue: String? = nil) {
        self.name = name
        self.meaning = meaning
        self.defaultValue = defaultValue
    }

    /// `XOMIFY_SPOTIFY_MAX_RPS` → `--spotify-max-rps`.
    public var flag: String {
        "--" + name.dropFirst("XOMIFY_".count).lowercased().replacing("_", with: "-")
    }
}

/// Every setting the programs read (SPEC §3). Secrets are never values here, only paths of files.
public enum Settings {
    public static let config = Setting("XOMIFY_CONFIG", "path of the configuration file (environment or flag only)",
                                       default: "/etc/xomify/xomify.conf")
    public static let databaseURL = Setting("XOMIFY_DATABASE_URL", "libpq conninfo or URI (required)")
    public static let listen = Setting("XOMIFY_LISTEN", "unix socket path of the pool; empty = the socket on fd 0",
                                       default: "/run/xomify/api.sock")
    public static let workers = Setting("XOMIFY_WORKERS", "worker processes", default: "2")
    public static let threads = Setting("XOMIFY_THREADS", "responder threads per worker", default: "4")
    public static let maxRequests = Setting("XOMIFY_MAX_REQUESTS", "recycle a worker after this many requests (0 = never)",
                                            default: "0")
    public static let maxBodyBytes = Setting("XOMIFY_MAX_BODY_BYTES", "largest request body accepted (bytes)", default: "65536")
    public static let requestTimeoutMilliseconds = Setting(
        "XOMIFY_REQUEST_TIMEOUT_MS",
        "time a request may take: its database and Spotify waits are bounded by what is left, past it the answer is 503; one still running 5 s later is ended by replacing its worker",
        default: "5000")
    public static let requestReadTimeoutMilliseconds = Setting(
        "XOMIFY_REQUEST_READ_TIMEOUT_MS",
        "a FastCGI connection that has not sent its whole request this long after it opened (or after its previous request) is closed",
        default: "3000")
    public static let keepAliveTimeoutMilliseconds = Setting(
        "XOMIFY_KEEPALIVE_TIMEOUT_MS",
        "a kept FastCGI connection (fastcgi_keep_conn) idle this long is closed; keep it above nginx's upstream keepalive_timeout",
        default: "75000")
    public static let slowRequestMilliseconds = Setting("XOMIFY_SLOW_REQUEST_MS",
                                                        "requests slower than this are logged and counted as slow",
                                                        default: "1000")
    public static let answerCacheKilobytes = Setting(
        "XOMIFY_ANSWER_CACHE_KB",
        "rendered GET /wrapped/data answers each worker keeps, in KiB (0 = none); one is served again only when PostgreSQL confirms in the request's own round trip that it is current",
        default: "2048")
    public static let answerFilesDirectory = Setting(
        "XOMIFY_ANSWER_FILES_DIR",
        "directory where the workers keep rendered GET /wrapped/data answers as files, one copy for all workers in the kernel's page cache, each served only once PostgreSQL confirms it is current; emptied when the pool starts; one directory per database; empty = none",
        default: "")
    public static let answerFiles = Setting(
        "XOMIFY_ANSWER_FILES",
        "how many answer files XOMIFY_ANSWER_FILES_DIR holds, about (one per user who asked; past it the least recently written are removed; a file is about 5.3 KB per month of the user's wraps)",
        default: "16384")
    public static let jwtSecretFile = Setting("XOMIFY_JWT_SECRET_FILE",
                                              "file holding the HS256 secret (≥ 32 bytes); credential jwt-secret")
    public static let tokenKeyFile = Setting("XOMIFY_TOKEN_KEY_FILE",
                                             "file holding the refresh-token key, base64 of 32 bytes; credential token-key")
    public static let spotifyClientID = Setting("XOMIFY_SPOTIFY_CLIENT_ID", "Spotify app client id")
    public static let spotifyClientSecretFile = Setting("XOMIFY_SPOTIFY_CLIENT_SECRET_FILE",
                                                        "file holding the Spotify client secret; credential spotify-client-secret")
    public static let spotifyAPIURL = Setting("XOMIFY_SPOTIFY_API_URL", "Spotify Web API base", default: "https://api.spotify.com")
    public static let spotifyAccountsURL = Setting("XOMIFY_SPOTIFY_ACCOUNTS_URL", "Spotify accounts base (token endpoint)",
                                                   default: "https://accounts.spotify.com")
    public static let spotifyMaxRPS = Setting("XOMIFY_SPOTIFY_MAX_RPS", "Spotify request rate ceiling per second", default: "5")
    public static let spotifyConcurrency = Setting("XOMIFY_SPOTIFY_CONCURRENCY", "Spotify requests in flight at most",
                                                   default: "8")
    public static let spotifyDailyBudget = Setting("XOMIFY_SPOTIFY_DAILY_BUDGET",
                                                   "Spotify requests per rolling 24 h, shared by all runners (0 = unlimited)",
                                                   default: "2000")
    public static let spotifyTimeoutMilliseconds = Setting("XOMIFY_SPOTIFY_TIMEOUT_MS", "timeout of one Spotify request",
                                                           default: "15000")
    public static let legacyTokens = Setting("XOMIFY_LEGACY_TOKENS", "allow or deny the old shared token", default: "deny")
    public static let adminEmails = Setting("XOMIFY_ADMIN_EMAILS", "comma-separated emails allowed to act for any user",
                                            default: "")
    public static let logLevel = Setting("XOMIFY_LOG_LEVEL", "debug, info, warning or error", default: "info")
    public static let sqlDirectory = Setting("XOMIFY_SQL_DIR", "directory of the ordered migration files",
                                             default: "/usr/local/share/xomify/sql")
    public static let assetsDirectory = Setting("XOMIFY_ASSETS_DIR", "directory of the playlist cover images",
                                                default: "/usr/local/share/xomify/assets")
    public static let jobParallelism = Setting("XOMIFY_JOB_PARALLELISM", "users a job runner works on at once", default: "4")
    public static let releaseRadarAppearsOn = Setting(
        "XOMIFY_RELEASE_RADAR_APPEARS_ON",
        "true or false: also scan appears_on and compilation releases (only followed artists' tracks are kept) for users without their own setting; false halves the scan requests",
        default: "true")
    public static let jobLeaseSeconds = Setting("XOMIFY_JOB_LEASE_SECONDS",
                                                "how long a claimed job item stays reserved to its runner without a heartbeat", default: "120")

    public static let all: [Setting] = [
        config, databaseURL, listen, workers, threads, maxRequests, maxBodyBytes, requestTimeoutMilliseconds,
        requestReadTimeoutMilliseconds, keepAliveTimeoutMilliseconds, slowRequestMilliseconds, answerCacheKilobytes,
        answerFilesDirectory, answerFiles, jwtSecretFile, tokenKeyFile, spotifyClientID, spotifyClientSecretFile,
        spotifyAPIURL, spotifyAccountsURL, spotifyMaxRPS, spotifyConcurrency, spotifyDailyBudget,
        spotifyTimeoutMilliseconds,
        legacyTokens, adminEmails, logLevel, sqlDirectory, assetsDirectory, jobParallelism, jobLeaseSeconds,
        releaseRadarAppearsOn,
    ]

    public static func named(_ name: String) -> Setting? {
        all.first { $0.name == name }
    }
}

/// How to reach Spotify and how hard to use it.
public struct SpotifyConfiguration: Sendable {
    public var apiURL: String
    public var accountsURL: String
    public var clientID: String
    public var clientSecret: String
    /// Requests started per second, at most.
    public var maxRequestsPerSecond: Double
    /// Requests in flight, at most.
    public var concurrency: Int
    /// Timeout of one request, seconds.
    public var timeout: Double
    /// Attempts for 5xx, resets and timeouts (the first included).
    public var maxAttempts: Int
    /// Retry-After longer than this is not waited for: `.rateLimited` (SPEC §6: a job stops past 10 minutes; the
    /// API's login waits for none).
    public var longestWait: Double

    public init(apiURL: String, accountsURL: String, clientID: String, clientSecret: String,
                maxRequestsPerSecond: Double = 5, concurrency: Int = 8, timeout: Double = 15, maxAttempts: Int = 4,
                longestWait: Double = 600) {
        self.apiURL = apiURL
        self.accountsURL = accountsURL
        self.clientID = clientID
        self.clientSecret = clientSecret
        self.maxRequestsPerSecond = maxRequestsPerSecond
        self.concurrency = concurrency
        self.timeout = timeout
        self.maxAttempts = maxAttempts
        self.longestWait = longestWait
    }
}

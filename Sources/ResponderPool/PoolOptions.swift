/// How the pool is shaped and how it treats requests.
public struct PoolOptions: Sendable {
    /// Unix socket path to bind, or nil to use the socket on fd 0 (systemd socket activation, spawn-fcgi).
    public var listenPath: String?
    public var workers: Int
    public var threadsPerWorker: Int
    /// Recycle a worker after this many requests (0 = never).
    public var maxRequestsPerWorker: Int
    public var maxBodyBytes: Int
    /// Requests slower than this are logged and counted as slow.
    public var slowRequestSeconds: Double
    /// How long SIGTERM waits for in-flight requests before killing what is left.
    public var drainTimeoutSeconds: Double
    public var backlog: Int32
    /// A connection that has not sent its whole request (beginning, parameters and body) this long after it was
    /// accepted, or after its previous request, is closed, whether it sent nothing or part of a record.
    public var requestReadTimeoutSeconds: Double
    /// The time a request may take. The responder bounds its own waits by it (and answers 503 past it); a request
    /// still running `terminateGraceSeconds` later is ended by replacing its worker, as php-fpm's
    /// `request_terminate_timeout` does.
    public var requestTimeoutSeconds: Double
    public var terminateGraceSeconds: Double
    /// A kept connection (FCGI_KEEP_CONN) idle this long is closed; longer than nginx's own upstream keep-alive
    /// timeout (60 s by default), so that nginx, not the pool, closes idle connections and never sends a request
    /// on one the pool is closing.
    public var keepAliveSeconds: Double
    /// Connections a worker keeps waiting at most: kept ones between requests and ones whose request is still
    /// arriving (more are closed).
    public var maxWaitingConnections: Int
    /// Each read or write on a connection waits at most this long.
    public var ioTimeoutSeconds: Int

    public init(listenPath: String?, workers: Int, threadsPerWorker: Int, maxRequestsPerWorker: Int = 0,
                maxBodyBytes: Int = 65536, slowRequestSeconds: Double = 1,
                drainTimeoutSeconds: Double = 30, backlog: Int32 = 1024, requestReadTimeoutSeconds: Double = 3,
                requestTimeoutSeconds: Double = 5, terminateGraceSeconds: Double = 5, keepAliveSeconds: Double = 75,
                maxWaitingConnections: Int = 1024, ioTimeoutSeconds: Int = 30) {
        self.listenPath = listenPath
        self.workers = workers
        self.threadsPerWorker = threadsPerWorker
        self.maxRequestsPerWorker = maxRequestsPerWorker
        self.maxBodyBytes = maxBodyBytes
        self.slowRequestSeconds = slowRequestSeconds
        self.drainTimeoutSeconds = drainTimeoutSeconds
        self.backlog = backlog
        self.requestReadTimeoutSeconds = requestReadTimeoutSeconds
        self.requestTimeoutSeconds = requestTimeoutSeconds
        self.terminateGraceSeconds = terminateGraceSeconds
        self.keepAliveSeconds = keepAliveSeconds
        self.maxWaitingConnections = maxWaitingConnections
        self.ioTimeoutSeconds = ioTimeoutSeconds
    }
}

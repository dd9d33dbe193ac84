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

    public init(listenPath: String?, workers: Int, threadsPerWorker: Int, maxRequestsPerWorker: Int = 0,
                maxBodyBytes: Int = 65536, slowRequestSeconds: Double = 1,
                drainTimeoutSeconds: Double = 30, backlog: Int32 = 1024) {
        self.listenPath = listenPath
        self.workers = workers
        self.threadsPerWorker = threadsPerWorker
        self.maxRequestsPerWorker = maxRequestsPerWorker
        self.maxBodyBytes = maxBodyBytes
        self.slowRequestSeconds = slowRequestSeconds
        self.drainTimeoutSeconds = drainTimeoutSeconds
        self.backlog = backlog
    }
}

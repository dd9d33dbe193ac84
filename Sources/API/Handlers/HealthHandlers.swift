import HTTP

/// Liveness, readiness and the pool's status.
enum HealthHandlers {
    /// GET /ping: `pong`, without touching the database.
    static func ping(_ context: RequestContext) throws -> HTTPResponse {
        try Input(query: context.request.query, allowed: []).finish()
        return HTTPResponse.text(200, "pong")
    }

    /// GET /health: 200 when PostgreSQL answers within a second, else 503.
    static func health(_ context: RequestContext) throws -> HTTPResponse {
        try Input(query: context.request.query, allowed: []).finish()
        if context.services.database.ping(timeout: 1) {
            return HTTPResponse.json(200, Array(#"{"status":"ok"}"#.utf8))
        }
        return HTTPResponse.json(503, Array(#"{"status":"unavailable"}"#.utf8))
    }

    /// GET /status: the pool's report (workers, threads, requests, the listen queue), like php-fpm's status
    /// page; it touches no database. nginx serves it on loopback only. A query (php-fpm's `?full`) is ignored.
    static func status(_ context: RequestContext) throws -> HTTPResponse {
        HTTPResponse.json(200, context.services.poolStatus.statusJSON())
    }
}

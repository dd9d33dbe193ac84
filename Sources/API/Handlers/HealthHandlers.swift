import HTTP
import JSON

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
    /// page, with the answer cache and answer files counters of the worker that serves it (`answerCache`, with
    /// its pid, and `answerFiles`); it touches no database. nginx serves it on loopback only. A query (php-fpm's
    /// `?full`) is ignored.
    static func status(_ context: RequestContext) throws -> HTTPResponse {
        let services = context.services
        return HTTPResponse.json(200, services.poolStatus.statusJSON { writer in
            writer.key("answerCache")
            services.answers.writeStatus(to: &writer)
            if let files = services.answerFiles {
                writer.key("answerFiles")
                files.writeStatus(to: &writer)
            }
        })
    }
}

import HTTP

/// Liveness and readiness.
enum HealthHandlers {
    /// GET /ping: `pong`, without touching the database.
    static func ping(_ context: RequestContext) throws(APIError) -> HTTPResponse {
        try Input(query: context.request.query, allowed: []).finish()
        return HTTPResponse.text(200, "pong")
    }

    /// GET /health: 200 when PostgreSQL answers within a second, else 503.
    static func health(_ context: RequestContext) throws(APIError) -> HTTPResponse {
        try Input(query: context.request.query, allowed: []).finish()
        if context.services.database.ping(timeout: 1) {
            return HTTPResponse.json(200, Array(#"{"status":"ok"}"#.utf8))
        }
        return HTTPResponse.json(503, Array(#"{"status":"unavailable"}"#.utf8))
    }
}

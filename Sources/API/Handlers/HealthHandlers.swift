import HTTP
import JSON
import Platform

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
    /// page, and the answer cache and answer files counters of the worker that serves it (`answerCache`, with
    /// its pid, and `answerFiles`); it touches no database. nginx serves it on loopback only. A query (php-fpm's `?full`) is ignored.
    static func status(_ context: RequestContext) throws -> HTTPResponse {
        var body = context.services.poolStatus.statusJSON()
        guard body.last == UInt8(ascii: "}") else { return HTTPResponse.json(200, body) }
        let answers = context.services.answers
        let statistics = answers.statistics
        var cache = JSONWriter(capacity: 160)
        cache.beginObject()
        cache.key("pid"); cache.int(Int(Processes.currentID()))
        cache.key("maxBytes"); cache.int(answers.maxBytes)
        cache.key("entries"); cache.int(statistics.entries)
        cache.key("bytes"); cache.int(statistics.bytes)
        cache.key("hits"); cache.int(statistics.hits)
        cache.key("misses"); cache.int(statistics.misses)
        cache.key("evictions"); cache.int(statistics.evictions)
        cache.endObject()
        body.removeLast()
        body.append(contentsOf: Array(#","answerCache":"#.utf8))
        body.append(contentsOf: cache.bytes)
        if let files = context.services.answerFiles {
            let counters = files.counters
            var writer = JSONWriter(capacity: 160)
            writer.beginObject()
            writer.key("directory"); writer.string(files.directory)
            writer.key("limit"); writer.int(files.limit)
            writer.key("hits"); writer.int(counters.hits)
            writer.key("misses"); writer.int(counters.misses)
            writer.key("writes"); writer.int(counters.writes)
            writer.key("failedWrites"); writer.int(counters.failedWrites)
            writer.key("prunes"); writer.int(counters.prunes)
            writer.endObject()
            body.append(contentsOf: Array(#","answerFiles":"#.utf8))
            body.append(contentsOf: writer.bytes)
        }
        body.append(UInt8(ascii: "}"))
        return HTTPResponse.json(200, body)
    }
}

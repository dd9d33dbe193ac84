import HTTP

/// Headers every answer carries (SPEC §5): the request id, and `Cache-Control: private, no-cache` (clients
/// revalidate with the ETag instead of reusing a stale copy).
struct ResponseHeaders: Middleware {
    func handle(_ context: inout RequestContext,
                next: (inout RequestContext) throws -> HTTPResponse) throws -> HTTPResponse {
        var response = try next(&context)
        response.setHeader("X-Request-Id", context.request.requestID)
        response.setHeader("Cache-Control", "private, no-cache")
        return response
    }
}

import HTTP

/// 413 for a body over the pool's cap (the pool read at most the cap and drained the rest).
struct BodyLimits: Middleware {
    func handle(_ context: inout RequestContext,
                next: (inout RequestContext) throws -> HTTPResponse) throws -> HTTPResponse {
        if context.request.bodyExceededLimit {
            throw APIError(413, .payloadTooLarge, "The request body is larger than allowed")
        }
        return try next(&context)
    }
}

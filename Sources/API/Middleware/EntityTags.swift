import HTTP

/// Conditional GETs (SPEC §5): an answer whose ETag the client already holds (`If-None-Match`) becomes a 304
/// without a body. Handlers that can tell before reading the data answer 304 themselves
/// (`RequestContext.clientHasCurrent`), so a current client costs one cheap query.
struct EntityTags: Middleware {
    func handle(_ context: inout RequestContext,
                next: (inout RequestContext) throws -> HTTPResponse) throws -> HTTPResponse {
        let response = try next(&context)
        guard response.status == 200, let tag = response.header("ETag"), context.clientHasCurrent(tag) else {
            return response
        }
        return .notModified(tag)
    }
}

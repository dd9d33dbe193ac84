import HTTP

/// One step of the request pipeline: it may answer by itself, or pass the request on with `next` and look at
/// (or change) the answer that comes back.
protocol Middleware: Sendable {
    func handle(_ context: inout RequestContext,
                next: (inout RequestContext) throws -> HTTPResponse) throws -> HTTPResponse
}

/// Middleware in order, then the matched route's handler. The first middleware must not throw: it is the
/// one that turns errors into answers (`Routes.pipeline`).
struct Pipeline: Sendable {
    let middleware: [any Middleware]

    func respond(_ context: inout RequestContext) -> HTTPResponse {
        do {
            return try step(0, &context)
        } catch {
            // Unreachable while ErrorResponses is in the chain; a plain 500 rather than a trap otherwise.
            return HTTPResponse.json(500, APIError.internalError.envelope(handler: "router", requestID: context.request.requestID))
        }
    }

    private func step(_ index: Int, _ context: inout RequestContext) throws -> HTTPResponse {
        guard index < middleware.count else {
            guard let route = context.route else { throw APIError.notFound("No such route") }
            return try route.run(context)
        }
        return try middleware[index].handle(&context) { context in try step(index + 1, &context) }
    }
}

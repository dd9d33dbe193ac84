import HTTP

/// Finds the route: 404 for an unknown path, 405 with `Allow` for a known path and another method.
struct RouteLookup: Middleware {
    let table: Router<Route>

    func handle(_ context: inout RequestContext,
                next: (inout RequestContext) throws -> HTTPResponse) throws -> HTTPResponse {
        switch table.match(method: context.request.method, path: context.request.path) {
        case .found(let route):
            context.route = route
            return try next(&context)
        case .methodNotAllowed(let allowed):
            var error = APIError(405, .methodNotAllowed,
                                 "\(context.request.method.prefix(16)) is not allowed here; use \(allowed.joined(separator: ", "))")
            error.headers = [("Allow", allowed.joined(separator: ", "))]
            throw error
        case .notFound:
            throw APIError.notFound("No such route")
        }
    }
}

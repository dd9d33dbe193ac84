import Auth
import HTTP

/// A route: its handler, the name reported in error bodies, and whether it needs a token.
struct Route: Sendable {
    let handler: String
    let needsToken: Bool
    let run: @Sendable (RequestContext) throws -> HTTPResponse
}

/// Every route of SPEC §5.3 with its aliases, and the pipeline a request goes through. The pool knows nothing
/// of these; adding a route is a line here.
enum Routes {
    /// A request, top to bottom.
    static func pipeline(authorizer: Authorizer) -> Pipeline {
        Pipeline(middleware: [
            ResponseHeaders(),              // X-Request-Id and Cache-Control on every answer, errors included
            ErrorResponses(),               // any error below becomes the JSON envelope (the one place)
            BodyLimits(),                   // 413 past the body cap
            RouteLookup(table: table),      // 404, or 405 with Allow
            Authorization(authorizer: authorizer), // the caller's identity, or 401 (routes that need no token pass)
            ContentRules(),                 // a GET has no body; a POST body is UTF-8 JSON (415 otherwise)
            EntityTags(),                   // 304 when the client's ETag is current
        ])
    }

    static let table: Router<Route> = {
        var router = Router<Route>()
        func add(_ method: String, _ paths: [String], _ handler: String, needsToken: Bool = true,
                 _ run: @escaping @Sendable (RequestContext) throws -> HTTPResponse) {
            router.add(method, paths, Route(handler: handler, needsToken: needsToken, run: run))
        }
        add("GET", ["/wrapped/data", "/wrapped/all"], "wrapped", WrappedHandlers.all)
        add("POST", ["/wrapped/data", "/wrapped/update"], "wrapped", WrappedHandlers.optIn)
        add("GET", ["/wrapped/month"], "wrapped", WrappedHandlers.month)
        add("GET", ["/wrapped/year"], "wrapped", WrappedHandlers.year)
        add("GET", ["/user/user-table", "/user/data"], "user", UserHandlers.get)
        add("POST", ["/user/user-table", "/user/update"], "user", UserHandlers.update)
        add("GET", ["/release-radar/history"], "release-radar", ReleaseRadarHandlers.history)
        add("GET", ["/release-radar/check"], "release-radar", ReleaseRadarHandlers.check)
        add("POST", ["/auth/login"], "auth", needsToken: false, AuthHandlers.login)
        add("GET", ["/health"], "health", needsToken: false, HealthHandlers.health)
        add("GET", ["/ping"], "ping", needsToken: false, HealthHandlers.ping)
        // The pool's status page: nginx serves it on loopback only.
        add("GET", ["/status"], "status", needsToken: false, HealthHandlers.status)
        return router
    }()
}

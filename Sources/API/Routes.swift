import HTTP

/// A route: its handler, the name reported in error bodies, and whether it needs a token.
struct Route: Sendable {
    let handler: String
    let public_: Bool
    let run: @Sendable (RequestContext) throws(APIError) -> HTTPResponse
}

/// Every route of SPEC §5.3 with its aliases. The pool knows nothing of these; adding a route is a line here.
enum Routes {
    static let table: Router<Route> = {
        var router = Router<Route>()
        func add(_ method: String, _ paths: [String], _ handler: String, public_: Bool = false,
                 _ run: @escaping @Sendable (RequestContext) throws(APIError) -> HTTPResponse) {
            router.add(method, paths, Route(handler: handler, public_: public_, run: run))
        }
        add("GET", ["/wrapped/data", "/wrapped/all"], "wrapped", WrappedHandlers.all)
        add("POST", ["/wrapped/data", "/wrapped/update"], "wrapped", WrappedHandlers.optIn)
        add("GET", ["/wrapped/month"], "wrapped", WrappedHandlers.month)
        add("GET", ["/wrapped/year"], "wrapped", WrappedHandlers.year)
        add("GET", ["/user/user-table", "/user/data"], "user", UserHandlers.get)
        add("POST", ["/user/user-table", "/user/update"], "user", UserHandlers.update)
        add("GET", ["/release-radar/history"], "release-radar", ReleaseRadarHandlers.history)
        add("GET", ["/release-radar/check"], "release-radar", ReleaseRadarHandlers.check)
        add("POST", ["/auth/login"], "auth", public_: true, AuthHandlers.login)
        add("GET", ["/health"], "health", public_: true, HealthHandlers.health)
        add("GET", ["/ping"], "ping", public_: true, HealthHandlers.ping)
        return router
    }()
}

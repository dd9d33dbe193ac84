/// Maps (method, path) to a handler. Paths are exact (this API has no path parameters); a known path with
/// another method is a 405 carrying `Allow`, an unknown path a 404. HEAD is not routed.
public struct Router<Handler>: Sendable where Handler: Sendable {
    public enum Match {
        case found(Handler)
        case methodNotAllowed(allowed: [String])
        case notFound
    }

    private var routes: [String: [String: Handler]] = [:]

    public init() {}

    /// Registers `handler` for `method` on each of `paths` (a route and its aliases).
    public mutating func add(_ method: String, _ paths: [String], _ handler: Handler) {
        for path in paths {
            routes[path, default: [:]][method] = handler
        }
    }

    public func match(method: String, path: String) -> Match {
        // nginx may pass a trailing slash through; "/wrapped/data/" is the same resource.
        var key = path
        if key.count > 1 && key.hasSuffix("/") { key.removeLast() }
        guard let methods = routes[key] else { return .notFound }
        if let handler = methods[method] { return .found(handler) }
        return .methodNotAllowed(allowed: methods.keys.sorted())
    }
}

import JSON

/// What the pool calls for each request. One responder serves one thread, so it may own per-thread state
/// (a database connection) without locks.
public protocol Responder: AnyObject {
    func respond(to request: HTTPRequest) -> HTTPResponse
}

/// Makes the responder of each pool thread; created once per worker process after it starts.
public protocol ResponderFactory: Sendable {
    /// `poolStatus` reports on the pool the responder runs in (its status page is a route like the others).
    func makeResponder(thread: Int, poolStatus: any PoolStatusSource) -> any Responder
}

/// The pool's own report, in the manner of php-fpm's status page: the pool renders it, a route serves it.
public protocol PoolStatusSource: Sendable {
    /// The report as a JSON object; `adding` writes further members (keys and values) into it after the pool's own.
    func statusJSON(adding: (inout JSONWriter) -> Void) -> [UInt8]
}

extension PoolStatusSource {
    public func statusJSON() -> [UInt8] { statusJSON(adding: { _ in }) }
}

/// What the pool calls for each request. One responder serves one thread, so it may own per-thread state
/// (a database connection) without locks.
public protocol Responder: AnyObject {
    func respond(to request: HTTPRequest) -> HTTPResponse
}

/// Makes the responder of each pool thread; created once per worker process after it starts.
public protocol ResponderFactory: Sendable {
    func makeResponder(thread: Int) -> any Responder
}

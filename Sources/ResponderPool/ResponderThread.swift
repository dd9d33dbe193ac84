import FastCGI
import HTTP
import Log
import Platform

/// One responder thread: waits for work (the worker's `WorkerEvents`: the listening socket and the parked
/// connections), reads the request from its connection, hands it to the responder and writes the answer. A
/// connection is read only once its whole request is there (`RequestScan`, on bytes peeked from the socket);
/// until then it waits, parked, and holds no thread. A connection the web server keeps (FCGI_KEEP_CONN) is parked
/// again after its answer, so its next request goes to whichever thread is free. Threads never end on their own:
/// the worker process exits once a drain has served every connection it accepted.
final class ResponderThread: Sendable {
    private let index: Int
    private let slot: Int
    private let listening: ListeningSocket
    private let events: WorkerEvents
    private let connections: WorkerConnections
    private let activity: ThreadActivity
    private let state: WorkerState
    private let scoreboard: Scoreboard
    private let options: PoolOptions
    private let poolStatus: PoolStatus
    private let factory: any ResponderFactory
    private let log = Logger("pool")

    init(index: Int, slot: Int, listening: ListeningSocket, events: WorkerEvents, connections: WorkerConnections,
         activity: ThreadActivity, state: WorkerState, scoreboard: Scoreboard, options: PoolOptions,
         poolStatus: PoolStatus, factory: any ResponderFactory) {
        self.index = index
        self.slot = slot
        self.listening = listening
        self.events = events
        self.connections = connections
        self.activity = activity
        self.state = state
        self.scoreboard = scoreboard
        self.options = options
        self.poolStatus = poolStatus
        self.factory = factory
    }

    /// Bytes of a connection looked at before its request is read: requests larger than this (a body near the
    /// cap) are read without being seen whole first, under the watchdog's read timeout.
    static let peekBytes = 16384

    func run() -> Never {
        let responder = factory.makeResponder(thread: index, poolStatus: poolStatus)
        let exchange = FastCGIRequest()
        let peekBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: ResponderThread.peekBytes, alignment: 8)
        while true {
            let connection: Int32
            let arrivingSince: UInt64
            switch events.wait(timeoutMilliseconds: 1000) {
            case .connection:
                connections.taking()
                let accepted = listening.accept(ioTimeoutSeconds: options.ioTimeoutSeconds)
                events.rearmListening()
                switch accepted {
                case .connection(let fd):
                    connection = fd
                    arrivingSince = Monotonic.nanoseconds()
                case .none:
                    connections.release(closing: nil)
                    continue
                case .failed(let error):
                    // Out of descriptors, most likely: back off instead of spinning on a socket that stays readable.
                    connections.release(closing: nil)
                    log.warning("accept failed", ["error": error.description])
                    sleep(seconds: 0.01)
                    continue
                }
            case .parked(let tag):
                guard let (fd, since) = connections.claim(tag) else { continue }
                connection = fd
                arrivingSince = since ?? Monotonic.nanoseconds()
            case .timeout:
                continue
            }
            switch ConnectedSocket.peek(connection, into: peekBuffer) {
            case .ended:
                connections.release(closing: connection)
            case .nothing:
                connections.park(connection, arrivingSince: arrivingSince)
            case .bytes(let count) where count == peekBuffer.count:
                // Too large to see whole: read as it comes, under the watchdog's read timeout.
                serve(connection, exchange: exchange, responder: responder)
            case .bytes(let count):
                switch RequestScan.of(UnsafeRawBufferPointer(rebasing: peekBuffer[..<count])) {
                case .complete, .unreadable:
                    serve(connection, exchange: exchange, responder: responder)
                case .incomplete where ConnectedSocket.peerIsDone(connection):
                    // Its sender is done: the request will never be whole.
                    connections.release(closing: connection)
                case .incomplete:
                    connections.park(connection, arrivingSince: arrivingSince, resting: true)
                case .refused:
                    log.warning("connection closed: a parameter is longer than allowed",
                                ["limit_bytes": RequestScan.largestParameter])
                    connections.release(closing: connection)
                }
            }
        }
    }

    /// Serves one request from `connection`, then parks the connection (kept) or closes it.
    private func serve(_ connection: Int32, exchange: FastCGIRequest, responder: any Responder) {
        activity.reading(connection)
        guard exchange.read(from: connection) else {
            // Ended, broken, or cut off by the watchdog before its parameters were in.
            activity.idle()
            connections.release(closing: connection)
            return
        }
        var request = makeRequest(exchange)
        guard activity.serving(request.method + " " + request.path) else {
            // Cut off while its body was read: there is no whole request to answer.
            _ = exchange.finish()
            activity.idle()
            connections.release(closing: connection)
            return
        }
        let started = Monotonic.nanoseconds()
        scoreboard.add(slot, .busy)
        let response = responder.respond(to: request)
        _ = exchange.respond(head: response.cgiHead(), body: request.method == "HEAD" ? [] : response.body)
        let keep = exchange.finish()
        request.body = []
        activity.idle()
        if keep {
            connections.park(connection, arrivingSince: nil)
        } else {
            connections.release(closing: connection)
        }

        let seconds = Double(Monotonic.nanoseconds() - started) / 1e9
        scoreboard.subtract(slot, .busy)
        scoreboard.add(slot, .requests)
        if seconds > options.slowRequestSeconds {
            scoreboard.add(slot, .slowRequests)
            log.warning("slow request", ["request_id": request.requestID, "method": request.method, "path": request.path,
                                         "status": response.status, "ms": Int(seconds * 1000)])
        }
        let served = state.served.add(1, ordering: .relaxed).newValue
        if options.maxRequestsPerWorker > 0 && served >= options.maxRequestsPerWorker {
            // The request budget is spent: the worker's main thread drains it, and the supervisor starts a fresh one.
            state.budgetSpent.store(true, ordering: .relaxed)
        }
    }

    /// The parameters `makeRequest` reads: HTTP_* and the few CGI ones below.
    private static let readNames: [[UInt8]] = ["REQUEST_METHOD", "DOCUMENT_URI", "REQUEST_URI", "QUERY_STRING",
                                               "CONTENT_TYPE", "CONTENT_LENGTH", "REQUEST_ID", "REMOTE_ADDR"].map { Array($0.utf8) }

    private static func isRead(_ name: UnsafeBufferPointer<UInt8>) -> Bool {
        if name.starts(with: "HTTP_".utf8) { return true }
        return readNames.contains { name.elementsEqual($0) }
    }

    private func makeRequest(_ exchange: FastCGIRequest) -> HTTPRequest {
        var method = "GET"
        var path = "/"
        var query = ""
        var headers: [String: String] = [:]
        var requestID: String?
        var remote = ""
        var documentURI: String?
        for (name, value) in exchange.parameters(where: ResponderThread.isRead) {
            switch name {
            case "REQUEST_METHOD": method = value
            case "DOCUMENT_URI": documentURI = value
            case "REQUEST_URI":
                if let mark = value.firstIndex(of: "?") { path = String(value[..<mark]) } else { path = value }
            case "QUERY_STRING": query = value
            case "CONTENT_TYPE": if !value.isEmpty { headers["content-type"] = value }
            case "CONTENT_LENGTH": if !value.isEmpty { headers["content-length"] = value }
            case "REQUEST_ID": requestID = value
            case "REMOTE_ADDR": remote = value
            default:
                if name.hasPrefix("HTTP_") { headers[HTTPRequest.headerName(cgiParameter: name)] = value }
            }
        }
        if let documentURI { path = documentURI }
        // nginx passes $request_id as REQUEST_ID; a client's own X-Request-Id is used only when nginx gave none.
        let acceptedID = (requestID ?? headers["x-request-id"]).flatMap { RequestID.isAcceptable($0) ? $0 : nil }
        var body: [UInt8] = []
        var tooLarge = false
        do {
            body = try exchange.readBody(limit: options.maxBodyBytes)
        } catch {
            tooLarge = error == .tooLarge
        }
        return HTTPRequest(method: method, path: path, query: query, headers: headers, body: body,
                           bodyExceededLimit: tooLarge, requestID: acceptedID ?? RequestID.make(), remoteAddress: remote)
    }
}

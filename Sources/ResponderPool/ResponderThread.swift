import FastCGI
import HTTP
import Log
import Platform

/// One responder thread: waits for work (the worker's `WorkerEvents`: the listening socket, the parked connections
/// and the wake pipe, because a thread blocked in a read cannot be woken), reads the request from its connection, hands
/// it to the responder and writes the answer. A connection the web server keeps (FCGI_KEEP_CONN) is parked
/// afterwards, so its next request goes to whichever thread is free.
final class ResponderThread: Sendable {
    private let index: Int
    private let slot: Int
    private let listening: ListeningSocket
    private let wake: WakePipe
    private let events: WorkerEvents
    private let kept: KeptConnections
    private let activity: ThreadActivity
    private let state: WorkerState
    private let scoreboard: Scoreboard
    private let options: PoolOptions
    private let poolStatus: PoolStatus
    private let factory: any ResponderFactory
    private let log = Logger("pool")

    init(index: Int, slot: Int, listening: ListeningSocket, wake: WakePipe, events: WorkerEvents, kept: KeptConnections,
         activity: ThreadActivity, state: WorkerState, scoreboard: Scoreboard, options: PoolOptions,
         poolStatus: PoolStatus, factory: any ResponderFactory) {
        self.index = index
        self.slot = slot
        self.listening = listening
        self.wake = wake
        self.events = events
        self.kept = kept
        self.activity = activity
        self.state = state
        self.scoreboard = scoreboard
        self.options = options
        self.poolStatus = poolStatus
        self.factory = factory
    }

    func run() {
        let responder = factory.makeResponder(thread: index, poolStatus: poolStatus)
        let exchange = FastCGIRequest()
        while !state.draining.load(ordering: .relaxed) {
            let connection: Int32
            switch events.wait(timeoutMilliseconds: 1000) {
            case .connection:
                let accepted = listening.accept(ioTimeoutSeconds: options.ioTimeoutSeconds)
                events.rearmListening()
                switch accepted {
                case .connection(let fd):
                    connection = fd
                case .none:
                    continue
                case .failed(let error):
                    // Out of descriptors, most likely: back off instead of spinning on a socket that stays readable.
                    log.warning("accept failed", ["error": error.description])
                    sleep(seconds: 0.01)
                    continue
                }
            case .parked(let tag):
                guard let fd = kept.claim(tag) else { continue }
                connection = fd
            case .wake, .timeout:
                continue
            }
            serve(connection, exchange: exchange, responder: responder)
        }
    }

    /// Serves one request from `connection`, then parks the connection (kept) or closes it.
    private func serve(_ connection: Int32, exchange: FastCGIRequest, responder: any Responder) {
        activity.reading(connection)
        guard exchange.read(from: connection) else {
            // Ended, broken, or cut off by the watchdog before its parameters were in.
            activity.idle()
            ConnectedSocket.close(connection)
            return
        }
        var request = makeRequest(exchange)
        guard activity.serving(request.method + " " + request.path) else {
            // Cut off while its body was read: there is no whole request to answer.
            _ = exchange.finish()
            activity.idle()
            ConnectedSocket.close(connection)
            return
        }
        let started = Monotonic.nanoseconds()
        scoreboard.add(slot, .busy)
        let response = responder.respond(to: request)
        exchange.write(response.cgiHead())
        if request.method != "HEAD" { exchange.write(response.body) }
        let keep = exchange.finish()
        request.body = []
        activity.idle()
        if keep && !state.draining.load(ordering: .relaxed) {
            kept.park(connection)
        } else {
            ConnectedSocket.close(connection)
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
        if options.maxRequestsPerWorker > 0 && served >= options.maxRequestsPerWorker
            && !state.draining.exchange(true, ordering: .relaxed) {
            // The request budget is spent: drain and let the supervisor start a fresh worker.
            scoreboard.setState(slot, .draining)
            wake.wake()
        }
    }

    private func makeRequest(_ exchange: FastCGIRequest) -> HTTPRequest {
        var method = "GET"
        var path = "/"
        var query = ""
        var headers: [String: String] = [:]
        var requestID: String?
        var remote = ""
        var documentURI: String?
        for (name, value) in exchange.parameters() {
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

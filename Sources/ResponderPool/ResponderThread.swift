import FastCGI
import HTTP
import Log
import Platform

/// One responder thread: waits for a connection (epoll on the listening socket and the wake pipe, because a
/// thread blocked inside libfcgi's accept cannot be woken), reads the request, hands it to the responder and
/// writes the answer.
final class ResponderThread: Sendable {
    private let index: Int
    private let slot: Int
    private let listenFD: Int32
    private let wake: WakePipe
    private let state: WorkerState
    private let scoreboard: Scoreboard
    private let options: PoolOptions
    private let poolStatus: PoolStatus
    private let factory: any ResponderFactory
    private let log = Logger("pool")

    init(index: Int, slot: Int, listenFD: Int32, wake: WakePipe, state: WorkerState, scoreboard: Scoreboard,
         options: PoolOptions, poolStatus: PoolStatus, factory: any ResponderFactory) {
        self.index = index
        self.slot = slot
        self.listenFD = listenFD
        self.wake = wake
        self.state = state
        self.scoreboard = scoreboard
        self.options = options
        self.poolStatus = poolStatus
        self.factory = factory
    }

    func run() {
        let responder = factory.makeResponder(thread: index, poolStatus: poolStatus)
        let exchange = FastCGIRequest(listeningSocket: listenFD)
        let waiter: AcceptorWait
        do {
            waiter = try AcceptorWait(listenFD: listenFD, wake: wake)
        } catch {
            log.error("cannot wait for connections", ["error": error.description])
            return
        }
        while !state.draining.load(ordering: .relaxed) {
            guard waiter.wait(timeoutMilliseconds: 1000) == .connection else { continue }
            switch exchange.accept() {
            case .wouldBlock:
                continue
            case .failed(let code):
                log.warning("accept failed", ["errno": code])
                sleep(seconds: 0.01)
                continue
            case .accepted:
                serve(exchange, responder: responder)
            }
        }
    }

    private func serve(_ exchange: FastCGIRequest, responder: any Responder) {
        let started = Monotonic.nanoseconds()
        scoreboard.add(slot, .busy)
        var request = makeRequest(exchange)
        let response = responder.respond(to: request)
        exchange.write(response.cgiHead())
        if request.method != "HEAD" { exchange.write(response.body) }
        exchange.finish()
        request.body = []

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

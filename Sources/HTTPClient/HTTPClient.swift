import CCurl
import CCurlShim
import Platform
import Synchronization

/// An HTTP client over the libcurl multi interface: one event-loop thread drives every transfer, so many
/// requests are in flight at once from one thread, sharing connections (keep-alive, HTTP/2 multiplexing where
/// offered). Callers `await` their response from any task or thread.
public final class HTTPClient: Sendable {
    private struct Pending: Sendable {
        let request: HTTPClientRequest
        let completion: @Sendable (Result<HTTPClientResponse, HTTPClientError>) -> Void
    }

    /// Sendable by hand: the loop thread alone drives the multi handle; other threads only call
    /// `curl_multi_wakeup`, which libcurl documents as safe to call from any thread.
    private struct Multi: @unchecked Sendable { let handle: UnsafeMutableRawPointer }

    private let multi: Multi
    /// Submissions waiting for the loop thread, shared by reference with it.
    private final class SubmissionQueue: Sendable {
        let state = Mutex<(pending: [Pending], stopping: Bool)>(([], false))
    }

    private let queue = SubmissionQueue()
    private let thread = Mutex<OSThread?>(nil)

    /// `maxConnections` bounds the connections libcurl opens in total.
    public init(maxConnections: Int = 16) throws(HTTPClientError) {
        HTTPClient.globalInit
        guard let handle = curl_multi_init() else { throw .invalidRequest("curl_multi_init failed") }
        for (option, value) in [(CURLMOPT_MAX_TOTAL_CONNECTIONS, maxConnections), (CURLMOPT_MAX_HOST_CONNECTIONS, maxConnections),
                                (CURLMOPT_PIPELINING, Int(CURLPIPE_MULTIPLEX))] {
            let result = xcurl_multi_setopt_long(handle, option, value)
            guard result == CURLM_OK else {
                curl_multi_cleanup(handle)
                throw .invalidRequest("curl_multi_setopt: \(String(cString: curl_multi_strerror(result)))")
            }
        }
        multi = Multi(handle: handle)
        let loop = EventLoop(multi: handle, queue: queue)
        do {
            let started = try OSThread.start(name: "xomify-http") { loop.run() }
            thread.withLock { $0 = started }
        } catch {
            // deinit runs for an object that throws once initialised: marked stopping, it leaves the handle alone.
            queue.state.withLock { $0.stopping = true }
            curl_multi_cleanup(handle)
            throw .invalidRequest("cannot start the client thread: \(error)")
        }
    }

    /// libcurl's global setup, once per process, before any other thread uses it.
    private static let globalInit: Void = { curl_global_init(Int(CURL_GLOBAL_DEFAULT)) }()

    /// Sends `request` and waits for its response.
    public func send(_ request: HTTPClientRequest) async throws(HTTPClientError) -> HTTPClientResponse {
        let result = await withCheckedContinuation { (continuation: CheckedContinuation<Result<HTTPClientResponse, HTTPClientError>, Never>) in
            submit(request) { continuation.resume(returning: $0) }
        }
        return try result.get()
    }

    /// Sends `request`; `completion` runs on the client's thread when it is done.
    public func submit(_ request: HTTPClientRequest,
                       completion: @escaping @Sendable (Result<HTTPClientResponse, HTTPClientError>) -> Void) {
        let multi = self.multi
        let accepted = queue.state.withLock { state -> Bool in
            guard !state.stopping else { return false }
            state.pending.append(Pending(request: request, completion: completion))
            // Under the lock: the loop frees the multi handle only after it has seen `stopping`.
            curl_multi_wakeup(multi.handle)
            return true
        }
        if !accepted { completion(.failure(.shutDown)) }
    }

    /// Fails what is queued or in flight and stops the thread.
    public func shutdown() {
        let multi = self.multi
        queue.state.withLock { state in
            guard !state.stopping else { return }
            state.stopping = true
            curl_multi_wakeup(multi.handle)
        }
        let running = thread.withLock { current -> OSThread? in
            defer { current = nil }
            return current
        }
        guard let running else { return }
        // A completion that drops the last reference runs on the loop thread: never wait for oneself there (the
        // loop ends by itself once this returns).
        if running.isCurrent { running.detach() } else { running.join() }
    }

    deinit {
        shutdown()
    }

    /// The thread's loop: add what was submitted, let libcurl work, complete what finished, sleep in poll.
    /// Sendable by hand: it is handed to the loop thread at start and used by that thread alone.
    private final class EventLoop: @unchecked Sendable {
        let multi: UnsafeMutableRawPointer
        let queue: SubmissionQueue
        var active: [UnsafeMutableRawPointer: Transfer] = [:]

        init(multi: UnsafeMutableRawPointer, queue: SubmissionQueue) {
            self.multi = multi
            self.queue = queue
        }

        func run() {
            while true {
                let (pending, stopping) = queue.state.withLock { state -> ([Pending], Bool) in
                    defer { state.pending.removeAll() }
                    return (state.pending, state.stopping)
                }
                if stopping {
                    for item in pending { item.completion(.failure(.shutDown)) }
                    for (context, transfer) in active {
                        curl_multi_remove_handle(multi, transfer.handle)
                        transfer.completion(.failure(.shutDown))
                        Unmanaged<Transfer>.fromOpaque(context).release()
                    }
                    active.removeAll()
                    // The loop owns the handle from here: nobody wakes it once `stopping` is set.
                    curl_multi_cleanup(multi)
                    return
                }
                for item in pending { start(item) }
                var running: Int32 = 0
                curl_multi_perform(multi, &running)
                collectFinished()
                var ready: Int32 = 0
                curl_multi_poll(multi, nil, 0, 1000, &ready)
            }
        }

        private func start(_ item: Pending) {
            guard let transfer = Transfer(request: item.request, completion: item.completion) else {
                item.completion(.failure(.invalidRequest("curl_easy_init failed")))
                return
            }
            let context = Unmanaged.passRetained(transfer).toOpaque()
            do {
                try transfer.configure(context: context)
            } catch {
                Unmanaged<Transfer>.fromOpaque(context).release()
                item.completion(.failure(error))
                return
            }
            let added = curl_multi_add_handle(multi, transfer.handle)
            guard added == CURLM_OK else {
                Unmanaged<Transfer>.fromOpaque(context).release()
                item.completion(.failure(.invalidRequest("curl_multi_add_handle: \(String(cString: curl_multi_strerror(added)))")))
                return
            }
            active[context] = transfer
        }

        private func collectFinished() {
            var remaining: Int32 = 0
            while let message = curl_multi_info_read(multi, &remaining) {
                guard message.pointee.msg == CURLMSG_DONE, let easy = message.pointee.easy_handle else { continue }
                let code = message.pointee.data.result
                var raw: UnsafeMutableRawPointer?
                xcurl_easy_getinfo_pointer(easy, CURLINFO_PRIVATE, &raw)
                curl_multi_remove_handle(multi, easy)
                guard let context = raw, let transfer = active.removeValue(forKey: context) else { continue }
                let outcome = transfer.outcome(code)
                Unmanaged<Transfer>.fromOpaque(context).release()
                transfer.completion(outcome)
            }
        }
    }
}

#if canImport(Glibc)
import Glibc
#endif
import CFastCGI

/// Why reading a request body stopped.
public enum BodyReadError: Error, Sendable, Equatable {
    /// The body is longer than the cap (the rest was read and discarded so the connection stays clean).
    case tooLarge
    /// The web server went away mid-body.
    case truncated
}

/// One responder thread's libfcgi request slot. `FCGX_Request` lives at a stable heap address for its whole
/// life (libfcgi keeps pointers into it), and is never shared between threads.
///
/// libfcgi never accepts here: the pool accepts connections itself (so that it can bound how long one may take to
/// send its request, and serve a kept connection's next request as soon as it comes) and hands each request's
/// connection in with `read(from:)`. libfcgi closes the descriptors it reads from when a connection fails or
/// ends, so it is given a duplicate: the caller's descriptor stays the caller's, to park, shut down or close.
public final class FastCGIRequest {
    private let request: UnsafeMutablePointer<FCGX_Request>
    /// The current request's input was read to its end (FCGI_STDIN's last record): nothing is left unread.
    private var inputRead = false
    /// `respond` sent the end of the output and FCGI_END_REQUEST itself.
    private var ended = false

    /// Initialises libfcgi once per process. Call after the caller has set its own signal dispositions
    /// (libfcgi only installs handlers where the disposition is still the default).
    public static func initializeLibrary() {
        _ = FCGX_Init()
    }

    public init() {
        request = UnsafeMutablePointer<FCGX_Request>.allocate(capacity: 1)
        request.initialize(to: FCGX_Request())
        // No listening socket: were libfcgi ever to try an accept of its own, it would fail at once (EBADF).
        FCGX_InitRequest(request, -1, 0)
    }

    deinit {
        FCGX_Free(request, 1)
        request.deinitialize(count: 1)
        request.deallocate()
    }

    /// Reads the next request's beginning and parameters from `connection`. False when there is none: the
    /// connection ended, failed, timed out or broke the protocol (then only the caller's descriptor is left, and
    /// the connection is of no further use).
    public func read(from connection: Int32) -> Bool {
        let copy = fcntl(connection, F_DUPFD_CLOEXEC, 0)
        guard copy >= 0 else { return false }
        // FCGX_Accept_r first finishes the previous exchange, closing the connection unless it is kept: marked
        // kept here, the copy survives that, and the request's own flag then comes from its FCGI_BEGIN_REQUEST.
        request.pointee.keepConnection = 1
        request.pointee.ipcFd = copy
        inputRead = false
        ended = false
        if FCGX_Accept_r(request) == 0 { return true }
        // On a failure libfcgi has closed the copy (and marked it -1), except when it never started.
        if request.pointee.ipcFd >= 0 {
            close(request.pointee.ipcFd)
            request.pointee.ipcFd = -1
        }
        return false
    }

    /// Flushes the answer and ends the exchange, so the web server sees it at once. True when the web server
    /// asked to keep the connection and it is still sound: it may carry the next request.
    public func finish() -> Bool {
        let kept = request.pointee.keepConnection != 0
        if ended {
            // The answer ended the request itself: libfcgi only frees the request's streams and parameters.
            FCGX_Free(request, 0)
            if request.pointee.ipcFd >= 0 { close(request.pointee.ipcFd) }
            request.pointee.ipcFd = -1
            return kept
        }
        // libfcgi ends a connection it closes with shutdown(2) and then waits for the web server to close first, so
        // that unread input cannot turn into a TCP reset that loses the answer. With the whole request read there
        // is nothing to reset, and that wait (a sleep and a wake-up per request) is skipped: libfcgi keeps its
        // copy, which is closed here at once. A failed exchange still takes libfcgi's own path.
        if inputRead { request.pointee.keepConnection = 1 }
        FCGX_Finish_r(request)
        guard request.pointee.ipcFd >= 0 else { return false }
        close(request.pointee.ipcFd)
        request.pointee.ipcFd = -1
        return kept
    }

    /// Every parameter of the current request, or those whose name's bytes `wanted` accepts (the others cost no
    /// strings: a request carries a dozen parameters nobody reads).
    public func parameters(where wanted: (UnsafeBufferPointer<UInt8>) -> Bool = { _ in true })
        -> [(name: String, value: String)] {
        var result: [(String, String)] = []
        guard var cursor = request.pointee.envp else { return result }
        while let entry = cursor.pointee {
            let raw = UnsafeRawPointer(entry).assumingMemoryBound(to: UInt8.self)
            let length = strlen(entry)
            let buffer = UnsafeBufferPointer(start: raw, count: length)
            if let eq = buffer.firstIndex(of: UInt8(ascii: "=")), wanted(UnsafeBufferPointer(rebasing: buffer[..<eq])) {
                let name = String(decoding: UnsafeBufferPointer(rebasing: buffer[..<eq]), as: UTF8.self)
                let value = String(decoding: UnsafeBufferPointer(rebasing: buffer[(eq + 1)...]), as: UTF8.self)
                result.append((name, value))
            }
            cursor += 1
        }
        return result
    }

    public func parameter(_ name: String) -> String? {
        guard let envp = request.pointee.envp, let value = FCGX_GetParam(name, envp) else { return nil }
        return String(cString: value)
    }

    /// Reads the request body, at most `limit` bytes. A longer body is drained (up to `drainLimit`) and
    /// refused with `.tooLarge`, so the web server can still read the answer.
    public func readBody(limit: Int, drainLimit: Int = 64 << 20) throws(BodyReadError) -> [UInt8] {
        var body: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16384)
        var total = 0
        while true {
            let count = chunk.withUnsafeMutableBufferPointer { buffer in
                buffer.baseAddress!.withMemoryRebound(to: CChar.self, capacity: buffer.count) {
                    FCGX_GetStr($0, Int32(buffer.count), request.pointee.in)
                }
            }
            if count <= 0 { break }
            total += Int(count)
            if total <= limit {
                body.append(contentsOf: chunk[0..<Int(count)])
            } else if total > drainLimit {
                throw .tooLarge
            }
        }
        if FCGX_GetError(request.pointee.in) != 0 { throw .truncated }
        inputRead = true
        if total > limit { throw .tooLarge }
        return body
    }

    /// Writes the whole answer (CGI head, then body) as FCGI_STDOUT records straight to the connection, in one
    /// sendmsg(2) from the answer's own memory. Through libfcgi's stream a 125 KB answer is copied into an 8 KB
    /// buffer and written (waking the web server) once per 8 KB. When the request's input has been read to its
    /// end, the same sendmsg ends the output and the request (FCGI_END_REQUEST), which libfcgi would write
    /// separately in `finish()`, waking the web server once more. False when the web server has gone away.
    public func respond(head: [UInt8], body: [UInt8]) -> Bool {
        let fd = request.pointee.ipcFd
        guard fd >= 0 else { return false }
        let requestID = UInt16(truncatingIfNeeded: request.pointee.requestId)
        // Records of at most 65,528 bytes (a multiple of 8, so none needs padding but the last, which is sent
        // without: padding is optional), each a header and a piece of head or body.
        let limit = 65_528
        var pieces: [(inBody: Bool, offset: Int, count: Int)] = []
        for (inBody, bytes) in [(false, head), (true, body)] {
            var offset = 0
            while offset < bytes.count {
                let count = min(limit, bytes.count - offset)
                pieces.append((inBody, offset, count))
                offset += count
            }
        }
        let high = UInt8(requestID >> 8), low = UInt8(requestID & 0xff)
        // The record headers, one per piece, then (when the input is all read) an FCGI_STDOUT with no content, the
        // end of the output, and FCGI_END_REQUEST: application status 0, FCGI_REQUEST_COMPLETE.
        var framing: [UInt8] = []
        framing.reserveCapacity(8 * pieces.count + 24)
        for piece in pieces {
            framing += [1, 6, high, low, UInt8(piece.count >> 8), UInt8(piece.count & 0xff), 0, 0]
        }
        let ends = inputRead
        if ends { framing += [1, 6, high, low, 0, 0, 0, 0, 1, 3, high, low, 0, 8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0] }
        guard !framing.isEmpty else { return true }
        let sent = framing.withUnsafeBytes { framingBytes in
            head.withUnsafeBytes { headBytes in
                body.withUnsafeBytes { bodyBytes in
                    var vectors: [iovec] = []
                    vectors.reserveCapacity(2 * pieces.count + 1)
                    func add(_ base: UnsafeRawPointer?, _ count: Int) {
                        vectors.append(iovec(iov_base: UnsafeMutableRawPointer(mutating: base), iov_len: count))
                    }
                    for (index, piece) in pieces.enumerated() {
                        add(framingBytes.baseAddress.map { $0 + 8 * index }, 8)
                        add((piece.inBody ? bodyBytes : headBytes).baseAddress.map { $0 + piece.offset }, piece.count)
                    }
                    if ends { add(framingBytes.baseAddress.map { $0 + 8 * pieces.count }, 24) }
                    return FastCGIRequest.send(fd, &vectors)
                }
            }
        }
        ended = sent && ends
        return sent
    }

    /// sendmsg(2) of every vector, again after a partial send; MSG_NOSIGNAL: a closed peer is an error, not a
    /// SIGPIPE.
    private static func send(_ fd: Int32, _ vectors: inout [iovec]) -> Bool {
        var first = 0
        while first < vectors.count {
            let sent = vectors.withUnsafeMutableBufferPointer { buffer -> Int in
                var message = msghdr()
                message.msg_iov = buffer.baseAddress! + first
                message.msg_iovlen = buffer.count - first
                return sendmsg(fd, &message, Int32(MSG_NOSIGNAL))
            }
            if sent < 0 {
                if errno == EINTR { continue }
                return false
            }
            var left = sent
            while first < vectors.count && left >= vectors[first].iov_len {
                left -= vectors[first].iov_len
                first += 1
            }
            if left > 0 {
                vectors[first].iov_base += left
                vectors[first].iov_len -= left
            }
        }
        return true
    }
}

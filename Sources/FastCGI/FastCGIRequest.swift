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
        FCGX_Finish_r(request)
        guard request.pointee.ipcFd >= 0 else { return false }
        close(request.pointee.ipcFd)
        request.pointee.ipcFd = -1
        return true
    }

    /// Every parameter of the current request.
    public func parameters() -> [(name: String, value: String)] {
        var result: [(String, String)] = []
        guard var cursor = request.pointee.envp else { return result }
        while let entry = cursor.pointee {
            let raw = UnsafeRawPointer(entry).assumingMemoryBound(to: UInt8.self)
            let length = strlen(entry)
            let buffer = UnsafeBufferPointer(start: raw, count: length)
            if let eq = buffer.firstIndex(of: UInt8(ascii: "=")) {
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
        if total > limit { throw .tooLarge }
        return body
    }

    /// Writes bytes to the response stream; false when the web server has gone away.
    @discardableResult
    public func write(_ bytes: [UInt8]) -> Bool {
        guard !bytes.isEmpty else { return true }
        var offset = 0
        return bytes.withUnsafeBufferPointer { buffer in
            buffer.baseAddress!.withMemoryRebound(to: CChar.self, capacity: buffer.count) { base in
                while offset < buffer.count {
                    let size = min(buffer.count - offset, 1 << 30)
                    let written = FCGX_PutStr(base + offset, Int32(size), request.pointee.out)
                    if written < 0 { return false }
                    offset += Int(written)
                }
                return true
            }
        }
    }
}

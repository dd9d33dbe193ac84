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

/// How an accept attempt ended.
public enum AcceptOutcome {
    case accepted
    /// Another acceptor took the connection (the listening socket is non-blocking): poll again.
    case wouldBlock
    case failed(errno: Int32)
}

/// One responder thread's libfcgi request slot. `FCGX_Request` lives at a stable heap address for its whole
/// life (libfcgi keeps pointers into it), and is never shared between threads.
public final class FastCGIRequest {
    private let request: UnsafeMutablePointer<FCGX_Request>

    /// Initialises libfcgi once per process. Call after the caller has set its own signal dispositions
    /// (libfcgi only installs handlers where the disposition is still the default).
    public static func initializeLibrary() {
        _ = FCGX_Init()
    }

    public init(listeningSocket fd: Int32) {
        request = UnsafeMutablePointer<FCGX_Request>.allocate(capacity: 1)
        request.initialize(to: FCGX_Request())
        FCGX_InitRequest(request, fd, 0)
    }

    deinit {
        FCGX_Free(request, 1)
        request.deinitialize(count: 1)
        request.deallocate()
    }

    /// Accepts the next connection and reads its parameters (finishing the previous request if still open).
    public func accept() -> AcceptOutcome {
        let result = FCGX_Accept_r(request)
        if result == 0 { return .accepted }
        let code = -result
        if code == EAGAIN || code == EWOULDBLOCK || code == EINTR { return .wouldBlock }
        return .failed(errno: code)
    }

    /// Flushes the response and closes the exchange, so the web server sees the answer at once.
    public func finish() {
        FCGX_Finish_r(request)
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

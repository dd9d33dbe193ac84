#if canImport(Glibc)
import Glibc
#endif
import CSystemShim

/// The pool's listening socket: a unix socket it binds itself, or one inherited on fd 0.
public struct ListeningSocket: Sendable {
    public let fd: Int32
    /// The path this process bound (and must remove on exit), nil for an inherited socket.
    public let boundPath: String?

    /// A socket this process already holds (a worker's inherited copy).
    public init(fd: Int32, boundPath: String? = nil) {
        self.fd = fd
        self.boundPath = boundPath
    }

    /// Binds a unix socket at `path` (replacing a stale one), mode 0660 so that only nginx's group reaches it.
    public static func bind(path: String, backlog: Int32) throws(SystemError) -> ListeningSocket {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw SystemError("socket") }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let pathBytes = Array(path.utf8)
        guard pathBytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
            Glibc.close(fd)
            throw SystemError("socket path too long: \(path)", code: ENAMETOOLONG)
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: pathBytes)
        }
        unlink(path)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard bound == 0 else {
            let error = SystemError("bind \(path)")
            Glibc.close(fd)
            throw error
        }
        chmod(path, 0o660)
        guard listen(fd, backlog) == 0 else {
            let error = SystemError("listen \(path)")
            Glibc.close(fd)
            throw error
        }
        return ListeningSocket(fd: fd, boundPath: path)
    }

    /// The socket systemd or spawn-fcgi passed on fd 0.
    public static func inherited(fd: Int32 = 0) throws(SystemError) -> ListeningSocket {
        var accepting: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        guard getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &accepting, &length) == 0, accepting == 1 else {
            throw SystemError("fd \(fd) is not a listening socket", code: ENOTSOCK)
        }
        return ListeningSocket(fd: fd, boundPath: nil)
    }

    /// Non-blocking accepts: an acceptor that loses the race gets EAGAIN and waits again instead of blocking
    /// where no signal can reach it.
    public func prepareForAcceptors() {
        let flags = fcntl(fd, F_GETFL)
        _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK)
    }

    public enum Accepted {
        case connection(Int32)
        /// Another acceptor took it first (or the peer gave up): wait again.
        case none
        case failed(SystemError)
    }

    /// Accepts one connection (close-on-exec, blocking I/O bounded by `ioTimeoutSeconds` per read or write: a
    /// unix socket does not inherit the listening socket's timeouts).
    public func accept(ioTimeoutSeconds: Int) -> Accepted {
        let connection = xsys_accept_cloexec(fd)
        guard connection >= 0 else {
            switch -connection {
            case EAGAIN, EWOULDBLOCK, EINTR, ECONNABORTED, EPROTO: return .none
            default: return .failed(SystemError("accept", code: -connection))
            }
        }
        var timeout = timeval(tv_sec: ioTimeoutSeconds, tv_usec: 0)
        setsockopt(connection, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(connection, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        return .connection(connection)
    }

    /// Connections waiting to be accepted and the backlog limit, when the kernel tells.
    public func queue() -> (waiting: Int, backlog: Int)? {
        var waiting: UInt32 = 0
        var backlog: UInt32 = 0
        guard xsys_unix_listen_queue(fd, &waiting, &backlog) == 0 else { return nil }
        return (Int(waiting), Int(backlog))
    }

    /// Closes this process's descriptor and removes a socket file it bound. A socket systemd passed in is
    /// closed only, never shut down: systemd keeps it for the next start.
    public func close(removeFile: Bool) {
        Glibc.close(fd)
        if removeFile, let path = boundPath { unlink(path) }
    }
}

/// What the pool does to a connected socket besides reading and writing it.
public enum ConnectedSocket {
    /// A second descriptor for the same connection (close-on-exec); nil when the process is out of descriptors.
    public static func duplicate(_ fd: Int32) -> Int32? {
        let copy = fcntl(fd, F_DUPFD_CLOEXEC, 0)
        return copy >= 0 ? copy : nil
    }

    public enum Peeked {
        /// This many bytes are waiting (copied to the buffer's start, left in the socket).
        case bytes(Int)
        /// Nothing is waiting yet.
        case nothing
        /// The peer closed the connection (or it broke).
        case ended
    }

    /// Copies what the connection has sent and nobody has read yet into `buffer`, without consuming it or
    /// waiting.
    public static func peek(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer) -> Peeked {
        while true {
            let count = recv(fd, buffer.baseAddress, buffer.count, Int32(MSG_PEEK) | Int32(MSG_DONTWAIT))
            if count > 0 { return .bytes(count) }
            if count == 0 { return .ended }
            switch errno {
            case EINTR: continue
            case EAGAIN, EWOULDBLOCK: return .nothing
            default: return .ended
            }
        }
    }

    /// True when the peer will send nothing more (it shut down its side, or the connection broke): what it sent
    /// may still be waiting to be read.
    public static func peerIsDone(_ fd: Int32) -> Bool {
        xsys_peer_done(fd) == 1
    }

    /// Ends the connection for every descriptor of it: a thread blocked reading it sees the end at once.
    public static func shutDown(_ fd: Int32) {
        _ = Glibc.shutdown(fd, Int32(SHUT_RDWR))
    }

    public static func close(_ fd: Int32) {
        _ = Glibc.close(fd)
    }
}

#if canImport(Glibc)
import Glibc
#endif
import CSystemShim

/// What a worker's responder threads wait on together: one epoll set holding the listening socket and the
/// worker's parked connections (kept connections between requests, connections whose request is still arriving).
/// epoll wakes one waiting thread per event, and the sockets are registered one-shot, so a new connection or a
/// parked connection's request is taken by exactly one thread (with poll(2), every thread of every worker woke
/// for each connection and all but one went back to sleep: on two cores, that thundering herd cost more than the
/// request).
public final class WorkerEvents: Sendable {
    public enum Event: Equatable {
        /// The listening socket has a connection; the thread that gets this accepts, then `rearmListening()`.
        case connection
        /// The parked connection registered with this tag has something to read (its request, or its end).
        case parked(tag: UInt64)
        case timeout
    }

    /// Tags below this are the listening socket's.
    public static let firstParkedTag: UInt64 = 1 << 32

    private let fd: Int32
    private let listenFD: Int32

    public init(listenFD: Int32) throws(SystemError) {
        let fd = xsys_worker_events(listenFD)
        guard fd >= 0 else { throw SystemError("epoll", code: -fd) }
        self.fd = fd
        self.listenFD = listenFD
    }

    deinit {
        close(fd)
    }

    public func wait(timeoutMilliseconds: Int32) -> Event {
        var tag: UInt64 = 0
        guard xsys_worker_wait(fd, timeoutMilliseconds, &tag) == 1 else { return .timeout }
        return tag < WorkerEvents.firstParkedTag ? .connection : .parked(tag: tag)
    }

    /// Lets the next thread take the listening socket's next connection.
    public func rearmListening() {
        _ = xsys_worker_rearm(fd, listenFD, 0)
    }

    /// No more new connections for this worker (a drain): the other workers take them.
    public func stopListening() {
        _ = xsys_worker_unpark(fd, listenFD)
    }

    /// Watches `socket` until it has something to read; `tag` (at least `firstParkedTag`) comes back in the event.
    public func park(_ socket: Int32, tag: UInt64) throws(SystemError) {
        precondition(tag >= WorkerEvents.firstParkedTag, "parked tags start above the listening socket's")
        let result = xsys_worker_park(fd, socket, tag)
        guard result == 0 else { throw SystemError("epoll_ctl add", code: -result) }
    }

    /// Stops watching `socket` (before it is closed, so that its number, once reused, is not mistaken for it).
    public func unpark(_ socket: Int32) {
        _ = xsys_worker_unpark(fd, socket)
    }
}

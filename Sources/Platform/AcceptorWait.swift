#if canImport(Glibc)
import Glibc
#endif
import CSystemShim

/// How one acceptor thread waits for work: epoll on the listening socket with EPOLLEXCLUSIVE, so that a new
/// connection wakes one of the pool's threads instead of all of them (with poll(2), every thread of every worker
/// woke for each connection and all but one went back to sleep: on two cores, that thundering herd cost more
/// than the request), and on the wake pipe, which wakes every thread for a drain.
public final class AcceptorWait {
    public enum Event: Equatable {
        case connection
        case wake
        case timeout
    }

    private let epollFD: Int32
    private let wakeFD: Int32

    public init(listenFD: Int32, wake: WakePipe) throws(SystemError) {
        let fd = xsys_acceptor_epoll(listenFD, wake.readEnd)
        guard fd >= 0 else { throw SystemError("epoll", code: -fd) }
        epollFD = fd
        wakeFD = wake.readEnd
    }

    deinit {
        close(epollFD)
    }

    public func wait(timeoutMilliseconds: Int32) -> Event {
        switch xsys_acceptor_wait(epollFD, wakeFD, timeoutMilliseconds) {
        case 1: return .connection
        case 2: return .wake
        default: return .timeout
        }
    }
}

#if canImport(Glibc)
import Glibc
#endif

/// A self-pipe: one thread writes a byte to wake others that wait on its read end (libfcgi's blocking accept
/// cannot be interrupted by a signal, so acceptors wait on the listening socket and this pipe together).
public final class WakePipe: Sendable {
    public let readEnd: Int32
    private let writeEnd: Int32

    public init() throws(SystemError) {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw SystemError("pipe") }
        for fd in fds {
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        }
        readEnd = fds[0]
        writeEnd = fds[1]
    }

    /// Wakes every poller; the pipe stays readable (nobody drains it), so a wake is never missed.
    public func wake() {
        var byte: UInt8 = 1
        _ = Glibc.write(writeEnd, &byte, 1)
    }

    deinit {
        close(readEnd)
        close(writeEnd)
    }
}

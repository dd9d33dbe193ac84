#if canImport(Glibc)
import Glibc
#endif

/// A self-pipe: one thread writes a byte to wake others that poll its read end (libfcgi's blocking accept
/// cannot be interrupted by a signal, so acceptors poll the listening socket and this pipe together).
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

/// Waiting for descriptors to become readable.
public enum Poll {
    public enum Outcome: Sendable, Equatable {
        case readable(Int32)
        case timedOut
        case interrupted
    }

    /// Waits up to `timeoutMilliseconds` (-1 = forever) for the first of `fds` to become readable.
    public static func readable(_ fds: [Int32], timeoutMilliseconds: Int32) -> Outcome {
        var entries = fds.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
        let result = poll(&entries, nfds_t(entries.count), timeoutMilliseconds)
        if result < 0 { return .interrupted }
        if result == 0 { return .timedOut }
        for entry in entries where entry.revents != 0 { return .readable(entry.fd) }
        return .timedOut
    }
}

#if canImport(Glibc)
import Glibc
#endif
import CSystemShim

/// Signal handling the php-fpm way: signals are blocked in every thread and taken synchronously by one
/// thread (or the supervisor's loop) with `sigtimedwait`, so no async-signal-safety puzzles arise and
/// libfcgi's own handlers never run.
public enum Signals {
    public static let terminate = SIGTERM
    public static let interrupt = SIGINT
    public static let hangUp = SIGHUP
    public static let quit = SIGQUIT
    public static let child = SIGCHLD
    public static let user1 = SIGUSR1
    public static let user2 = SIGUSR2
    public static let kill = SIGKILL
    public static let brokenPipe = SIGPIPE

    /// Blocks `signals` in the calling thread; threads started afterwards inherit the mask.
    public static func block(_ signals: [Int32]) {
        var set = makeSet(signals)
        pthread_sigmask(SIG_BLOCK, &set, nil)
    }


    /// Ignores `signal` process-wide (SIGPIPE: a peer closing early must not kill a worker).
    public static func ignore(_ signal: Int32) {
        var action = sigaction()
        action.__sigaction_handler.sa_handler = SIG_IGN
        sigaction(signal, &action, nil)
    }

    /// Waits up to `timeout` seconds for one of `signals` (which must be blocked); the signal, or nil.
    public static func wait(for signals: [Int32], timeout: Double) -> Int32? {
        var set = makeSet(signals)
        var ts = timespec(tv_sec: Int(timeout), tv_nsec: Int((timeout - Double(Int(timeout))) * 1e9))
        let result = sigtimedwait(&set, nil, &ts)
        return result > 0 ? result : nil
    }

    /// Sends `signal` to `pid`; false when the process is gone.
    @discardableResult
    public static func send(_ signal: Int32, to pid: Int32) -> Bool {
        Glibc.kill(pid, signal) == 0
    }

    /// Asks the kernel to send `signal` to this process when its parent dies (workers of a killed supervisor).
    public static func deliverOnParentDeath(_ signal: Int32) {
        _ = xsys_set_parent_death_signal(signal)
    }

    public static func name(_ signal: Int32) -> String {
        switch signal {
        case SIGTERM: return "SIGTERM"
        case SIGINT: return "SIGINT"
        case SIGHUP: return "SIGHUP"
        case SIGQUIT: return "SIGQUIT"
        case SIGKILL: return "SIGKILL"
        case SIGSEGV: return "SIGSEGV"
        case SIGILL: return "SIGILL"
        case SIGTRAP: return "SIGTRAP"
        case SIGABRT: return "SIGABRT"
        case SIGBUS: return "SIGBUS"
        case SIGCHLD: return "SIGCHLD"
        case SIGUSR1: return "SIGUSR1"
        case SIGUSR2: return "SIGUSR2"
        default: return "signal \(signal)"
        }
    }

    private static func makeSet(_ signals: [Int32]) -> sigset_t {
        var set = sigset_t()
        sigemptyset(&set)
        for signal in signals { sigaddset(&set, signal) }
        return set
    }
}

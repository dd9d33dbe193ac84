#if canImport(Glibc)
import Glibc
#endif

/// How a child process ended.
public enum ExitReason: Sendable, Equatable, CustomStringConvertible {
    case exited(Int32)
    case signalled(Int32)

    public var description: String {
        switch self {
        case .exited(let code): return "exit status \(code)"
        case .signalled(let signal): return "killed by \(Signals.name(signal))"
        }
    }
}

/// Starting and reaping child processes. Children are started with posix_spawn (a fresh exec, never a bare
/// fork of a multi-threaded Swift process).
public enum Processes {
    public static func currentID() -> Int32 { getpid() }
    public static func parentID() -> Int32 { getppid() }

    /// Spawns `path` with `arguments` (argv[0] included) and `environment`; `keep` lists descriptors the child
    /// keeps (they are made inheritable; everything else opened with CLOEXEC closes on exec).
    public static func spawn(path: String, arguments: [String], environment: [String: String],
                             keep: [Int32]) throws(SystemError) -> Int32 {
        for fd in keep {
            let flags = fcntl(fd, F_GETFD)
            if flags >= 0 { _ = fcntl(fd, F_SETFD, flags & ~FD_CLOEXEC) }
        }
        defer {
            for fd in keep {
                let flags = fcntl(fd, F_GETFD)
                if flags >= 0 { _ = fcntl(fd, F_SETFD, flags | FD_CLOEXEC) }
            }
        }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // The child starts with an empty signal mask and default dispositions.
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        var defaults = sigset_t()
        sigfillset(&defaults)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let argv = arguments.map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, path, nil, &attributes, argv, envp)
        guard result == 0 else { throw SystemError("posix_spawn \(path)", code: result) }
        return pid
    }

    /// Collects every child that has ended, without blocking.
    public static func reap() -> [(pid: Int32, reason: ExitReason)] {
        var ended: [(Int32, ExitReason)] = []
        while true {
            var status: Int32 = 0
            let pid = waitpid(-1, &status, WNOHANG)
            if pid <= 0 { break }
            let signal = status & 0x7f
            if signal == 0 {
                ended.append((pid, .exited((status >> 8) & 0xff)))
            } else {
                ended.append((pid, .signalled(signal)))
            }
        }
        return ended
    }

    /// Ends the process at once, without running atexit handlers (a worker whose threads are done).
    public static func exitNow(_ code: Int32) -> Never {
        _exit(code)
    }
}

extension Processes {
    /// When a process started, in clock ticks since boot (field 22 of /proc/PID/stat); nil when it is gone.
    /// With the pid it identifies a process even after the pid is reused.
    public static func startTime(of pid: Int32) -> UInt64? {
        guard let text = try? Files.readString("/proc/\(pid)/stat"),
              let close = text.lastIndex(of: ")") else { return nil }
        // Fields after the command name (which may hold spaces) start at field 3.
        let fields = text[text.index(after: close)...].split(separator: " ")
        guard fields.count > 19 else { return nil }
        return UInt64(fields[19])
    }

    /// True when `pid` is alive and is the process that started at `startTime`.
    public static func isRunning(pid: Int32, startTime: UInt64) -> Bool {
        Processes.startTime(of: pid) == startTime
    }
}

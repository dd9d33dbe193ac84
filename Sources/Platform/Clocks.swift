#if canImport(Glibc)
import Glibc
#endif

/// Monotonic time for deadlines and durations; never goes back.
public enum Monotonic {
    /// Nanoseconds since an arbitrary fixed point.
    public static func nanoseconds() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }

    public static func seconds() -> Double {
        Double(nanoseconds()) / 1e9
    }

    /// Nanoseconds from `since` to `now`; 0 when `since` is the later one (a time another thread took after the
    /// caller read `now`: a wrapping subtraction would make it look ages old).
    public static func elapsed(since: UInt64, now: UInt64) -> UInt64 {
        now > since ? now - since : 0
    }
}

/// A point on the monotonic clock by which something must be done.
public struct Deadline: Sendable, Comparable {
    public let nanoseconds: UInt64

    public init(after seconds: Double) {
        nanoseconds = Monotonic.nanoseconds() + UInt64(max(seconds, 0) * 1e9)
    }

    public var hasPassed: Bool { Monotonic.nanoseconds() >= nanoseconds }

    /// Seconds left (0 once passed).
    public var remainingSeconds: Double {
        let now = Monotonic.nanoseconds()
        return now >= nanoseconds ? 0 : Double(nanoseconds - now) / 1e9
    }

    /// Milliseconds left for poll(2), rounded up and capped; nil once the deadline has passed.
    public func remainingMilliseconds(cap: Int32) -> Int32? {
        let now = Monotonic.nanoseconds()
        guard now < nanoseconds else { return nil }
        return Int32(min((nanoseconds - now) / 1_000_000 + 1, UInt64(cap)))
    }

    public static func < (lhs: Deadline, rhs: Deadline) -> Bool { lhs.nanoseconds < rhs.nanoseconds }
}

/// Wall-clock time (UTC), for timestamps that are stored or shown.
public enum WallClock {
    /// Seconds since the Unix epoch, with fractions.
    public static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    /// Whole seconds since the Unix epoch.
    public static func epochSeconds() -> Int64 {
        Int64(time(nil))
    }
}

/// Sleeps the calling thread.
public func sleep(seconds: Double) {
    guard seconds > 0 else { return }
    var request = timespec(tv_sec: Int(seconds), tv_nsec: Int((seconds - Double(Int(seconds))) * 1e9))
    var remaining = timespec()
    while nanosleep(&request, &remaining) == -1 && errno == EINTR { request = remaining }
}

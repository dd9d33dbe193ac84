import Platform
import Synchronization

/// What one responder thread is doing, for the worker's watchdog (which ends a connection that takes too long to
/// send its request, and notices a request past its limit) and for the scoreboard's thread cell.
///
/// The connection being read is shut down only under the lock, and the thread closes it only after leaving the
/// reading phase under the same lock: the watchdog can never shut down a descriptor number that has since been
/// reused for another connection.
final class ThreadActivity: Sendable {
    private struct State {
        var phase: Scoreboard.Phase = .idle
        var connection: Int32 = -1
        var since: UInt64 = 0
        /// The watchdog shut the connection down while it was being read.
        var cutOff = false
        /// Method and path of the request being served.
        var request = ""
    }

    private let state = Mutex(State())
    private let scoreboard: Scoreboard
    private let slot: Int
    private let thread: Int

    init(scoreboard: Scoreboard, slot: Int, thread: Int) {
        self.scoreboard = scoreboard
        self.slot = slot
        self.thread = thread
    }

    /// The thread starts reading a request from `connection`.
    func reading(_ connection: Int32) {
        state.withLock { $0 = State(phase: .reading, connection: connection, since: Monotonic.nanoseconds()) }
        scoreboard.setPhase(slot, thread, .reading, request: "")
    }

    /// The request is read; the thread serves it. False when the watchdog cut the connection off first.
    func serving(_ request: String) -> Bool {
        let wasCut = state.withLock { state in
            let cut = state.cutOff
            state = State(phase: .busy, connection: -1, since: Monotonic.nanoseconds(), request: request)
            return cut
        }
        scoreboard.setPhase(slot, thread, .busy, request: request)
        return !wasCut
    }

    /// Back to waiting for work (only now may the thread close the connection it was reading).
    func idle() {
        state.withLock { $0 = State() }
        scoreboard.setPhase(slot, thread, .idle, request: nil)
    }

    /// Method and path of the request being served (empty when none).
    var request: String { state.withLock { $0.request } }

    /// Watchdog: shuts down the connection being read when reading has taken longer than `limit` nanoseconds
    /// (counted on the scoreboard first, so the peer never sees the end before the count). True when it did.
    func cutOffReading(after limit: UInt64, now: UInt64) -> Bool {
        state.withLock { state in
            guard state.phase == .reading, !state.cutOff, state.connection >= 0,
                  Monotonic.elapsed(since: state.since, now: now) > limit else { return false }
            scoreboard.add(.requestReadTimeouts)
            ConnectedSocket.shutDown(state.connection)
            state.cutOff = true
            return true
        }
    }

    /// Watchdog: nanoseconds the current request has been served, nil when the thread is not serving one.
    func busyFor(now: UInt64) -> UInt64? {
        state.withLock { $0.phase == .busy ? Monotonic.elapsed(since: $0.since, now: now) : nil }
    }
}

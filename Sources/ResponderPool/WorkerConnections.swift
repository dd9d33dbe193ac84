import Log
import Platform
import Synchronization

/// A worker's connections: those its threads hold, and those parked in the event set every thread waits on
/// (`WorkerEvents`) until they have something to read: kept connections (FCGI_KEEP_CONN) idle between requests,
/// and connections whose request has begun to arrive but is not whole yet. No thread sits on a connection with
/// nothing to serve; whichever thread is free takes a parked one as soon as it has something to read. The
/// watchdog closes a connection whose request has not arrived within the read timeout, and an idle one past the
/// keep-alive time. A connection that has sent part of its request stays readable (nothing is read before the
/// request is whole), so it rests, out of the event set, until the watchdog's next round sets it waiting again
/// (every 50 ms): a stalled connection costs a look per round, never a thread spinning on it. A drain closes the
/// idle ones at once, but serves every connection already accepted: the worker exits only once `isQuiet`.
///
/// Each parking gets a fresh tag (a sequence number above the descriptor's); a thread claims a ready connection
/// only when the tag still matches, so a connection closed by the watchdog (and its number reused) is never taken
/// for another.
final class WorkerConnections: Sendable {
    private struct Parked {
        let tag: UInt64
        /// When it was parked idle, or when its request began to arrive.
        let since: UInt64
        let arriving: Bool
        /// Out of the event set until the watchdog's next round.
        var resting: Bool
    }

    private struct State {
        var parked: [Int32: Parked] = [:]
        var nextTag: UInt64 = WorkerEvents.firstParkedTag >> 32
        /// Connections (or accepts about to happen) in a thread's hands.
        var inHand = 0
        var draining = false
    }

    private let events: WorkerEvents
    private let state = Mutex(State())
    private let limit: Int
    private let scoreboard: Scoreboard
    private let slot: Int
    private let log = Logger("pool")

    init(events: WorkerEvents, limit: Int, scoreboard: Scoreboard, slot: Int) {
        self.events = events
        self.limit = limit
        self.scoreboard = scoreboard
        self.slot = slot
    }

    /// A thread is about to accept a connection: counted before `accept`, so that a drain never ends between an
    /// accept and its count. Follow with `release` when nothing was accepted.
    func taking() {
        state.withLock { $0.inHand += 1 }
    }

    /// The parked connection of an event's `tag`, now in the caller's hands, and since when its request has been
    /// arriving (nil for an idle one); nil when the watchdog closed it first.
    func claim(_ tag: UInt64) -> (connection: Int32, arrivingSince: UInt64?)? {
        state.withLock { state -> (Int32, UInt64?)? in
            let connection = Int32(bitPattern: UInt32(truncatingIfNeeded: tag))
            guard let entry = state.parked[connection], entry.tag == tag else { return nil }
            state.parked[connection] = nil
            state.inHand += 1
            events.unpark(connection)
            scoreboard.subtract(slot, .parkedConnections)
            return (connection, entry.arriving ? entry.since : nil)
        }
    }

    /// Parks the connection in hand until it has something to read: idle when `arrivingSince` is nil, else with its
    /// request arriving since then; `resting` (part of its request is there) until the watchdog's next round. An
    /// idle one is closed instead during a drain; any is closed when the worker has as many waiting as it may keep.
    func park(_ connection: Int32, arrivingSince: UInt64?, resting: Bool = false) {
        let parked = state.withLock { state -> Bool in
            state.inHand -= 1
            guard !(state.draining && arrivingSince == nil), state.parked.count < limit else { return false }
            let tag = state.nextTag << 32 | UInt64(UInt32(bitPattern: connection))
            state.nextTag += 1
            if !resting {
                do {
                    try events.park(connection, tag: tag)
                } catch {
                    return false
                }
            }
            state.parked[connection] = Parked(tag: tag, since: arrivingSince ?? Monotonic.nanoseconds(),
                                              arriving: arrivingSince != nil, resting: resting)
            // Counted under the lock: once armed, another thread may claim it at once, and its subtraction
            // must not come first (the counter would wrap, and a status page read then would show it).
            scoreboard.add(slot, .parkedConnections)
            return true
        }
        if !parked { ConnectedSocket.close(connection) }
    }

    /// Closes the connection in hand (nil: an accept that took nothing).
    func release(closing connection: Int32?) {
        if let connection { ConnectedSocket.close(connection) }
        state.withLock { $0.inHand -= 1 }
    }

    /// Watchdog: closes the connections whose request has been arriving for longer than `readLimit` nanoseconds
    /// (counted as read timeouts) and the idle ones parked for longer than `idleLimit`.
    func closeExpired(readLimit: UInt64, idleLimit: UInt64, now: UInt64) {
        let closed = close { entry in Monotonic.elapsed(since: entry.since, now: now) > (entry.arriving ? readLimit : idleLimit) }
        let timedOut = closed.filter(\.arriving).count
        if timedOut > 0 {
            scoreboard.add(.requestReadTimeouts, UInt64(timedOut))
            log.warning("connections closed: their request did not arrive in time",
                        ["connections": timedOut, "limit_ms": Int(readLimit / 1_000_000)])
        }
    }

    /// Watchdog: sets the resting connections waiting again (those whose peer has gone are closed).
    func wakeResting() {
        state.withLock { state in
            var failed: UInt64 = 0
            for (connection, entry) in state.parked where entry.resting {
                do {
                    try events.park(connection, tag: entry.tag)
                    state.parked[connection]?.resting = false
                } catch {
                    state.parked[connection] = nil
                    ConnectedSocket.close(connection)
                    failed += 1
                }
            }
            if failed > 0 { scoreboard.subtract(slot, .parkedConnections, failed) }
        }
    }

    /// A drain: the idle connections are closed and no more are kept; the others are still served.
    func drain() {
        state.withLock { $0.draining = true }
        _ = close { !$0.arriving }
    }

    /// True when no connection is in a thread's hands (beyond `stuck`, held by requests past their limit) and
    /// none is waiting for its request: a draining worker may exit.
    func isQuiet(stuck: Int) -> Bool {
        state.withLock { state in state.inHand <= stuck && !state.parked.values.contains(where: \.arriving) }
    }

    private func close(where expired: (Parked) -> Bool) -> [Parked] {
        state.withLock { state -> [Parked] in
            var closed: [Parked] = []
            for (connection, entry) in state.parked where expired(entry) {
                state.parked[connection] = nil
                events.unpark(connection)
                ConnectedSocket.close(connection)
                closed.append(entry)
            }
            if !closed.isEmpty { scoreboard.subtract(slot, .parkedConnections, UInt64(closed.count)) }
            return closed
        }
    }
}

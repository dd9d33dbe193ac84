import Platform
import Synchronization

/// A worker's kept connections (FCGI_KEEP_CONN) between requests: parked in the event set every responder
/// thread waits on (`WorkerEvents`), so the next request on any of them is taken at once by whichever thread is
/// free, and no thread sits on an idle connection. The watchdog closes those idle past the keep-alive time.
///
/// Each parking gets a fresh tag (a sequence number above the descriptor's); a thread claims a ready connection
/// only when the tag still matches, so a connection closed by the watchdog (and its number reused) is never taken
/// for another.
final class KeptConnections: Sendable {
    private struct Parked {
        let tag: UInt64
        let since: UInt64
    }

    private struct State {
        var parked: [Int32: Parked] = [:]
        var nextTag: UInt64 = WorkerEvents.firstParkedTag >> 32
        var closed = false
    }

    private let events: WorkerEvents
    private let state = Mutex(State())
    private let limit: Int
    private let scoreboard: Scoreboard
    private let slot: Int

    init(events: WorkerEvents, limit: Int, scoreboard: Scoreboard, slot: Int) {
        self.events = events
        self.limit = limit
        self.scoreboard = scoreboard
        self.slot = slot
    }

    /// Parks `connection` until its next request; closes it instead when the worker is draining or has as many
    /// parked as it may keep.
    func park(_ connection: Int32) {
        let parked = state.withLock { state -> Bool in
            guard !state.closed, state.parked.count < limit else { return false }
            let tag = state.nextTag << 32 | UInt64(UInt32(bitPattern: connection))
            state.nextTag += 1
            do {
                try events.park(connection, tag: tag)
            } catch {
                return false
            }
            state.parked[connection] = Parked(tag: tag, since: Monotonic.nanoseconds())
            return true
        }
        if parked {
            scoreboard.add(slot, .parkedConnections)
        } else {
            ConnectedSocket.close(connection)
        }
    }

    /// The parked connection of an event's `tag`, now owned by the caller; nil when the watchdog closed it first.
    func claim(_ tag: UInt64) -> Int32? {
        let claimed = state.withLock { state -> Int32? in
            let connection = Int32(bitPattern: UInt32(truncatingIfNeeded: tag))
            guard state.parked[connection]?.tag == tag else { return nil }
            state.parked[connection] = nil
            events.unpark(connection)
            return connection
        }
        if claimed != nil { scoreboard.subtract(slot, .parkedConnections) }
        return claimed
    }

    /// Closes the connections idle for longer than `limit` nanoseconds (all of them when `limit` is nil, for a
    /// drain); returns how many.
    @discardableResult
    func close(idleLongerThan limit: UInt64?, now: UInt64 = Monotonic.nanoseconds()) -> Int {
        let closed = state.withLock { state -> [Int32] in
            if limit == nil { state.closed = true }
            let expired = state.parked.filter { entry in
                limit.map { Monotonic.elapsed(since: entry.value.since, now: now) > $0 } ?? true
            }.map(\.key)
            for connection in expired {
                state.parked[connection] = nil
                events.unpark(connection)
                ConnectedSocket.close(connection)
            }
            return expired
        }
        if !closed.isEmpty { scoreboard.subtract(slot, .parkedConnections, UInt64(closed.count)) }
        return closed.count
    }
}

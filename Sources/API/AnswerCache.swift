import JSON
import Platform
import Synchronization

/// The `GET /wrapped/data` answers a worker has rendered, shared by its threads: a user's whole body with the
/// wraps revision it was built from. An answer is served again only after PostgreSQL has confirmed that revision
/// in the request's own round trip (`WrapStore.summaryWithWraps(_:unlessRevision:)`), so a write made anywhere
/// shows in the very next request; the cache saves PostgreSQL sending the wraps and the worker receiving and
/// copying them. Bounded by bytes (each entry charged its body, its key and a fixed overhead); the least recently
/// used answers leave first.
final class AnswerCache: Sendable {
    struct Answer: Sendable {
        /// The user's wraps revision the body was rendered from.
        let revision: Int64
        /// The strong ETag of `body`.
        let tag: String
        let body: [UInt8]
        /// Where the `[wrap,…]` array starts in `body` (what precedes it shows the user's flags).
        let wrapsOffset: Int
    }

    struct Statistics: Sendable, Equatable {
        var entries = 0
        var bytes = 0
        var hits = 0
        var misses = 0
        var evictions = 0
    }

    /// Charged per entry on top of its body and key: the node, the dictionary slot, the array headers.
    static let entryOverhead = 160

    private struct Node {
        var key: String
        var answer: Answer
        var cost: Int
        var older: Int
        var newer: Int
    }

    /// A least-recently-used list threaded through `nodes` by index (`newest`/`oldest`, -1 = none); freed
    /// indices are reused.
    private struct State {
        var index: [String: Int] = [:]
        var nodes: [Node] = []
        var free: [Int] = []
        var newest = -1
        var oldest = -1
        var statistics = Statistics()
    }

    let maxBytes: Int
    private let state = Mutex(State())

    /// `maxBytes` 0 keeps nothing.
    init(maxBytes: Int) {
        self.maxBytes = max(0, maxBytes)
    }

    var isEnabled: Bool { maxBytes > 0 }

    /// The answer kept for `key`, if any (still to be confirmed against the database).
    func answer(for key: String) -> Answer? {
        guard isEnabled else { return nil }
        return state.withLock { state in
            guard let slot = state.index[key] else { return nil }
            Self.unlink(slot, &state)
            Self.linkNewest(slot, &state)
            return state.nodes[slot].answer
        }
    }

    /// Keeps `answer` for `key`, replacing what was kept, evicting the oldest answers past the bound. An answer
    /// larger than an eighth of the bound is not kept: it would push out many others for one user.
    func keep(_ answer: Answer, for key: String) {
        let cost = answer.body.count + key.utf8.count + Self.entryOverhead
        guard isEnabled, cost <= maxBytes / 8 else { return }
        state.withLock { state in
            if let slot = state.index[key] {
                state.statistics.bytes += cost - state.nodes[slot].cost
                state.nodes[slot].answer = answer
                state.nodes[slot].cost = cost
                Self.unlink(slot, &state)
                Self.linkNewest(slot, &state)
            } else {
                let node = Node(key: key, answer: answer, cost: cost, older: -1, newer: -1)
                let slot: Int
                if let reused = state.free.popLast() {
                    state.nodes[reused] = node
                    slot = reused
                } else {
                    state.nodes.append(node)
                    slot = state.nodes.count - 1
                }
                state.index[key] = slot
                Self.linkNewest(slot, &state)
                state.statistics.entries += 1
                state.statistics.bytes += cost
            }
            while state.statistics.bytes > maxBytes, state.oldest >= 0 {
                Self.evict(state.oldest, &state)
                state.statistics.evictions += 1
            }
        }
    }

    /// Counts a request that could use a kept answer (`hit`) or had to read the wraps.
    func record(hit: Bool) {
        guard isEnabled else { return }
        state.withLock { state in
            if hit { state.statistics.hits += 1 } else { state.statistics.misses += 1 }
        }
    }

    var statistics: Statistics { state.withLock { $0.statistics } }

    /// The status page's `answerCache` object: this worker's pid, the bound and the counters.
    func writeStatus(to writer: inout JSONWriter) {
        let statistics = statistics
        writer.beginObject()
        writer.key("pid"); writer.int(Int(Processes.currentID()))
        writer.key("maxBytes"); writer.int(maxBytes)
        writer.key("entries"); writer.int(statistics.entries)
        writer.key("bytes"); writer.int(statistics.bytes)
        writer.key("hits"); writer.int(statistics.hits)
        writer.key("misses"); writer.int(statistics.misses)
        writer.key("evictions"); writer.int(statistics.evictions)
        writer.endObject()
    }

    private static func evict(_ slot: Int, _ state: inout State) {
        unlink(slot, &state)
        let node = state.nodes[slot]
        state.index[node.key] = nil
        state.statistics.entries -= 1
        state.statistics.bytes -= node.cost
        // Drop the body now (the slot may wait a while for reuse).
        state.nodes[slot] = Node(key: "", answer: Answer(revision: 0, tag: "", body: [], wrapsOffset: 0), cost: 0,
                                 older: -1, newer: -1)
        state.free.append(slot)
    }

    private static func unlink(_ slot: Int, _ state: inout State) {
        let older = state.nodes[slot].older
        let newer = state.nodes[slot].newer
        if older >= 0 { state.nodes[older].newer = newer } else if state.oldest == slot { state.oldest = newer }
        if newer >= 0 { state.nodes[newer].older = older } else if state.newest == slot { state.newest = older }
        state.nodes[slot].older = -1
        state.nodes[slot].newer = -1
    }

    private static func linkNewest(_ slot: Int, _ state: inout State) {
        state.nodes[slot].older = state.newest
        state.nodes[slot].newer = -1
        if state.newest >= 0 { state.nodes[state.newest].newer = slot }
        state.newest = slot
        if state.oldest < 0 { state.oldest = slot }
    }
}

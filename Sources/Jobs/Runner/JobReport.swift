#if canImport(Glibc)
import Glibc
#endif
import Log
import Platform
import Spotify
import Synchronization

/// What a run did, for the terminal, the log and the job-run row (SPEC §7.5).
final class JobReport: Sendable {
    struct Tally: Sendable {
        var total = 0
        /// Users whose item earlier runs already finished.
        var earlier = 0
        var done = 0
        var failed: [(String, String)] = []
        var skipped: [(String, String)] = []
        var retrying: [(String, String)] = []
    }

    private let state = Mutex(Tally())
    private let started = Monotonic.seconds()
    private let counters: RequestCounters
    private let log: Logger
    private let terminal = isatty(2) == 1
    let title: String

    init(title: String, counters: RequestCounters, log: Logger) {
        self.title = title
        self.counters = counters
        self.log = log
    }

    var tally: Tally { state.withLock { $0 } }
    var elapsed: Double { Monotonic.seconds() - started }

    func setTotal(_ total: Int, finishedEarlier: Int = 0) {
        state.withLock {
            $0.total = total
            $0.earlier = finishedEarlier
        }
    }

    func done(_ email: String) {
        state.withLock { $0.done += 1 }
        if !terminal { log.info("user done", ["user": email, "requests": counters.total]) }
        progress()
    }

    func skipped(_ email: String, _ reason: String) {
        state.withLock { $0.skipped.append((email, reason)) }
        log.warning("user skipped", ["user": email, "reason": reason])
        progress()
    }

    func failed(_ email: String, _ reason: String) {
        state.withLock { $0.failed.append((email, reason)) }
        log.error("user failed", ["user": email, "reason": reason])
        progress()
    }

    func retrying(_ email: String, _ reason: String) {
        state.withLock { $0.retrying.append((email, reason)) }
        log.warning("user left for a later run", ["user": email, "reason": reason])
        progress()
    }

    /// One line rewritten in place on a terminal: users done / total, requests, 429s, elapsed.
    func progress() {
        guard terminal else { return }
        let t = tally
        let finished = t.earlier + t.done + t.failed.count + t.skipped.count + t.retrying.count
        let line = "\r\(title): users \(finished)/\(t.total) (done \(t.done), failed \(t.failed.count), skipped \(t.skipped.count)) · requests \(counters.total) · 429s \(counters.rateLimited) · \(Int(elapsed)) s"
        Console.errorRaw(line)
    }

    /// The final summary, printed to standard output.
    func summary(status: Int32, stopReason: String?) -> String {
        let t = tally
        if terminal { Console.errorRaw("\n") }
        var lines = ["\(title) finished with status \(status)\(stopReason.map { " (stopped: \($0))" } ?? "")",
                     "  users: \(t.total) taking part\(t.earlier > 0 ? " (\(t.earlier) finished by earlier runs)" : ""); this run: \(t.done) done, \(t.failed.count) failed, \(t.skipped.count) skipped, \(t.retrying.count) left for a later run"]
        for (email, reason) in t.failed { lines.append("    failed  \(email): \(reason)") }
        for (email, reason) in t.skipped { lines.append("    skipped \(email): \(reason)") }
        for (email, reason) in t.retrying { lines.append("    later   \(email): \(reason)") }
        lines.append("  Spotify requests: \(counters.total), 429s: \(counters.rateLimited)")
        for (endpoint, count) in counters.byEndpoint.sorted(by: { $0.key < $1.key }) {
            lines.append("    \(endpoint): \(count)")
        }
        lines.append("  elapsed: \(String(format1(elapsed))) s")
        return lines.joined(separator: "\n")
    }
}

func format1(_ value: Double) -> String {
    let tenths = Int((value * 10).rounded())
    return "\(tenths / 10).\(tenths % 10)"
}

import Log
import Platform
import Store

/// What an import did, table by table (SPEC §13: read, imported, unchanged, skipped by reason), for the terminal
/// (a progress line rewritten in place), the log (a line per skipped record, a progress line every 10 s when
/// not on a terminal) and the summary printed at the end.
final class ImportReport {
    struct Counts {
        var read = 0
        var imported = 0
        var unchanged = 0
        var skipped: [Rejection.Reason: Int] = [:]

        var skippedTotal: Int { skipped.values.reduce(0, +) }
    }

    private(set) var counts: [ExportTable: Counts] = [:]
    private(set) var problems: [ReadError] = []
    private(set) var filesRead = 0
    private let started = Monotonic.seconds()
    private var lastProgress = 0.0
    private let terminal = Console.errorIsTerminal
    private let log: Logger
    let dryRun: Bool

    init(log: Logger, dryRun: Bool) {
        self.log = log
        self.dryRun = dryRun
    }

    var totalRead: Int { counts.values.reduce(0) { $0 + $1.read } }
    var elapsed: Double { Monotonic.seconds() - started }

    func read(_ table: ExportTable) {
        counts[table, default: Counts()].read += 1
        progress()
    }

    func outcome(_ table: ExportTable, _ outcome: ImportStore.Outcome) {
        switch outcome {
        case .imported: counts[table, default: Counts()].imported += 1
        case .unchanged: counts[table, default: Counts()].unchanged += 1
        }
    }

    /// A record left out: counted, and logged with its table, key and reason (never a token: keys and details
    /// are built without it).
    func skipped(_ table: ExportTable, key: String, _ rejection: Rejection, file: String, position: String) {
        counts[table, default: Counts()].skipped[rejection.reason, default: 0] += 1
        clearProgressLine()
        log.warning("record skipped", ["table": table.rawValue, "key": key, "reason": rejection.reason.rawValue,
                                       "detail": rejection.detail, "file": file, "at": position])
    }

    func fileDone(_ path: String, records: Int) {
        filesRead += 1
        log.debug("file read", ["file": path, "records": records])
    }

    func problem(_ error: ReadError) {
        guard !problems.contains(where: { $0.path == error.path }) else { return }
        problems.append(error)
        clearProgressLine()
        log.error("file not read to its end", ["file": error.path, "reason": error.reason])
    }

    /// The progress line: on a terminal at most 5 times a second, otherwise a log line every 10 s.
    func progress(force: Bool = false) {
        let now = Monotonic.seconds()
        guard force || now - lastProgress >= (terminal ? 0.2 : 10) else { return }
        lastProgress = now
        let line = "\(totalRead) records read (users \(counts[.users]?.read ?? 0), wraps \(counts[.wrappedHistory]?.read ?? 0), "
            + "weeks \(counts[.releaseRadarHistory]?.read ?? 0)) · \(rate) records/s · \(Int(now - started)) s"
        if terminal {
            Console.errorRaw("\r\u{1B}[K" + line)
        } else {
            log.info("progress", ["read": totalRead, "rate": rate, "elapsed": Int(now - started)])
        }
    }

    private var rate: Int {
        let seconds = elapsed
        return seconds > 0 ? Int(Double(totalRead) / seconds) : 0
    }

    private func clearProgressLine() {
        if terminal { Console.errorRaw("\r\u{1B}[K") }
    }

    /// The summary: one line per table, one per reason of skipped records, the files that had problems, and what
    /// the database holds afterwards.
    func summary(stoppedBy failure: String?, rowCounts: (users: Int, wraps: Int, weeks: Int)?) -> String {
        clearProgressLine()
        let seconds = elapsed
        let status = failure.map { "stopped: \($0)" } ?? (problems.isEmpty ? "finished" : "finished with file problems")
        var lines = ["import-dynamodb \(status)\(dryRun ? " (dry run: nothing was written)" : "")",
                     "  \(totalRead) records in \(format1(seconds)) s (\(rate) records/s), \(filesRead) files"]
        for table in ExportTable.allCases {
            let c = counts[table] ?? Counts()
            let name = table.rawValue + String(repeating: " ", count: max(30 - table.rawValue.count, 1))
            lines.append("  \(name)read \(c.read)  imported \(c.imported)  unchanged \(c.unchanged)  skipped \(c.skippedTotal)")
            for (reason, count) in c.skipped.sorted(by: { $0.key < $1.key }) {
                lines.append("      skipped, \(reason.rawValue): \(count)")
            }
        }
        for problem in problems { lines.append("  file problem: \(problem)") }
        if let rowCounts {
            lines.append("  the database holds \(rowCounts.users) users, \(rowCounts.wraps) wraps, \(rowCounts.weeks) weeks")
        }
        return lines.joined(separator: "\n")
    }

    private func format1(_ value: Double) -> String {
        let tenths = Int((value * 10).rounded())
        return "\(tenths / 10).\(tenths % 10)"
    }
}

import Log
import Model
import Store

/// `xomify-api import-dynamodb [--dry-run] PATH…` (SPEC §13): the old system's three DynamoDB tables, from S3
/// exports or scan pages, into PostgreSQL.
///
/// Two passes over the files: the first imports users only, the second history only, so that a wrap never
/// waits for its user whatever the order of the PATHs. Files are streamed (gzip decoded on the way, one record
/// parsed at a time), so memory stays flat in the size of the export. A record that does not validate is logged
/// with its table, key and reason and skipped; a file that cannot be read to its end is reported and the others
/// go on. Records are written in batches, each one transaction; a dry run runs the same statements and rolls
/// them back.
public final class DynamoDBImport {
    /// Exit statuses: 0 done (skipped records are reported, not failures); 1 a file could not be read to its end
    /// or the database stopped answering (run it again: it is idempotent); 66 a PATH is not an export.
    public static let completed: Int32 = 0
    public static let incomplete: Int32 = 1
    public static let unusablePath: Int32 = 66

    private let store: ImportStore
    private let dryRun: Bool
    private let log = Logger("import")
    private let report: ImportReport
    private let users: UserDirectory
    private var batch: ImportBatch

    public init(store: ImportStore, dryRun: Bool, batchSize: Int = 250) {
        self.store = store
        self.dryRun = dryRun
        report = ImportReport(log: log, dryRun: dryRun)
        users = UserDirectory(store: store, dryRun: dryRun)
        batch = ImportBatch(capacity: batchSize)
    }

    private enum Pass {
        case users, history
    }

    /// Runs the import; the summary goes to `summary` (standard output), the rest to the log.
    public func run(paths: [String], summary: (String) -> Void) -> Int32 {
        let sources: [ExportSource]
        do {
            sources = try ExportLayout.sources(paths)
        } catch {
            log.error("cannot import", ["path": error.path, "reason": error.reason])
            return DynamoDBImport.unusablePath
        }
        log.info("import started", ["files": sources.count, "dryRun": dryRun])
        var failure: String?
        do {
            var holdsHistory = Set<Int>()
            for (index, source) in sources.enumerated() where source.table == nil || source.table == .users {
                if try read(source, pass: .users) { holdsHistory.insert(index) }
            }
            try flush()
            for (index, source) in sources.enumerated() where source.table?.isHistory == true || holdsHistory.contains(index) {
                _ = try read(source, pass: .history)
            }
            try flush()
        } catch {
            failure = "the database stopped answering (\(error.error)); what was written stays, and the import can be run again"
            log.error("import stopped", ["reason": error.error.description])
        }
        report.progress(force: true)
        let counts = dryRun || failure != nil ? nil : try? store.rowCounts()
        summary(report.summary(stoppedBy: failure, rowCounts: counts))
        return failure == nil && report.problems.isEmpty ? DynamoDBImport.completed : DynamoDBImport.incomplete
    }

    /// Reads one file in one pass; true when it holds records for the other pass (or could not be read, so that
    /// the history pass tries it too).
    private func read(_ source: ExportSource, pass: Pass) throws(ImportBatch.Stop) -> Bool {
        var otherPass = false
        var count = 0
        do {
            let bytes = try FileBytes(path: source.path)
            let detected = source.format == .unknown ? try FormatSniffer.format(of: bytes) : source.format
            guard let format = detected else {
                report.fileDone(source.path, records: 0)
                return false
            }
            let records: RecordSource = format == .lines ? LineRecords(bytes) : ScanPageRecords(bytes)
            while let raw = try records.next() {
                count += 1
                let table = source.table ?? AttributeKeys.table(of: raw.bytes, depth: ExportSource.attributeDepth(format))
                guard (pass == .users) == (table == .users) else {
                    otherPass = true
                    continue
                }
                try handle(raw, table: table, format: format, file: source.path)
            }
        } catch let error as ReadError {
            report.problem(error)
            return source.table == nil
        } catch let stop as ImportBatch.Stop {
            throw stop
        } catch {
            report.problem(ReadError(source.path, "\(error)"))
            return false
        }
        if let expected = source.expectedItems, expected != count {
            report.problem(ReadError(source.path, "the manifest lists \(expected) items, the file holds \(count)"))
        }
        report.fileDone(source.path, records: count)
        return otherPass
    }

    private func handle(_ raw: RawRecord, table: ExportTable, format: ExportSource.Format, file: String)
        throws(ImportBatch.Stop) {
        report.read(table)
        let item: DynamoItem
        do {
            item = try DynamoItem(raw, format: format)
        } catch {
            report.skipped(table, key: "(\(raw.position))", error, file: file, position: raw.position)
            return
        }
        let key = RecordKey.describe(item.attributes, table: table)
        let record: ImportStore.Record
        do throws(Rejection) {
            switch table {
            case .users:
                let user: ImportStore.ImportedUser
                do { user = try UserRecord.user(item) } catch {
                    if let email = try? KeyAttributes.email(item) { users.noteSkipped(email) }
                    throw error
                }
                if case .set(let id?) = user.spotifyUserID, let owner = users.claim(spotifyID: id, for: user.email) {
                    users.noteSkipped(user.email)
                    throw Rejection(.duplicateSpotifyID, "userId \(RecordKey.quoted(id)) is also the userId of \(owner)")
                }
                record = .user(user)
            case .wrappedHistory:
                let wrap = try WrapRecord.wrap(item)
                guard try admit(wrap.email, table) else { return }
                record = .wrap(wrap)
            case .releaseRadarHistory:
                let week = try WeekRecord.week(item)
                guard try admit(week.email, table) else { return }
                record = .week(week)
            }
        } catch {
            report.skipped(table, key: key, error, file: file, position: raw.position)
            return
        }
        batch.append(ImportBatch.Entry(record: record, table: table, key: key, file: file, position: raw.position))
        if batch.isFull { try flush() }
    }

    /// Whether history of `email` goes to the database: its user must be there (or, in a dry run, would be).
    private func admit(_ email: Email, _ table: ExportTable) throws(Rejection) -> Bool {
        let status: UserDirectory.Status
        do { status = try users.status(email) } catch {
            throw Rejection(.databaseRefused, "cannot look the user up: \(error)")
        }
        switch status {
        case .inDatabase: return true
        case .onlyInDryRun:
            // Its user would have been inserted just before: the history row would be new.
            report.outcome(table, .imported)
            return false
        case .skipped: throw Rejection(.userSkipped, "the user \(email) was skipped")
        case .unknown: throw Rejection(.unknownUser, "no user \(email) in the database or in the export's users")
        }
    }

    private func flush() throws(ImportBatch.Stop) {
        try batch.flush(store, dryRun: dryRun) { entry, result in
            switch result {
            case .success(let outcome):
                report.outcome(entry.table, outcome)
                if case .user(let user) = entry.record { users.noteImported(user.email) }
            case .failure(let rejection):
                if case .user(let user) = entry.record { users.noteSkipped(user.email) }
                report.skipped(entry.table, key: entry.key, rejection, file: entry.file, position: entry.position)
            }
        }
    }
}

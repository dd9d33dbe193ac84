import Model
import Store

/// Records waiting to be written together (one transaction per batch: an import of thousands of rows does not
/// wait for a commit per row). When the database refuses a batch, its records are written one by one, so that
/// only the refused record is skipped.
struct ImportBatch {
    struct Entry {
        let record: ImportStore.Record
        let table: ExportTable
        let key: String
        let file: String
        let position: String
    }

    /// The database stopped answering: the import stops (what was committed stays; running it again is safe).
    struct Stop: Error {
        let error: StoreError
    }

    private(set) var entries: [Entry] = []
    let capacity: Int

    init(capacity: Int) {
        self.capacity = capacity
        entries.reserveCapacity(capacity)
    }

    var isFull: Bool { entries.count >= capacity }

    mutating func append(_ entry: Entry) {
        entries.append(entry)
    }

    /// Writes the batch; `done` learns each record's outcome, or its refusal.
    mutating func flush(_ store: ImportStore, dryRun: Bool,
                        _ done: (Entry, Result<ImportStore.Outcome, Rejection>) -> Void) throws(Stop) {
        guard !entries.isEmpty else { return }
        defer { entries.removeAll(keepingCapacity: true) }
        do {
            let outcomes = try store.write(entries.map(\.record), dryRun: dryRun)
            for (entry, outcome) in zip(entries, outcomes) { done(entry, .success(outcome)) }
            return
        } catch {
            try ImportBatch.stopIfUnavailable(error)
        }
        for entry in entries {
            do {
                let outcome = try store.write([entry.record], dryRun: dryRun)
                done(entry, .success(outcome.first ?? .unchanged))
            } catch {
                try ImportBatch.stopIfUnavailable(error)
                done(entry, .failure(Rejection(.databaseRefused, error.description)))
            }
        }
    }

    private static func stopIfUnavailable(_ error: StoreError) throws(Stop) {
        switch error {
        case .unavailable, .outcomeUnknown: throw Stop(error: error)
        case .conflict, .corrupt, .fault: return
        }
    }
}

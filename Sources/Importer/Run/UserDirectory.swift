import Model
import Store

/// Whose history may be imported (SPEC §13: "history whose user is in neither the database nor the export is
/// reported and skipped"): the users the first pass imported (or, in a dry run, would have), the users it
/// skipped, and the answers of the database, asked once per email. It holds emails only (memory grows with the
/// number of users, not with the size of the export), and the Spotify ids seen, to refuse a second user with
/// one before the database would.
final class UserDirectory {
    enum Status {
        case inDatabase
        /// In the export and valid, but (a dry run writes nothing) not in the database.
        case onlyInDryRun
        case skipped
        case unknown
    }

    private let store: ImportStore
    private let dryRun: Bool
    private var imported = Set<Email>()
    private var skipped = Set<Email>()
    private var inDatabase: [Email: Bool] = [:]
    private var spotifyOwners: [String: Email] = [:]

    init(store: ImportStore, dryRun: Bool) {
        self.store = store
        self.dryRun = dryRun
    }

    func noteImported(_ email: Email) {
        imported.insert(email)
        skipped.remove(email)
    }

    func noteSkipped(_ email: Email) {
        if !imported.contains(email) { skipped.insert(email) }
    }

    /// The email already holding `spotifyID` in the export, if another one does; otherwise `email` claims it.
    func claim(spotifyID: String, for email: Email) -> Email? {
        if let owner = spotifyOwners[spotifyID], owner != email { return owner }
        spotifyOwners[spotifyID] = email
        return nil
    }

    func status(_ email: Email) throws(StoreError) -> Status {
        if !dryRun && imported.contains(email) { return .inDatabase }
        let exists: Bool
        if let known = inDatabase[email] {
            exists = known
        } else {
            exists = try store.userExists(email)
            inDatabase[email] = exists
        }
        if exists { return .inDatabase }
        if imported.contains(email) { return .onlyInDryRun }
        return skipped.contains(email) ? .skipped : .unknown
    }
}

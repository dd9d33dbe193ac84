import Model
import Postgres

/// Looking users up by email without their refresh tokens, for administrative commands that hold no token key
/// (`xomify-api mint-token`).
public struct UserLookup {
    private let database: Database

    public init(database: Database) {
        self.database = database
    }

    private static let byEmail = PreparedStatement(
        "SELECT \(UserStore.Column.selectList) FROM users WHERE email = $1")

    /// The user with this email (emails are stored lower-cased), or nil.
    public func user(_ email: Email) throws(StoreError) -> User? {
        try database.read(UserLookup.byEmail, [email]) { result in
            try result.rows(named: UserStore.Column.self).first.map(UserStore.decodeUser)
        }
    }
}

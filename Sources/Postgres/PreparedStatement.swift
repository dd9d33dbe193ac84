import Synchronization

/// A statement a store runs over and over: prepared once per connection, the first time it runs there. Its name
/// is made here, unique in the process, so two statements can never share one (a store declares statements as
/// `static let`, and each gets its own name when first used).
public struct PreparedStatement: Sendable {
    public let sql: String
    let name: String

    private static let counter = Atomic<Int>(0)

    public init(_ sql: String) {
        self.sql = sql
        name = "xomify_\(PreparedStatement.counter.add(1, ordering: .relaxed).newValue)"
    }
}

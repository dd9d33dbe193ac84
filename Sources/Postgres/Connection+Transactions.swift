/// Transactions: BEGIN, the body, COMMIT (or ROLLBACK when the body throws).
extension Connection {
    /// Runs `body` in a READ COMMITTED transaction: committed when it returns, rolled back when it throws. Nested
    /// calls join the outer transaction. If the link breaks before COMMIT is sent (BEGIN's answer lost included),
    /// the error says nothing took effect; if it breaks while COMMIT is awaited, that the outcome is unknown.
    public func transaction<T, E: Error>(_ body: () throws(E) -> T) throws(TransactionError<E>) -> T {
        if transactionDepth > 0 {
            do { return try body() } catch { throw .body(error) }
        }
        do { try query("BEGIN") } catch { throw .database(error.applyingNothing) }
        transactionDepth = 1
        let value: T
        do {
            value = try body()
        } catch {
            rollBack()
            throw .body(error)
        }
        transactionDepth = 0
        do { try query("COMMIT") } catch { throw .database(error) }
        return value
    }

    private func rollBack() {
        transactionDepth = 0
        if isConnected { _ = try? query("ROLLBACK") }
    }
}

/// Why a transaction failed: its body threw, or the database failed around it.
public enum TransactionError<Body: Error>: Error {
    case body(Body)
    case database(PostgresError)
}

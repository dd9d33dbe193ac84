/// Work in flight in this process, by key: the first caller for a key does the work, later callers for the
/// same key wait for its result instead of doing it again (two users of one run following the same artist).
actor InFlight<Key: Hashable & Sendable, Value: Sendable> {
    private var waiting: [Key: [CheckedContinuation<Result<Value, any Error>, Never>]] = [:]

    /// The result of the work for `key`: done here by `work` when nobody is doing it, else the other caller's.
    func run(_ key: Key, _ work: @Sendable () async throws -> Value) async throws -> Value {
        if waiting[key] != nil {
            return try await withCheckedContinuation { waiting[key, default: []].append($0) }.get()
        }
        waiting[key] = []
        let result: Result<Value, any Error>
        do { result = .success(try await work()) } catch { result = .failure(error) }
        for waiter in waiting.removeValue(forKey: key) ?? [] { waiter.resume(returning: result) }
        return try result.get()
    }
}

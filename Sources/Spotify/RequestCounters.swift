import Synchronization

/// Requests by endpoint and 429s, for the job summaries and job-run rows.
public final class RequestCounters: Sendable {
    private let state = Mutex<(byEndpoint: [String: Int], rateLimited: Int)>(([:], 0))

    public init() {}

    func count(_ endpoint: String) {
        state.withLock { $0.byEndpoint[endpoint, default: 0] += 1 }
    }

    func countRateLimited() {
        state.withLock { $0.rateLimited += 1 }
    }

    public var byEndpoint: [String: Int] { state.withLock { $0.byEndpoint } }
    public var total: Int { state.withLock { $0.byEndpoint.values.reduce(0, +) } }
    public var rateLimited: Int { state.withLock { $0.rateLimited } }
}

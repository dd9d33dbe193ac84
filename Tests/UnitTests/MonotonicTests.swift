import Platform
import XCTest

final class MonotonicTests: XCTestCase {
    /// A watchdog reads `now`, then a thread stamps a later start: that is an age of 0, never a wrap-around that
    /// would make a fresh request look hung (the worker was replaced for it under load).
    func testElapsedIsZeroWhenTheStartIsLaterThanNow() {
        XCTAssertEqual(Monotonic.elapsed(since: 1_000, now: 400), 0)
        XCTAssertEqual(Monotonic.elapsed(since: 400, now: 1_000), 600)
        XCTAssertEqual(Monotonic.elapsed(since: 5, now: 5), 0)
    }
}

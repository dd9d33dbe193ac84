import Platform
import XCTest

final class ClockTests: XCTestCase {
    func testElapsedIsZeroWhenTheStampIsLaterThanTheReading() {
        XCTAssertEqual(Monotonic.elapsed(since: 1_000, now: 4_000), 3_000)
        XCTAssertEqual(Monotonic.elapsed(since: 4_000, now: 4_000), 0)
        // A thread stamped its start after the watchdog read its clock: no time, not 584 years.
        XCTAssertEqual(Monotonic.elapsed(since: 4_001, now: 4_000), 0)
    }
}

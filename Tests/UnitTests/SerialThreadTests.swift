import Platform
import Synchronization
import XCTest

final class SerialThreadTests: XCTestCase {
    struct Stopped: Error {}

    func testRunsWorkInOrderOnItsOwnThreadAndReturnsResults() async throws {
        let thread = try SerialThread(name: "test-serial")
        let order = Mutex<[Int]>([])
        for index in 0..<5 {
            let value = try await thread.run({ () -> Int in
                order.withLock { $0.append(index) }
                return index * 2
            }, whenStopped: Stopped())
            XCTAssertEqual(value, index * 2)
        }
        XCTAssertEqual(order.withLock { $0 }, [0, 1, 2, 3, 4])
        thread.stop()
    }
}

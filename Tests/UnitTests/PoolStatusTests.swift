import Foundation
import Platform
@testable import ResponderPool
import XCTest

final class PoolStatusTests: XCTestCase {
    /// Scoreboard counters are shared words other threads and processes add to and subtract from; a status page
    /// rendered while one is momentarily below zero (wrapped to 2^64 - 1) must show 0, not trap its worker (seen:
    /// a connection claimed by one thread before the thread that parked it had counted it).
    func testAWrappedCounterRendersAsZero() throws {
        let memory = try SharedMemory(creating: "xomify-status-test", size: Scoreboard.size(slots: 2))
        let scoreboard = Scoreboard(memory: memory, slotCount: 2)
        scoreboard.set(.threadsPerWorker, 2)
        scoreboard.setState(0, .accepting)
        scoreboard.set(0, .pid, 4242)
        scoreboard.subtract(0, .parkedConnections)
        scoreboard.subtract(0, .busy)
        scoreboard.set(.retiredRequests, UInt64.max)

        let json = PoolStatus(scoreboard: scoreboard, listenFD: -1).statusJSON()
        let status = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(json)) as? [String: Any])
        let workers = try XCTUnwrap(status["workers"] as? [[String: Any]])
        XCTAssertEqual(workers.count, 1)
        XCTAssertEqual(workers[0]["pid"] as? Int, 4242)
        XCTAssertEqual(workers[0]["parkedConnections"] as? Int, 0)
        XCTAssertEqual(workers[0]["busyThreads"] as? Int, 0)
        let pool = try XCTUnwrap(status["pool"] as? [String: Any])
        XCTAssertEqual(pool["acceptedRequests"] as? Int, 0)
    }
}

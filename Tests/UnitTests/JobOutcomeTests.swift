@testable import Jobs
import Spotify
import Store
import XCTest

/// The job's one mapping from errors to outcomes, for the failures of the database behind a write.
final class JobOutcomeTests: XCTestCase {
    func testADatabaseFailureOrAnUnknownWriteStopsTheRunAndLeavesTheUserPending() {
        for error: any Error in [StoreError.outcomeUnknown("answer lost"), StoreError.unavailable("down"),
                                 SpotifyError.budgetUnavailable("answer lost")] {
            guard case .stopRun(_, .stoppedEarly) = JobOutcome(error) else {
                return XCTFail("\(error) must stop the run")
            }
            // The item goes back to pending without counting an attempt.
            guard case .interrupted = JobOutcome(error).itemOutcome else { return XCTFail("\(error)") }
        }
    }

    func testABudgetThatCannotBeReservedIsNotTheUsersFailure() {
        XCTAssertTrue(SpotifyError.budgetUnavailable("x").stopsRun)
        XCTAssertEqual(JobOutcome(SpotifyError.unavailable("Spotify 503")), .retryLater("Spotify unavailable: Spotify 503"))
    }
}

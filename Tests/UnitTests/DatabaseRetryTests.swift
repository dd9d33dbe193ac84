@testable import Postgres
@testable import Store
import XCTest

/// When the store repeats a command (Database.attempt): only when repeating it cannot apply it twice.
final class DatabaseRetryTests: XCTestCase {
    private func server(_ state: String) -> PostgresError {
        .server(.init(sqlState: state, message: "m", detail: nil, constraint: nil))
    }

    func testAReadIsRepeatedAfterAnyBrokenLink() {
        XCTAssertTrue(Database.worthRepeating(.connectionLost("eof", effect: .none), writing: false))
        XCTAssertTrue(Database.worthRepeating(.connectionLost("eof", effect: .unknown), writing: false))
    }

    func testAWriteIsRepeatedOnlyWhenItCertainlyDidNotTakeEffect() {
        XCTAssertTrue(Database.worthRepeating(.connectionLost("not sent", effect: .none), writing: true))
        XCTAssertFalse(Database.worthRepeating(.connectionLost("answer lost", effect: .unknown), writing: true))
    }

    func testDeadlocksAndSerializationFailuresAreRepeatedTheyWereRolledBack() {
        XCTAssertTrue(Database.worthRepeating(server("40P01"), writing: true))
        XCTAssertTrue(Database.worthRepeating(server("40001"), writing: false))
    }

    func testALinkLostAroundACommandThatAppliesNothingLeavesTheWriteCertainlyNotApplied() {
        // Preparing a statement, BEGIN: whatever became of them, nothing was applied.
        let lost = PostgresError.connectionLost("eof", effect: .unknown).applyingNothing
        XCTAssertTrue(Database.worthRepeating(lost, writing: true))
        guard case .unavailable = StoreError(lost, writing: true) else {
            return XCTFail("a write whose statement was only being prepared changed nothing")
        }
        guard case .timeout(_, .none) = PostgresError.timeout(seconds: 1, effect: .unknown).applyingNothing else {
            return XCTFail("a timeout while preparing applied nothing either")
        }
        // A refusal stays a refusal.
        XCTAssertEqual(server("42601").applyingNothing.sqlState, "42601")
    }

    func testNothingElseIsRepeated() {
        // No connection at all: repeating at once would only double the wait; the caller answers 503.
        XCTAssertFalse(Database.worthRepeating(.connectionFailed("refused"), writing: false))
        // A timeout: the server may still be working on it (reads too: a second wait would double the delay).
        XCTAssertFalse(Database.worthRepeating(.timeout(seconds: 1, effect: .none), writing: false))
        XCTAssertFalse(Database.worthRepeating(.timeout(seconds: 1, effect: .unknown), writing: true))
        // The command itself was refused.
        XCTAssertFalse(Database.worthRepeating(server("23505"), writing: true))
        XCTAssertFalse(Database.worthRepeating(server("57014"), writing: false))
        XCTAssertFalse(Database.worthRepeating(.decoding(column: "c", expected: "Int", found: "x"), writing: false))
    }

    func testAWriteWhoseAnswerWasLostIsReportedAsSuch() {
        guard case .outcomeUnknown = StoreError(PostgresError.connectionLost("eof", effect: .unknown), writing: true) else {
            return XCTFail("a write whose answer was lost must say its outcome is unknown")
        }
        guard case .unavailable = StoreError(PostgresError.connectionLost("eof", effect: .unknown), writing: false) else {
            return XCTFail("a read whose answer was lost changed nothing")
        }
        guard case .unavailable = StoreError(PostgresError.connectionLost("eof", effect: .none), writing: true) else {
            return XCTFail("a write that was not sent changed nothing")
        }
        guard case .unavailable = StoreError(server("57014"), writing: true) else {
            return XCTFail("a cancelled statement (statement_timeout) did not take effect")
        }
        guard case .conflict = StoreError(server("23505"), writing: true) else { return XCTFail("unique violation") }
    }
}

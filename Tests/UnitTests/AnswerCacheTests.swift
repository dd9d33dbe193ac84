@testable import API
import XCTest

final class AnswerCacheTests: XCTestCase {
    private func answer(_ revision: Int64, bytes: Int) -> AnswerCache.Answer {
        AnswerCache.Answer(revision: revision, tag: "\"\(revision)\"", body: [UInt8](repeating: 0x61, count: bytes),
                           wrapsOffset: 0)
    }

    /// Cost of an entry of `bytes` under a one-character key.
    private func cost(_ bytes: Int) -> Int { bytes + 1 + AnswerCache.entryOverhead }

    func testKeepsAndReplacesAnswersByKey() {
        let cache = AnswerCache(maxBytes: 100_000)
        XCTAssertNil(cache.answer(for: "a"))
        cache.keep(answer(1, bytes: 100), for: "a")
        XCTAssertEqual(cache.answer(for: "a")?.revision, 1)
        cache.keep(answer(2, bytes: 300), for: "a")
        XCTAssertEqual(cache.answer(for: "a")?.revision, 2)
        XCTAssertEqual(cache.statistics.entries, 1)
        XCTAssertEqual(cache.statistics.bytes, cost(300))
    }

    func testEvictsTheLeastRecentlyUsedPastTheBound() {
        let cache = AnswerCache(maxBytes: 8 * cost(1000))
        for key in ["a", "b", "c", "d", "e", "f", "g", "h"] { cache.keep(answer(1, bytes: 1000), for: key) }
        XCTAssertEqual(cache.statistics.entries, 8)
        _ = cache.answer(for: "a")                  // a is now the most recently used
        cache.keep(answer(1, bytes: 1000), for: "i")
        XCTAssertNil(cache.answer(for: "b"), "the least recently used goes first")
        XCTAssertNotNil(cache.answer(for: "a"))
        XCTAssertNotNil(cache.answer(for: "i"))
        XCTAssertEqual(cache.statistics.evictions, 1)
        XCTAssertLessThanOrEqual(cache.statistics.bytes, cache.maxBytes)
        // Freed slots are reused: many more keys, the same bound.
        for index in 0..<1000 { cache.keep(answer(Int64(index), bytes: 990), for: "k\(index)") }
        XCTAssertEqual(cache.statistics.entries, 8)
        XCTAssertEqual(cache.answer(for: "k999")?.revision, 999)
        XCTAssertNil(cache.answer(for: "k991"))
    }

    func testRefusesAnAnswerOverAnEighthOfTheBoundAndKeepsNothingWhenOff() {
        let cache = AnswerCache(maxBytes: 8 * cost(1000))
        cache.keep(answer(1, bytes: 1001), for: "a")
        XCTAssertNil(cache.answer(for: "a"))
        cache.keep(answer(1, bytes: 1000), for: "a")
        XCTAssertNotNil(cache.answer(for: "a"))
        let off = AnswerCache(maxBytes: 0)
        off.keep(answer(1, bytes: 1), for: "a")
        off.record(hit: false)
        XCTAssertNil(off.answer(for: "a"))
        XCTAssertEqual(off.statistics, AnswerCache.Statistics())
    }
}

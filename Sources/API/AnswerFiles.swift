import JSON
import Platform
import Synchronization
import Text

/// The second tier of kept `GET /wrapped/data` answers, behind each worker's `AnswerCache`: files in one directory
/// shared by every worker of the host, so that what they keep lives in the kernel's page cache (reclaimable, one
/// copy for all workers) instead of in the workers' memory, which cannot hold thousands of 125 KB answers. Like the
/// first tier, a file is served only after PostgreSQL has confirmed its revision in the request's own round trip.
///
/// A user's answer is the file named by a 64-bit hash of the email; the file names its user too (a hash shared by
/// two emails is a miss, not the other's answer) and is replaced by a rename (a reader opens the old file or the
/// new one whole). Bounded by `limit` files: every so many writes, a worker counts the files and removes the
/// least recently written beyond nine tenths of the limit. Layout: the body, the email, the tag,
/// then a fixed trailer (revision, the body's length, where the wraps start in it, the two other lengths, a magic
/// number), so that one read gives the body in place; a file whose lengths do not add up is not used.
final class AnswerFiles: Sendable {
    struct Statistics: Sendable, Equatable {
        var hits = 0
        var misses = 0
        var writes = 0
        var failedWrites = 0
        var prunes = 0
    }

    let directory: String
    let limit: Int
    /// Writes of this worker between two counts of the files.
    private let countEvery: Int
    /// Larger answers are not kept (a user with decades of wraps).
    static let largestBody = 4 << 20
    private static let magic: [UInt8] = Array("XAF1".utf8)
    private static let trailerSize = 8 + 4 + 4 + 2 + 2 + 4
    private let statistics = Mutex(Statistics())
    private let temporaryNumber = Atomic<Int>(0)
    private let pruning = Mutex(false)

    init(directory: String, limit: Int) {
        self.directory = directory
        self.limit = max(1, limit)
        countEvery = min(256, max(1, limit / 64))
    }

    /// Empties (or creates) the directory: at the pool's start, so that nothing kept before can outlive a restored
    /// database whose revisions start over.
    static func prepare(directory: String) throws(SystemError) {
        try Files.makeDirectory(directory)
        for name in try Files.list(directory) where name.hasPrefix("answer-") || name.hasPrefix("tmp-") {
            Files.remove(directory + "/" + name)
        }
    }

    /// The answer kept for `key` (to be confirmed against the database), nil when none is.
    func answer(for key: String) -> AnswerCache.Answer? {
        guard var bytes = Files.readWhole(path(key), limit: AnswerFiles.largestBody + 1024),
              let found = AnswerFiles.trailer(of: bytes, key: key) else { return nil }
        // The body is the front of what was read: drop the rest in place (no copy).
        bytes.removeLast(bytes.count - found.bodyCount)
        return AnswerCache.Answer(revision: found.revision, tag: found.tag, body: bytes, wrapsOffset: found.wrapsOffset)
    }

    /// Keeps `answer` in `key`'s slot.
    func keep(_ answer: AnswerCache.Answer, for key: String) {
        guard answer.body.count <= AnswerFiles.largestBody else { return }
        let email = Array(key.utf8), tag = Array(answer.tag.utf8)
        var trailer: [UInt8] = email + tag
        trailer.reserveCapacity(email.count + tag.count + AnswerFiles.trailerSize)
        append(UInt64(bitPattern: answer.revision), bytes: 8, to: &trailer)
        append(UInt64(answer.body.count), bytes: 4, to: &trailer)
        append(UInt64(answer.wrapsOffset), bytes: 4, to: &trailer)
        append(UInt64(email.count), bytes: 2, to: &trailer)
        append(UInt64(tag.count), bytes: 2, to: &trailer)
        trailer += AnswerFiles.magic
        let number = temporaryNumber.add(1, ordering: .relaxed).newValue
        let temporary = "\(directory)/tmp-\(Processes.currentID())-\(number)"
        do {
            try Files.replace(path(key), with: [answer.body, trailer], temporary: temporary)
            let writes = statistics.withLock { counters in
                counters.writes += 1
                return counters.writes
            }
            if writes % countEvery == 0 { prune() }
        } catch {
            // A full or read-only disk costs the cache, never the answer.
            statistics.withLock { $0.failedWrites += 1 }
        }
    }

    /// Past the limit, removes the least recently written files down to nine tenths of it (and temporary files
    /// a crashed worker left). One thread of a worker at a time; workers may overlap, which only removes more.
    private func prune() {
        let mine = pruning.withLock { busy -> Bool in
            if busy { return false }
            busy = true
            return true
        }
        guard mine else { return }
        defer { pruning.withLock { $0 = false } }
        guard let names = try? Files.list(directory) else { return }
        let answers = names.filter { $0.hasPrefix("answer-") }
        let now = WallClock.now()
        for name in names where name.hasPrefix("tmp-") {
            let path = directory + "/" + name
            if let written = Files.modificationTime(path), now - Double(written) / 1e9 > 60 { Files.remove(path) }
        }
        guard answers.count > limit else { return }
        let dated = answers.compactMap { name in Files.modificationTime(directory + "/" + name).map { (name, $0) } }
        for (name, _) in dated.sorted(by: { $0.1 < $1.1 }).prefix(max(0, dated.count - limit * 9 / 10)) {
            Files.remove(directory + "/" + name)
        }
        statistics.withLock { $0.prunes += 1 }
    }

    func record(hit: Bool) {
        statistics.withLock { if hit { $0.hits += 1 } else { $0.misses += 1 } }
    }

    var counters: Statistics { statistics.withLock { $0 } }

    /// The status page's `answerFiles` object: the directory, its limit and this worker's counters.
    func writeStatus(to writer: inout JSONWriter) {
        let counters = counters
        writer.beginObject()
        writer.key("directory"); writer.string(directory)
        writer.key("limit"); writer.int(limit)
        writer.key("hits"); writer.int(counters.hits)
        writer.key("misses"); writer.int(counters.misses)
        writer.key("writes"); writer.int(counters.writes)
        writer.key("failedWrites"); writer.int(counters.failedWrites)
        writer.key("prunes"); writer.int(counters.prunes)
        writer.endObject()
    }

    private func path(_ key: String) -> String {
        "\(directory)/answer-\(ZeroPadding.pad(AnswerFiles.hash(key), 16, radix: 16))"
    }

    /// 64-bit FNV-1a of the key's bytes.
    private static func hash(_ key: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in key.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        return hash
    }

    private func append(_ value: UInt64, bytes: Int, to buffer: inout [UInt8]) {
        for index in 0..<bytes { buffer.append(UInt8(truncatingIfNeeded: value >> (8 * index))) }
    }

    /// What the trailer of a file says, when `bytes` are a whole file of this layout kept for `key`.
    private static func trailer(of bytes: [UInt8], key: String)
        -> (revision: Int64, tag: String, wrapsOffset: Int, bodyCount: Int)? {
        let count = bytes.count
        guard count >= trailerSize, bytes[(count - 4)...].elementsEqual(magic) else { return nil }
        func number(at offset: Int, _ size: Int) -> Int {
            (0..<size).reduce(0) { $0 | Int(bytes[offset + $1]) << (8 * $1) }
        }
        let fixed = count - trailerSize
        let revision = Int64(bitPattern: UInt64(truncatingIfNeeded: number(at: fixed, 8)))
        let bodyCount = number(at: fixed + 8, 4)
        let wrapsOffset = number(at: fixed + 12, 4)
        let emailCount = number(at: fixed + 16, 2)
        let tagCount = number(at: fixed + 18, 2)
        guard bodyCount > 0, bodyCount + emailCount + tagCount == fixed, wrapsOffset < bodyCount,
              bytes[bodyCount ..< bodyCount + emailCount].elementsEqual(key.utf8) else { return nil }
        let tag = String(decoding: bytes[(bodyCount + emailCount) ..< fixed], as: UTF8.self)
        return (revision, tag, wrapsOffset, bodyCount)
    }
}

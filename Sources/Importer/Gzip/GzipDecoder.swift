/// A streaming gzip decoder (RFC 1952 members around RFC 1951 deflate data), in bounded memory: it pulls input
/// in whatever chunks its source gives and hands out decoded bytes in chunks of about `chunkSize`, keeping only
/// deflate's 32 KiB window between calls. Every member's CRC-32 and length are checked; concatenated members are
/// decoded one after the other, as `gzip -dc` does.
///
/// Written here because the project links no zlib (its C libraries are libfcgi, libpq, libcurl and OpenSSL), and
/// a child `gzip -dc` would put a second process, its exit status and its error text between the importer and
/// the data. The decoding follows zlib's puff.c (the reference decoder) with a lookup table for short codes.
public final class GzipDecoder {
    public typealias Pull = () throws(GzipError) -> [UInt8]

    private var machine: InflateMachine

    public init(chunkSize: Int = 1 << 16, pull: @escaping Pull) {
        machine = InflateMachine(chunkSize: chunkSize, pull: pull)
    }

    deinit {
        machine.deallocate()
    }

    /// The next decoded bytes; empty once the stream has ended (after its last member's trailer was checked).
    public func next() throws(GzipError) -> [UInt8] {
        try machine.next()
    }
}

/// The decoder's state and work. A struct whose methods mutate it in place: a class's stored properties would
/// be checked for exclusive access at run time on every bit read, which costs more than the decoding itself.
struct InflateMachine {
    typealias Pull = GzipDecoder.Pull

    static let windowSize = 32768
    let chunkSize: Int

    private let pull: Pull
    private var input: [UInt8] = []
    private var inputIndex = 0
    private var inputEnded = false
    private var bitBuffer: UInt64 = 0
    private var bitCount = 0

    /// Decoded bytes: the window (already handed out) followed by bytes not yet handed out.
    private let output: UnsafeMutablePointer<UInt8>
    private let outputCapacity: Int
    private var outputCount = 0
    private var handedOut = 0
    /// Bytes of the current member decoded so far (distances may not reach before the member).
    private var memberLength = 0
    private var crc = CRC32()
    private var crcIndex = 0

    private enum State {
        case memberHeader
        case blockHeader
        case stored(remaining: Int)
        case codes
        case memberTrailer
        case finished
    }

    private var state = State.memberHeader
    private var lastBlock = false
    private var literalLength = HuffmanTable.fixedLiteralLength
    private var distance = HuffmanTable.fixedDistance
    private var membersDecoded = 0

    init(chunkSize: Int, pull: @escaping Pull) {
        self.chunkSize = max(chunkSize, 1024)
        self.pull = pull
        // The window, a chunk, and one longest match (258 bytes) past the chunk.
        outputCapacity = InflateMachine.windowSize + self.chunkSize + 512
        output = UnsafeMutablePointer<UInt8>.allocate(capacity: outputCapacity)
    }

    /// Frees the output buffer (the owning decoder's deinit).
    func deallocate() {
        output.deallocate()
    }

    mutating func next() throws(GzipError) -> [UInt8] {
        let target = handedOut + chunkSize
        while outputCount < target {
            switch state {
            case .finished:
                return handOut()
            case .memberHeader:
                try readMemberHeader()
            case .blockHeader:
                try readBlockHeader()
            case .stored(let remaining):
                try copyStored(remaining: remaining, room: target - outputCount)
            case .codes:
                try decodeCodes(until: target)
            case .memberTrailer:
                try checkTrailer()
            }
        }
        return handOut()
    }

    // MARK: Output

    private mutating func handOut() -> [UInt8] {
        updateCRC()
        let chunk = Array(UnsafeBufferPointer(start: output + handedOut, count: outputCount - handedOut))
        handedOut = outputCount
        // Keep the last window's bytes at the start of the buffer for the next call's matches.
        if outputCount > InflateMachine.windowSize {
            let drop = outputCount - InflateMachine.windowSize
            // Overlapping regions: copyMemory moves like memmove.
            UnsafeMutableRawPointer(output).copyMemory(from: output + drop, byteCount: InflateMachine.windowSize)
            outputCount -= drop
            handedOut -= drop
            crcIndex -= drop
        }
        return chunk
    }

    private mutating func updateCRC() {
        crc.update(UnsafeBufferPointer(start: output + crcIndex, count: outputCount - crcIndex))
        crcIndex = outputCount
    }

    // MARK: Bits

    /// Tops the bit buffer up to at least 57 bits, or to what is left of the input.
    @inline(__always)
    private mutating func fill() throws(GzipError) {
        while bitCount <= 56 {
            if inputIndex == input.count {
                if inputEnded { return }
                input = try pull()
                inputIndex = 0
                if input.isEmpty { inputEnded = true; return }
            }
            bitBuffer |= UInt64(input[inputIndex]) << UInt64(bitCount)
            inputIndex += 1
            bitCount += 8
        }
    }

    /// The next `count` bits (at most 32), least significant first.
    @inline(__always)
    private mutating func bits(_ count: Int) throws(GzipError) -> Int {
        if bitCount < count {
            try fill()
            if bitCount < count { throw .truncated }
        }
        let value = Int(bitBuffer & ((1 << UInt64(count)) - 1))
        bitBuffer >>= UInt64(count)
        bitCount -= count
        return value
    }

    private mutating func alignToByte() {
        let extra = bitCount % 8
        bitBuffer >>= UInt64(extra)
        bitCount -= extra
    }

    /// True when no input is left at all (checked between members).
    private mutating func atEnd() throws(GzipError) -> Bool {
        if bitCount > 0 { return false }
        try fill()
        return bitCount == 0
    }

    // MARK: Members

    private mutating func readMemberHeader() throws(GzipError) {
        if membersDecoded > 0, try atEnd() {
            state = .finished
            return
        }
        if membersDecoded == 0, try atEnd() { throw .truncated }
        let id1 = try bits(8), id2 = try bits(8)
        guard id1 == 0x1F, id2 == 0x8B else { throw membersDecoded == 0 ? .notGzip : .trailingData }
        let method = try bits(8)
        guard method == 8 else { throw .unsupportedHeader("compression method \(method), only deflate (8) exists") }
        let flags = try bits(8)
        guard flags & 0xE0 == 0 else { throw .unsupportedHeader("reserved flag bits set") }
        _ = try bits(32)  // modification time
        _ = try bits(16)  // extra flags, operating system
        if flags & 0x04 != 0 {  // FEXTRA
            let length = try bits(16)
            for _ in 0..<length { _ = try bits(8) }
        }
        if flags & 0x08 != 0 { while try bits(8) != 0 {} }  // FNAME
        if flags & 0x10 != 0 { while try bits(8) != 0 {} }  // FCOMMENT
        if flags & 0x02 != 0 { _ = try bits(16) }  // FHCRC
        crc = CRC32()
        updateCRCStart()
        memberLength = 0
        lastBlock = false
        state = .blockHeader
    }

    /// Starts the new member's CRC at the first byte it will decode.
    private mutating func updateCRCStart() {
        crcIndex = outputCount
    }

    private mutating func checkTrailer() throws(GzipError) {
        updateCRC()
        alignToByte()
        let expectedCRC = UInt32(try bits(16)) | UInt32(try bits(16)) << 16
        let expectedLength = UInt32(try bits(16)) | UInt32(try bits(16)) << 16
        guard expectedCRC == crc.value else { throw .checksumMismatch(expected: expectedCRC, actual: crc.value) }
        let actualLength = UInt32(truncatingIfNeeded: memberLength)
        guard expectedLength == actualLength else { throw .lengthMismatch(expected: expectedLength, actual: actualLength) }
        membersDecoded += 1
        state = .memberHeader
    }

    // MARK: Blocks

    private mutating func readBlockHeader() throws(GzipError) {
        if lastBlock {
            state = .memberTrailer
            return
        }
        lastBlock = try bits(1) == 1
        switch try bits(2) {
        case 0:
            alignToByte()
            let length = try bits(16)
            let complement = try bits(16)
            guard length == complement ^ 0xFFFF else { throw .corrupt("stored block length does not match its complement") }
            state = .stored(remaining: length)
        case 1:
            literalLength = HuffmanTable.fixedLiteralLength
            distance = HuffmanTable.fixedDistance
            state = .codes
        case 2:
            try readDynamicTables()
            state = .codes
        default:
            throw .corrupt("invalid block type 3")
        }
    }

    private mutating func copyStored(remaining: Int, room: Int) throws(GzipError) {
        var remaining = remaining
        let count = min(remaining, room)
        var copied = 0
        // Whole bytes still in the bit buffer first (the block starts byte-aligned), then straight from the input.
        while copied < count && bitCount >= 8 {
            output[outputCount] = UInt8(truncatingIfNeeded: bitBuffer)
            bitBuffer >>= 8
            bitCount -= 8
            outputCount += 1
            copied += 1
        }
        while copied < count {
            if inputIndex == input.count {
                if inputEnded { throw .truncated }
                input = try pull()
                inputIndex = 0
                if input.isEmpty { inputEnded = true; throw .truncated }
            }
            let take = min(count - copied, input.count - inputIndex)
            input.withUnsafeBufferPointer { source in
                guard let base = source.baseAddress else { return }
                (output + outputCount).update(from: base + inputIndex, count: take)
            }
            inputIndex += take
            outputCount += take
            copied += take
        }
        memberLength += copied
        remaining -= copied
        state = remaining == 0 ? .blockHeader : .stored(remaining: remaining)
    }

    private static let codeLengthOrder = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15]

    private mutating func readDynamicTables() throws(GzipError) {
        let literalCount = try bits(5) + 257
        let distanceCount = try bits(5) + 1
        let codeLengthCount = try bits(4) + 4
        guard literalCount <= 286, distanceCount <= 30 else { throw .corrupt("too many length or distance codes") }
        var codeLengthLengths = [UInt8](repeating: 0, count: 19)
        for index in 0..<codeLengthCount {
            codeLengthLengths[InflateMachine.codeLengthOrder[index]] = UInt8(try bits(3))
        }
        let codeLengths = try HuffmanTable(lengths: codeLengthLengths, completeness: .required)
        var lengths = [UInt8](repeating: 0, count: literalCount + distanceCount)
        var index = 0
        while index < lengths.count {
            let symbol = try decode(codeLengths)
            if symbol < 16 {
                lengths[index] = UInt8(symbol)
                index += 1
                continue
            }
            var value: UInt8 = 0
            let repeatCount: Int
            switch symbol {
            case 16:
                guard index > 0 else { throw .corrupt("repeated code length with no previous length") }
                value = lengths[index - 1]
                repeatCount = 3 + (try bits(2))
            case 17: repeatCount = 3 + (try bits(3))
            default: repeatCount = 11 + (try bits(7))
            }
            guard index + repeatCount <= lengths.count else { throw .corrupt("too many code lengths") }
            for _ in 0..<repeatCount {
                lengths[index] = value
                index += 1
            }
        }
        guard lengths[256] != 0 else { throw .corrupt("no end-of-block code") }
        literalLength = try HuffmanTable(lengths: Array(lengths[0..<literalCount]), completeness: .singleCodeAllowed)
        distance = try HuffmanTable(lengths: Array(lengths[literalCount...]), completeness: .singleCodeAllowed)
    }

    // MARK: Codes

    /// The next symbol of `table`.
    @inline(__always)
    private mutating func decode(_ table: HuffmanTable) throws(GzipError) -> Int {
        if bitCount < HuffmanTable.maxBits { try fill() }
        let entry = Int(table.fast[Int(bitBuffer & UInt64((1 << HuffmanTable.fastBits) - 1))])
        if entry != 0 {
            let length = entry & 15
            guard length <= bitCount else { throw .truncated }
            bitBuffer >>= UInt64(length)
            bitCount -= length
            return entry >> 4
        }
        return try decodeSlowly(table)
    }

    /// Walks the canonical code bit by bit (codes longer than the lookup table's).
    private mutating func decodeSlowly(_ table: HuffmanTable) throws(GzipError) -> Int {
        var code = 0, first = 0, index = 0
        for length in 1...HuffmanTable.maxBits {
            guard length <= bitCount else { throw .truncated }
            code |= Int((bitBuffer >> UInt64(length - 1)) & 1)
            let count = table.counts[length]
            if code - count < first {
                bitBuffer >>= UInt64(length)
                bitCount -= length
                return Int(table.symbols[index + code - first])
            }
            index += count
            first = (first + count) << 1
            code <<= 1
        }
        throw .corrupt("invalid Huffman code")
    }

    private static let lengthBase = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115,
                                     131, 163, 195, 227, 258]
    private static let lengthExtra = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0]
    private static let distanceBase = [1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025,
                                       1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577]
    private static let distanceExtra = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12,
                                        12, 13, 13]

    /// Decodes literals and matches of a Huffman block until `target` bytes are in the buffer or the block ends.
    private mutating func decodeCodes(until target: Int) throws(GzipError) {
        let literalLength = self.literalLength
        let distance = self.distance
        while outputCount < target {
            let symbol = try decode(literalLength)
            if symbol < 256 {
                output[outputCount] = UInt8(symbol)
                outputCount += 1
                memberLength += 1
                continue
            }
            if symbol == 256 {
                state = .blockHeader
                return
            }
            let lengthSymbol = symbol - 257
            guard lengthSymbol < 29 else { throw .corrupt("invalid length symbol \(symbol)") }
            let length = InflateMachine.lengthBase[lengthSymbol] + (try bits(InflateMachine.lengthExtra[lengthSymbol]))
            let distanceSymbol = try decode(distance)
            guard distanceSymbol < 30 else { throw .corrupt("invalid distance symbol \(distanceSymbol)") }
            let back = InflateMachine.distanceBase[distanceSymbol] + (try bits(InflateMachine.distanceExtra[distanceSymbol]))
            guard back <= memberLength, back <= InflateMachine.windowSize else {
                throw .corrupt("distance \(back) reaches before the start of the data")
            }
            // Byte by byte: a match may overlap the bytes it produces (a run).
            var from = outputCount - back
            for _ in 0..<length {
                output[outputCount] = output[from]
                outputCount += 1
                from += 1
            }
            memberLength += length
        }
    }
}

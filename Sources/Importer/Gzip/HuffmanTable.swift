/// A canonical Huffman code of DEFLATE (RFC 1951 §3.2.2), decoded LSB-first. Codes of up to `fastBits` bits are
/// found with one lookup; longer (rare) ones by walking the canonical code, as zlib's puff.c does.
struct HuffmanTable: Sendable {
    static let fastBits = 9
    static let maxBits = 15

    /// Indexed by the next `fastBits` input bits: `symbol << 4 | length`, or 0 when the code is longer.
    let fast: [UInt16]
    /// Number of codes of each length (index 0 unused).
    let counts: [Int]
    /// Symbols ordered by code length, then by value (the canonical order).
    let symbols: [UInt16]

    /// Which incomplete codes (codes that leave some bit patterns unused) are accepted, as zlib decides.
    enum Completeness {
        /// The code-length code must be complete.
        case required
        /// Literal/length and distance codes may be a single one-bit code, or no code at all.
        case singleCodeAllowed
        /// The fixed distance code has 30 five-bit codes of 32 (RFC 1951 §3.2.6).
        case fixed
    }

    /// Builds the code from each symbol's code length (0 = unused). An over-subscribed set of lengths is
    /// refused, and so is an incomplete one unless `completeness` allows it.
    init(lengths: [UInt8], completeness: Completeness) throws(GzipError) {
        var counts = [Int](repeating: 0, count: HuffmanTable.maxBits + 1)
        for length in lengths { counts[Int(length)] += 1 }
        let used = lengths.count - counts[0]
        var left = 1
        for length in 1...HuffmanTable.maxBits {
            left = left * 2 - counts[length]
            if left < 0 { throw .corrupt("over-subscribed Huffman code") }
        }
        if left > 0 {
            switch completeness {
            case .required: throw .corrupt("incomplete code-length code")
            case .singleCodeAllowed: if used > 1 { throw .corrupt("incomplete Huffman code") }
            case .fixed: break
            }
        }
        var offsets = [Int](repeating: 0, count: HuffmanTable.maxBits + 2)
        for length in 1...HuffmanTable.maxBits { offsets[length + 1] = offsets[length] + counts[length] }
        var symbols = [UInt16](repeating: 0, count: max(used, 1))
        var fast = [UInt16](repeating: 0, count: 1 << HuffmanTable.fastBits)
        var nextCode = [Int](repeating: 0, count: HuffmanTable.maxBits + 1)
        // RFC 1951 §3.2.2: the first code of each length (unused symbols, counts[0], do not count).
        var code = 0
        for length in 1...HuffmanTable.maxBits {
            code = (code + (length == 1 ? 0 : counts[length - 1])) << 1
            nextCode[length] = code
        }
        for (symbol, length) in lengths.enumerated() where length > 0 {
            let length = Int(length)
            symbols[offsets[length]] = UInt16(symbol)
            offsets[length] += 1
            let assigned = nextCode[length]
            nextCode[length] += 1
            guard length <= HuffmanTable.fastBits else { continue }
            var reversed = 0
            for bit in 0..<length where assigned & (1 << bit) != 0 { reversed |= 1 << (length - 1 - bit) }
            var index = reversed
            while index < fast.count {
                fast[index] = UInt16(symbol << 4 | length)
                index += 1 << length
            }
        }
        self.fast = fast
        self.counts = counts
        self.symbols = symbols
    }

    /// The fixed codes of block type 1 (RFC 1951 §3.2.6).
    static let fixedLiteralLength: HuffmanTable = {
        var lengths = [UInt8](repeating: 8, count: 288)
        for symbol in 144..<256 { lengths[symbol] = 9 }
        for symbol in 256..<280 { lengths[symbol] = 7 }
        // Built from constant lengths that form a complete code: it cannot fail.
        return (try? HuffmanTable(lengths: lengths, completeness: .fixed)) ?? HuffmanTable.empty
    }()

    static let fixedDistance: HuffmanTable = {
        (try? HuffmanTable(lengths: [UInt8](repeating: 5, count: 30), completeness: .fixed)) ?? HuffmanTable.empty
    }()

    private static let empty = HuffmanTable(fast: [UInt16](repeating: 0, count: 1 << fastBits),
                                            counts: [Int](repeating: 0, count: maxBits + 1), symbols: [0])

    private init(fast: [UInt16], counts: [Int], symbols: [UInt16]) {
        self.fast = fast
        self.counts = counts
        self.symbols = symbols
    }
}

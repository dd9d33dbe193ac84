/// Base64 (RFC 4648 §4) and base64url without padding (§5, as JWTs use it).
public enum Base64 {
    private static let standardAlphabet: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
    private static let urlAlphabet: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    private static let standardTable = decodeTable(standardAlphabet)
    private static let urlTable = decodeTable(urlAlphabet)

    private static func decodeTable(_ alphabet: [UInt8]) -> [UInt8] {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (index, byte) in alphabet.enumerated() { table[Int(byte)] = UInt8(index) }
        return table
    }

    public static func encode(_ bytes: [UInt8]) -> String {
        String(decoding: encodeBytes(bytes, alphabet: standardAlphabet, pad: true), as: UTF8.self)
    }

    public static func encodeBytes(_ bytes: [UInt8]) -> [UInt8] {
        encodeBytes(bytes, alphabet: standardAlphabet, pad: true)
    }

    public static func urlEncode(_ bytes: [UInt8]) -> String {
        String(decoding: encodeBytes(bytes, alphabet: urlAlphabet, pad: false), as: UTF8.self)
    }

    /// Decodes standard base64; padding optional; whitespace is not allowed. Nil when malformed.
    public static func decode(_ text: String) -> [UInt8]? {
        decode(Array(text.utf8), table: standardTable)
    }

    /// Decodes unpadded base64url (padding tolerated). Nil when malformed.
    public static func urlDecode<S: StringProtocol>(_ text: S) -> [UInt8]? {
        decode(Array(text.utf8), table: urlTable)
    }

    private static func encodeBytes(_ bytes: [UInt8], alphabet: [UInt8], pad: Bool) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity((bytes.count + 2) / 3 * 4)
        var index = 0
        while index + 3 <= bytes.count {
            let n = UInt32(bytes[index]) << 16 | UInt32(bytes[index + 1]) << 8 | UInt32(bytes[index + 2])
            out.append(alphabet[Int(n >> 18 & 63)])
            out.append(alphabet[Int(n >> 12 & 63)])
            out.append(alphabet[Int(n >> 6 & 63)])
            out.append(alphabet[Int(n & 63)])
            index += 3
        }
        let rest = bytes.count - index
        if rest == 1 {
            let n = UInt32(bytes[index]) << 16
            out.append(alphabet[Int(n >> 18 & 63)])
            out.append(alphabet[Int(n >> 12 & 63)])
            if pad { out.append(contentsOf: [61, 61]) }
        } else if rest == 2 {
            let n = UInt32(bytes[index]) << 16 | UInt32(bytes[index + 1]) << 8
            out.append(alphabet[Int(n >> 18 & 63)])
            out.append(alphabet[Int(n >> 12 & 63)])
            out.append(alphabet[Int(n >> 6 & 63)])
            if pad { out.append(61) }
        }
        return out
    }

    private static func decode(_ input: [UInt8], table: [UInt8]) -> [UInt8]? {
        var input = input
        // Strip up to two '=' of padding; the remaining length must be a valid base64 length.
        var padding = 0
        while input.last == 61 && padding < 2 {
            input.removeLast()
            padding += 1
        }
        if padding > 0 && (input.count + padding) % 4 != 0 { return nil }
        if input.count % 4 == 1 { return nil }
        var out = [UInt8]()
        out.reserveCapacity(input.count * 3 / 4)
        var accumulator: UInt32 = 0
        var bits = 0
        for byte in input {
            let value = table[Int(byte)]
            if value == 0xFF { return nil }
            accumulator = accumulator << 6 | UInt32(value)
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8(truncatingIfNeeded: accumulator >> UInt32(bits)))
            }
        }
        // Leftover bits must be zero (canonical encoding), so one token has exactly one spelling.
        if bits > 0 && accumulator & ((1 << UInt32(bits)) - 1) != 0 { return nil }
        return out
    }
}

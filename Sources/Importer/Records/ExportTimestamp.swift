import Model
import Text

/// An instant as the old system wrote it (in whole seconds: the API shows no more). Accepted:
///   - ISO-8601 strings as Python writes them: `2025-01-01T12:00:00.123456`, with `Z` or a `±HH:MM` (`±HHMM`,
///     `±HH`) offset or none (UTC, the Lambdas' zone), a space for the `T` (`str(datetime)`), seconds and their
///     fraction optional, or a date alone (midnight UTC);
///   - seconds since 1970 (`N`, or an `S` of digits, fraction allowed: `time.time()`), or milliseconds when the
///     number is too large to be seconds (JavaScript's `Date.now()`).
/// Anything before 2000 or from 2100 on is refused as implausible rather than stored.
struct ExportTimestamp {
    let timestamp: Timestamp

    static let earliest: Int64 = 946_684_800  // 2000-01-01
    static let latest: Int64 = 4_102_444_800  // 2100-01-01

    init?(_ value: AttributeValue) {
        let parsed: Int64?
        switch value {
        case .number(let text): parsed = ExportTimestamp.epoch(text)
        case .string(let text):
            let trimmed = text.trimmed()
            parsed = ExportTimestamp.epoch(trimmed) ?? ExportTimestamp.iso8601(trimmed)
        default: parsed = nil
        }
        guard let seconds = parsed, seconds >= ExportTimestamp.earliest, seconds < ExportTimestamp.latest else { return nil }
        timestamp = Timestamp(seconds: seconds)
    }

    /// Seconds, or milliseconds beyond 10^11 (year 5138 in seconds, 1973 in milliseconds).
    static func epoch(_ text: String) -> Int64? {
        guard !text.isEmpty, text.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }),
              let value = Double(text), value.isFinite else { return nil }
        let seconds = value >= 1e11 ? value / 1000 : value
        return seconds < 1e12 ? Int64(seconds.rounded(.down)) : nil
    }

    static func iso8601(_ text: String) -> Int64? {
        var scanner = Digits(Array(text.utf8))
        guard let year = scanner.number(4), scanner.take("-"), let month = scanner.number(2), scanner.take("-"),
              let day = scanner.number(2), let date = CivilDate(year: year, month: month, day: day) else { return nil }
        var secondOfDay = 0
        var offset = 0
        if !scanner.atEnd {
            guard scanner.take("T") || scanner.take("t") || scanner.take(" "),
                  let hour = scanner.number(2), hour < 24, scanner.take(":"), let minute = scanner.number(2), minute < 60
            else { return nil }
            var second = 0
            if scanner.take(":") {
                guard let value = scanner.number(2), value <= 60 else { return nil }
                second = value
                if scanner.take(".") || scanner.take(",") {
                    guard scanner.skipDigits() > 0 else { return nil }
                }
            }
            secondOfDay = hour * 3600 + minute * 60 + second
            if scanner.take("Z") || scanner.take("z") {
                // UTC
            } else if let sign = scanner.sign() {
                guard let hours = scanner.number(2), hours < 24 else { return nil }
                var minutes = 0
                if scanner.take(":") {
                    guard let value = scanner.number(2) else { return nil }
                    minutes = value
                } else if let value = scanner.number(2) {
                    minutes = value
                }
                guard minutes < 60 else { return nil }
                offset = sign * (hours * 3600 + minutes * 60)
            }
        }
        guard scanner.atEnd else { return nil }
        return Int64(date.daysSinceEpoch) * 86400 + Int64(secondOfDay - offset)
    }

    /// A cursor over ASCII digits and separators.
    private struct Digits {
        let bytes: [UInt8]
        var index = 0

        init(_ bytes: [UInt8]) { self.bytes = bytes }

        var atEnd: Bool { index == bytes.count }

        mutating func take(_ character: Unicode.Scalar) -> Bool {
            guard index < bytes.count, bytes[index] == UInt8(ascii: character) else { return false }
            index += 1
            return true
        }

        /// Exactly `count` digits.
        mutating func number(_ count: Int) -> Int? {
            guard index + count <= bytes.count else { return nil }
            var value = 0
            for byte in bytes[index..<index + count] {
                guard byte >= 0x30 && byte <= 0x39 else { return nil }
                value = value * 10 + Int(byte - 0x30)
            }
            index += count
            return value
        }

        mutating func skipDigits() -> Int {
            let start = index
            while index < bytes.count, bytes[index] >= 0x30 && bytes[index] <= 0x39 { index += 1 }
            return index - start
        }

        mutating func sign() -> Int? {
            if take("+") { return 1 }
            if take("-") { return -1 }
            return nil
        }
    }
}

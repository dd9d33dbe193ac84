import Text

/// An instant in whole seconds since the Unix epoch (UTC).
public struct Timestamp: Hashable, Sendable, Comparable {
    public let seconds: Int64

    public init(seconds: Int64) { self.seconds = seconds }

    public var date: CivilDate {
        CivilDate(daysSinceEpoch: Int(seconds >= 0 ? seconds / 86400 : (seconds - 86399) / 86400))
    }

    private var secondOfDay: Int {
        let r = Int(seconds % 86400)
        return r < 0 ? r + 86400 : r
    }

    /// `YYYY-MM-DD HH:MM:SS`, the format of timestamps in API bodies.
    public var apiText: String {
        let s = secondOfDay
        return "\(date) \(ZeroPadding.pad(s / 3600, 2)):\(ZeroPadding.pad(s / 60 % 60, 2)):\(ZeroPadding.pad(s % 60, 2))"
    }

    /// ISO-8601 UTC, `YYYY-MM-DDTHH:MM:SSZ`.
    public var iso8601: String {
        let s = secondOfDay
        return "\(date)T\(ZeroPadding.pad(s / 3600, 2)):\(ZeroPadding.pad(s / 60 % 60, 2)):\(ZeroPadding.pad(s % 60, 2))Z"
    }

    /// Parses PostgreSQL's timestamptz output with the session in UTC (`2026-11-27 05:54:47.123+00`) or
    /// ISO-8601 with `T` and `Z`.
    public init?(parsing text: String) {
        let bytes = Array(text.utf8)
        guard bytes.count >= 19, let date = CivilDate(String(decoding: bytes[0..<10], as: UTF8.self)),
              bytes[10] == UInt8(ascii: " ") || bytes[10] == UInt8(ascii: "T"),
              bytes[13] == UInt8(ascii: ":"), bytes[16] == UInt8(ascii: ":"),
              let hour = Int(String(decoding: bytes[11..<13], as: UTF8.self)),
              let minute = Int(String(decoding: bytes[14..<16], as: UTF8.self)),
              let second = Int(String(decoding: bytes[17..<19], as: UTF8.self)),
              hour < 24, minute < 60, second < 61 else { return nil }
        // Only UTC offsets are produced by our sessions; anything else is refused rather than misread.
        let rest = String(decoding: bytes[19...], as: UTF8.self)
        let zone = rest.drop(while: { $0 == "." || $0.isASCIIDigit })
        guard zone.isEmpty || zone == "Z" || zone == "+00" || zone == "+00:00" else { return nil }
        seconds = Int64(date.daysSinceEpoch) * 86400 + Int64(hour * 3600 + minute * 60 + second)
    }

    public static func < (lhs: Timestamp, rhs: Timestamp) -> Bool { lhs.seconds < rhs.seconds }
}

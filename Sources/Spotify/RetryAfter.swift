import Model
import Text

/// `Retry-After` in seconds: either delta-seconds or an HTTP date (RFC 9110 §10.2.3).
enum RetryAfter {
    static func seconds(_ value: String?, now: Int64) -> Double? {
        guard let value = value?.trimmed(), !value.isEmpty else { return nil }
        if let seconds = Double(value), seconds >= 0 { return seconds }
        guard let date = httpDate(value) else { return nil }
        return Double(max(0, date - now))
    }

    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// IMF-fixdate: `Sun, 06 Nov 1994 08:49:37 GMT`.
    static func httpDate(_ text: String) -> Int64? {
        let parts = text.split(separator: " ")
        guard parts.count == 6, parts[5] == "GMT", let day = Int(parts[1]),
              let month = months.firstIndex(of: String(parts[2])), let year = Int(parts[3]) else { return nil }
        let clock = parts[4].split(separator: ":")
        guard clock.count == 3, let hour = Int(clock[0]), let minute = Int(clock[1]), let second = Int(clock[2]),
              let date = CivilDate(year: year, month: month + 1, day: day) else { return nil }
        return Int64(date.daysSinceEpoch) * 86400 + Int64(hour * 3600 + minute * 60 + second)
    }
}

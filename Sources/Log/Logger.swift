#if canImport(Glibc)
import Glibc
#endif
import Platform
import Synchronization
import Text

/// Severity, in increasing order.
public enum LogLevel: Int, Sendable, Comparable, CaseIterable {
    case debug, info, warning, error

    public init?(name: String) {
        switch name.lowercased() {
        case "debug": self = .debug
        case "info": self = .info
        case "warning", "warn": self = .warning
        case "error": self = .error
        default: return nil
        }
    }

    public var name: String {
        switch self {
        case .debug: return "debug"
        case .info: return "info"
        case .warning: return "warning"
        case .error: return "error"
        }
    }

    public static func < (lhs: LogLevel, rhs: LogLevel) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// Process-wide log settings, set once at start.
public enum LogSettings {
    private static let threshold = Atomic<Int>(LogLevel.info.rawValue)
    private static let secrets = Mutex<[String]>([])
    /// Under journald (JOURNAL_STREAM set) the journal stamps each line; elsewhere lines carry their own time.
    static let stampLines = Environment.get("JOURNAL_STREAM") == nil

    public static var level: LogLevel {
        get { LogLevel(rawValue: threshold.load(ordering: .relaxed)) ?? .info }
        set { threshold.store(newValue.rawValue, ordering: .relaxed) }
    }

    /// Registers a secret that must never appear in a log line; any line containing it is redacted.
    /// This is a second line of defence: call sites never log secrets in the first place.
    public static func neverLog(_ secret: String) {
        guard secret.count >= 8 else { return }
        secrets.withLock { $0.append(secret) }
    }

    static func redact(_ line: String) -> String {
        secrets.withLock { list in
            var line = line
            for secret in list where line.contains(secret) {
                line = line.replacing(secret, with: "[redacted]")
            }
            return line
        }
    }
}

/// Structured log lines on standard error (`key=value` pairs, values quoted when needed), one write per line
/// so that lines from concurrent threads and processes never interleave.
public struct Logger: Sendable {
    public let component: String

    public init(_ component: String) {
        self.component = component
    }

    public func debug(_ message: String, _ fields: KeyValuePairs<String, CustomStringConvertible> = [:]) {
        log(.debug, message, fields)
    }

    public func info(_ message: String, _ fields: KeyValuePairs<String, CustomStringConvertible> = [:]) {
        log(.info, message, fields)
    }

    public func warning(_ message: String, _ fields: KeyValuePairs<String, CustomStringConvertible> = [:]) {
        log(.warning, message, fields)
    }

    public func error(_ message: String, _ fields: KeyValuePairs<String, CustomStringConvertible> = [:]) {
        log(.error, message, fields)
    }

    public func log(_ level: LogLevel, _ message: String, _ fields: KeyValuePairs<String, CustomStringConvertible>) {
        guard level >= LogSettings.level else { return }
        var line = ""
        if LogSettings.stampLines {
            line += Logger.timestamp() + " "
        }
        line += "level=\(level.name) component=\(component) msg=\(Logger.quote(message))"
        for (key, value) in fields {
            line += " \(key)=\(Logger.quote(value.description))"
        }
        line = LogSettings.redact(line) + "\n"
        var bytes = Array(line.utf8)
        bytes.withUnsafeMutableBytes { _ = write(2, $0.baseAddress, $0.count) }
    }

    static func quote(_ value: String) -> String {
        let needsQuotes = value.isEmpty || value.utf8.contains { $0 <= 0x20 || $0 == 0x22 || $0 == 0x3D || $0 == 0x5C || $0 >= 0x7F }
        guard needsQuotes else { return value }
        var out = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 { out += "\\u{\(String(scalar.value, radix: 16))}" } else { out.unicodeScalars.append(scalar) }
            }
        }
        return out + "\""
    }

    static func timestamp() -> String {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        var seconds = ts.tv_sec
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func pad(_ value: Int32, _ width: Int) -> String { ZeroPadding.pad(value, width) }
        return "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))T"
            + "\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2)).\(pad(Int32(ts.tv_nsec / 1_000_000), 3))Z"
    }
}

#if canImport(Glibc)
import Glibc
#endif

/// The process environment.
public enum Environment {
    public static func get(_ name: String) -> String? {
        guard let value = getenv(name) else { return nil }
        return String(cString: value)
    }



    /// Every variable as name → value.
    public static func all() -> [String: String] {
        var result: [String: String] = [:]
        var cursor = environ
        while let entry = cursor.pointee {
            let pair = String(cString: entry)
            if let eq = pair.firstIndex(of: "=") {
                result[String(pair[..<eq])] = String(pair[pair.index(after: eq)...])
            }
            cursor += 1
        }
        return result
    }

    /// The host name, for job-run rows and log lines.
    public static func hostName() -> String {
        var buffer = [UInt8](repeating: 0, count: 256)
        let ok = buffer.withUnsafeMutableBufferPointer { raw in
            raw.baseAddress!.withMemoryRebound(to: CChar.self, capacity: raw.count) { gethostname($0, raw.count - 1) == 0 }
        }
        guard ok else { return "unknown" }
        return String(decoding: buffer.prefix { $0 != 0 }, as: UTF8.self)
    }

    /// The command line the process was started with.
    public static func arguments() -> [String] {
        CommandLine.arguments
    }

    /// The absolute path of the running executable.
    public static func executablePath() -> String {
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = buffer.withUnsafeMutableBufferPointer { raw in
            raw.baseAddress!.withMemoryRebound(to: CChar.self, capacity: raw.count) { readlink("/proc/self/exe", $0, raw.count - 1) }
        }
        guard count > 0 else { return CommandLine.arguments.first ?? "" }
        return String(decoding: buffer.prefix(count), as: UTF8.self)
    }
}

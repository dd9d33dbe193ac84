#if canImport(Glibc)
import Glibc
#endif

/// The process environment.
public enum Environment {
    public static func get(_ name: String) -> String? {
        guard let value = getenv(name) else { return nil }
        return String(cString: value)
    }

    public static func set(_ name: String, _ value: String) {
        setenv(name, value, 1)
    }

    public static func unset(_ name: String) {
        unsetenv(name)
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
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "unknown" }
        return String(cString: buffer)
    }

    /// The command line the process was started with.
    public static func arguments() -> [String] {
        CommandLine.arguments
    }

    /// The absolute path of the running executable.
    public static func executablePath() -> String {
        var buffer = [CChar](repeating: 0, count: 4096)
        let count = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard count > 0 else { return CommandLine.arguments.first ?? "" }
        return String(cString: buffer)
    }
}

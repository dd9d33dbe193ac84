import Platform
import Text

/// Where a value came from, for messages ("from flag", "in /etc/xomify/xomify.conf line 3").
public enum SettingSource: Sendable, CustomStringConvertible {
    case defaultValue
    case file(path: String, line: Int)
    case environment
    case flag
    /// Handed down by the process that loaded it (a pool worker's, from its supervisor).
    case snapshot

    public var description: String {
        switch self {
        case .snapshot: return "as last loaded by the pool"
        case .defaultValue: return "default"
        case .file(let path, let line): return "in \(path) line \(line)"
        case .environment: return "from the environment"
        case .flag: return "from the command line"
        }
    }
}

/// Resolved settings: the configuration file, overridden by the environment, overridden by flags (SPEC §3).
public struct Configuration: Sendable {
    private var values: [String: (value: String, source: SettingSource)] = [:]
    /// Command-line arguments that were not setting flags, in order (subcommands, job options).
    public private(set) var remainingArguments: [String] = []
    public private(set) var helpRequested = false

    /// Loads settings from `arguments` (without argv[0]), `environment` and the configuration file they name.
    /// A missing file is fine only when it is the default path.
    public static func load(arguments: [String], environment: [String: String]) throws(ConfigurationError) -> Configuration {
        var configuration = Configuration()
        var flags: [String: String] = [:]

        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            index += 1
            if argument == "--help" || argument == "-h" {
                configuration.helpRequested = true
                continue
            }
            guard argument.hasPrefix("--") else {
                configuration.remainingArguments.append(argument)
                continue
            }
            let (flagName, inlineValue) = Configuration.splitFlag(argument)
            guard let setting = Settings.all.first(where: { $0.flag == flagName }) else {
                configuration.remainingArguments.append(argument)
                continue
            }
            if let inlineValue {
                flags[setting.name] = inlineValue
            } else {
                guard index < arguments.count else { throw ConfigurationError(setting.name, "\(flagName) needs a value") }
                flags[setting.name] = arguments[index]
                index += 1
            }
        }

        let configPath = flags[Settings.config.name] ?? environment[Settings.config.name] ?? Settings.config.defaultValue!
        let pathIsDefault = flags[Settings.config.name] == nil && environment[Settings.config.name] == nil
        if Files.exists(configPath) {
            try configuration.readFile(configPath)
        } else if !pathIsDefault {
            throw ConfigurationError(Settings.config.name, "configuration file \(configPath) does not exist")
        }
        for setting in Settings.all {
            if let value = environment[setting.name] { configuration.values[setting.name] = (value, .environment) }
        }
        for (name, value) in flags { configuration.values[name] = (value, .flag) }
        configuration.values[Settings.config.name] = (configPath, pathIsDefault ? .defaultValue : .flag)
        return configuration
    }

    private init() {}

    /// The values set by a file, the environment or a flag (defaults left out), by setting name.
    public var explicitValues: [String: String] {
        values.filter { if case .defaultValue = $0.value.source { return false } else { return true } }.mapValues(\.value)
    }

    /// The configuration of a snapshot (`ConfigurationSnapshot`): its values, as loaded by the process that made it.
    init(snapshotValues: [String: String]) throws(ConfigurationError) {
        for (name, value) in snapshotValues {
            guard let setting = Settings.named(name) else { throw ConfigurationError(name, "unknown setting in a snapshot") }
            values[setting.name] = (value, .snapshot)
        }
    }

    private static func splitFlag(_ argument: String) -> (String, String?) {
        if let eq = argument.firstIndex(of: "=") {
            return (String(argument[..<eq]), String(argument[argument.index(after: eq)...]))
        }
        return (argument, nil)
    }

    private mutating func readFile(_ path: String) throws(ConfigurationError) {
        let text: String
        do {
            text = try Files.readString(path)
        } catch {
            throw ConfigurationError(Settings.config.name, "cannot read \(path): \(error)")
        }
        for (offset, rawLine) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
            let line = rawLine.trimmed()
            if line.isEmpty || line.hasPrefix("#") { continue }
            guard let eq = line.firstIndex(of: "=") else {
                throw ConfigurationError(Settings.config.name, "\(path) line \(offset + 1): expected KEY=value")
            }
            let key = String(line[..<eq]).trimmed()
            var value = String(line[line.index(after: eq)...]).trimmed()
            if value.count >= 2, let first = value.first, first == "\"" || first == "'", value.last == first {
                value = String(value.dropFirst().dropLast())
            }
            guard let setting = Settings.named(key), setting != Settings.config else {
                throw ConfigurationError(key, "unknown setting in \(path) line \(offset + 1)")
            }
            values[setting.name] = (value, .file(path: path, line: offset + 1))
        }
    }

    // MARK: Typed access

    /// The raw value and where it came from; the default when unset.
    public func raw(_ setting: Setting) -> (value: String, source: SettingSource)? {
        if let value = values[setting.name] { return value }
        if let value = setting.defaultValue { return (value, .defaultValue) }
        return nil
    }

    public func string(_ setting: Setting) -> String? {
        raw(setting)?.value
    }

    public func required(_ setting: Setting) throws(ConfigurationError) -> String {
        guard let value = raw(setting)?.value, !value.isEmpty else {
            throw ConfigurationError(setting.name, "required (\(setting.meaning)); set it in the configuration file, the environment or \(setting.flag)")
        }
        return value
    }

    public func integer(_ setting: Setting, in range: ClosedRange<Int>) throws(ConfigurationError) -> Int {
        let (value, source) = raw(setting) ?? ("", .defaultValue)
        guard let number = Int(value), range.contains(number) else {
            throw ConfigurationError(setting.name, "expected an integer from \(range.lowerBound) to \(range.upperBound), got \"\(value)\" (\(source))")
        }
        return number
    }

    public func choice(_ setting: Setting, _ options: [String]) throws(ConfigurationError) -> String {
        let (value, source) = raw(setting) ?? ("", .defaultValue)
        guard options.contains(value) else {
            throw ConfigurationError(setting.name, "expected one of \(options.joined(separator: ", ")), got \"\(value)\" (\(source))")
        }
        return value
    }

    /// An http(s) base URL without a trailing slash.
    public func baseURL(_ setting: Setting) throws(ConfigurationError) -> String {
        let value = try required(setting)
        guard value.hasPrefix("http://") || value.hasPrefix("https://") else {
            throw ConfigurationError(setting.name, "expected an http:// or https:// URL, got \"\(value)\"")
        }
        return value.hasSuffix("/") ? String(value.dropLast()) : value
    }

    public func list(_ setting: Setting) -> [String] {
        (string(setting) ?? "").split(separator: ",").map { $0.trimmed() }.filter { !$0.isEmpty }
    }

    /// A one-line summary of where every non-secret setting came from (secrets are only paths anyway).
    public func describe() -> String {
        Settings.all.compactMap { setting in
            guard let (value, source) = raw(setting) else { return nil }
            if case .defaultValue = source { return nil }
            let shown = setting == Settings.databaseURL ? Configuration.redactConninfo(value) : value
            return "\(setting.name)=\(shown)"
        }.joined(separator: " ")
    }

    /// A conninfo with any password removed, for log lines.
    public static func redactConninfo(_ conninfo: String) -> String {
        if let schemeEnd = conninfo.firstRange(of: "://"), let at = conninfo[schemeEnd.upperBound...].firstIndex(of: "@") {
            let credentials = conninfo[schemeEnd.upperBound..<at]
            if let colon = credentials.firstIndex(of: ":") {
                return String(conninfo[..<colon]) + ":[redacted]" + String(conninfo[at...])
            }
            return conninfo
        }
        return conninfo.split(separator: " ").map { part in
            part.lowercased().hasPrefix("password=") ? "password=[redacted]" : String(part)
        }.joined(separator: " ")
    }

    /// Help text: usage lines, then every setting with its flag and default.
    public static func help(usage: String, settings: [Setting]) -> String {
        var text = usage + "\n\nSettings (configuration file < environment < flag):\n"
        for setting in settings {
            let defaultText = setting.defaultValue.map { $0.isEmpty ? " [default: empty]" : " [default: \($0)]" } ?? ""
            text += "  \(setting.flag) VALUE\n      \(setting.name): \(setting.meaning)\(defaultText)\n"
        }
        text += "\nThese are all the settings this program reads. The configuration file is shared by xomify-api,\n"
            + "xomify-wrapped and xomify-release-radar: a setting of another one there is accepted and ignored.\n"
        return text
    }
}

import Configuration
import Model

/// The job options of SPEC §7.5 (the settings flags are taken out before these are parsed).
public struct JobArguments: Sendable {
    public var period: String?
    public var user: Email?
    public var dryRun = false

    /// Parses `--period P`, `--user EMAIL` and `--dry-run`; `validPeriod` checks the period's form.
    public static func parse(_ arguments: [String], validPeriod: (String) -> Bool) throws(ConfigurationError) -> JobArguments {
        var result = JobArguments()
        var index = 0
        func value(_ flag: String) throws(ConfigurationError) -> String {
            if let eq = arguments[index].firstIndex(of: "=") { return String(arguments[index][arguments[index].index(after: eq)...]) }
            index += 1
            guard index < arguments.count else { throw ConfigurationError(flag, "needs a value") }
            return arguments[index]
        }
        while index < arguments.count {
            let argument = arguments[index]
            switch argument.split(separator: "=", maxSplits: 1).first.map(String.init) ?? argument {
            case "--period":
                let period = try value("--period")
                guard validPeriod(period) else { throw ConfigurationError("--period", "\"\(period)\" is not a valid period") }
                result.period = period
            case "--user":
                let text = try value("--user")
                guard let email = Email(text) else { throw ConfigurationError("--user", "\"\(text)\" is not an email") }
                result.user = email
            case "--dry-run":
                result.dryRun = true
            default:
                throw ConfigurationError(argument, "unknown argument; see --help")
            }
            index += 1
        }
        return result
    }
}

import Configuration
import Log
import Model
import Platform

/// What the two job executables share: read the settings and options (exit 78 with one line on a bad one),
/// answer `--help`, pick the period (the given one, or the default), and run the job.
public struct JobCommand<Period: Sendable> {
    /// The executable's name, for error lines.
    public let name: String
    /// The logger component.
    public let component: String
    public let usage: String
    /// A period from its `--period` text, nil when it is not one.
    public let period: (String) -> Period?
    /// The period of a run without `--period`, from the current time.
    public let defaultPeriod: (Int64) -> Period
    public let job: (JobSettings, Period, RunOptions) async -> ExitStatus

    public init(name: String, component: String, usage: String, period: @escaping (String) -> Period?,
                defaultPeriod: @escaping (Int64) -> Period,
                job: @escaping (JobSettings, Period, RunOptions) async -> ExitStatus) {
        self.name = name
        self.component = component
        self.usage = usage
        self.period = period
        self.defaultPeriod = defaultPeriod
        self.job = job
    }

    /// The process exit status.
    public func run() async -> Int32 {
        let arguments: JobArguments
        let settings: JobSettings
        do {
            let configuration = try Configuration.load(arguments: Array(Environment.arguments().dropFirst()),
                                                       environment: Environment.all())
            LogSettings.level = LogLevel(name: try configuration.choice(Settings.logLevel, LogLevel.allCases.map(\.name))) ?? .info
            if configuration.helpRequested {
                Console.out(Configuration.help(usage: usage, settings: JobSettings.relevant))
                return 0
            }
            arguments = try JobArguments.parse(configuration.remainingArguments) { period($0) != nil }
            settings = try JobSettings.load(configuration)
        } catch {
            Logger(component).error("\(name): \(error)")
            return ExitStatus.configuration.rawValue
        }
        let chosen = arguments.period.flatMap(period) ?? defaultPeriod(WallClock.epochSeconds())
        return await job(settings, chosen, RunOptions(only: arguments.user, dryRun: arguments.dryRun)).rawValue
    }
}

// xomify-wrapped: the monthly wrapped job (SPEC §7, §8.1), one run per timer firing.
import Configuration
import Jobs
import Log
import Model
import Platform

let usage = """
    Usage: xomify-wrapped [--period YYYY-MM] [--user EMAIL] [--dry-run] [SETTINGS]

      --period YYYY-MM  the month to wrap (default: the previous UTC month)
      --user EMAIL      only this user
      --dry-run         read Spotify, write nothing (no wrap, playlist, item or run row)

    Exit status: 0 all done; 1 some users failed permanently; 75 stopped early (Spotify quota or daily budget)
    with work left for the next run; 78 configuration error.
    """

/// Reads the settings and options (exit 78 on a bad one), then runs the job.
func run() async -> Int32 {
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
        arguments = try JobArguments.parse(configuration.remainingArguments) { MonthKey($0) != nil }
        settings = try JobSettings.load(configuration)
    } catch {
        Logger("wrapped").error("xomify-wrapped: \(error)")
        return ExitStatus.configuration.rawValue
    }
    let month = arguments.period.flatMap(MonthKey.init) ?? WrappedJob.defaultMonth(now: WallClock.epochSeconds())
    return await WrappedJob.run(settings: settings, month: month,
                                options: RunOptions(only: arguments.user, dryRun: arguments.dryRun)).rawValue
}

Processes.exitNow(await run())

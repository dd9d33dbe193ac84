// xomify-release-radar: the weekly release radar job (SPEC §7, §8.2), one run per timer firing.
import Configuration
import Jobs
import Log
import Model
import Platform

let usage = """
    Usage: xomify-release-radar [--period YYYY-WW] [--user EMAIL] [--dry-run] [SETTINGS]

      --period YYYY-WW  the Saturday–Friday week, by the ISO week of its Saturday (default: the last complete one)
      --user EMAIL      only this user
      --dry-run         read Spotify, write nothing (no playlist, week, catalogue cache, item or run row)

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
        arguments = try JobArguments.parse(configuration.remainingArguments) { ReleaseWeek(key: $0) != nil }
        settings = try JobSettings.load(configuration)
    } catch {
        Logger("release_radar").error("xomify-release-radar: \(error)")
        return ExitStatus.configuration.rawValue
    }
    let week = arguments.period.flatMap { ReleaseWeek(key: $0) } ?? ReleaseRadarJob.defaultWeek(now: WallClock.epochSeconds())
    return await ReleaseRadarJob.run(settings: settings, week: week,
                                     options: RunOptions(only: arguments.user, dryRun: arguments.dryRun)).rawValue
}

Processes.exitNow(await run())

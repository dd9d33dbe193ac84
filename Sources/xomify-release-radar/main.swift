// xomify-release-radar: the weekly release radar job (SPEC §7, §8.2), one run per timer firing.
import Jobs
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

let command = JobCommand(name: "xomify-release-radar", component: "release_radar", usage: usage,
                         period: { ReleaseWeek(key: $0) }, defaultPeriod: ReleaseRadarJob.defaultWeek(now:)) {
    settings, week, options in
    await ReleaseRadarJob.run(settings: settings, week: week, options: options)
}
Processes.exitNow(await command.run())

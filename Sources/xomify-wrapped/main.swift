// xomify-wrapped: the monthly wrapped job (SPEC §7, §8.1), one run per timer firing.
import Jobs
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

let command = JobCommand(name: "xomify-wrapped", component: "wrapped", usage: usage, period: { MonthKey($0) },
                         defaultPeriod: WrappedJob.defaultMonth(now:)) { settings, month, options in
    await WrappedJob.run(settings: settings, month: month, options: options)
}
Processes.exitNow(await command.run())

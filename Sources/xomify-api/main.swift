// xomify-api: the FastCGI responder pool serving the Xomify API, and its commands (`migrate`, `check-config`,
// `mint-token`, `import-dynamodb`).
import Configuration
import Log
import Platform
import ResponderPool

let usage = """
    Usage: xomify-api [SETTINGS]            serve the API (a supervisor and its worker processes)
           xomify-api migrate [SETTINGS]    apply pending database migrations and exit
           xomify-api check-config [SETTINGS]
                                            load everything a worker would (configuration file,
                                            environment, flags, secrets, token key ring, pool options)
                                            and the migrations, without serving: exit 0 with one line, or
                                            78 with one line naming the setting (the unit's ExecReload=
                                            runs it before the SIGHUP)
           xomify-api mint-token EMAIL [--ttl DURATION] [SETTINGS]
                                            print a user token for EMAIL, a user in the database, signed
                                            with the JWT secret (DURATION: 90s, 10m, 2h, up to 7d; default
                                            10m). Exit 64 usage, 67 no such user, 69 database unavailable,
                                            78 settings
           xomify-api import-dynamodb [--dry-run] [SETTINGS] PATH…
                                            import the old system's DynamoDB tables (users first, then
                                            history) and print counts per table; PATH is an S3 export's
                                            folder (AWSDynamoDB/<id>), the AWSDynamoDB folder, a manifest,
                                            a scan page (aws dynamodb scan --output json) or a folder of
                                            them. Idempotent. --dry-run writes nothing. Exit status: 0 done
                                            (skipped records are listed), 1 a file unread or the database
                                            gone (run it again), 64 usage, 66 a PATH unusable, 78 settings.

    Signals: SIGTERM or SIGINT drain in-flight requests and stop; SIGHUP re-reads the configuration file and the
    secrets and, if they load, replaces the workers one by one (if not: one log line naming the setting, the
    workers keep the last good configuration, and the status page counts a failed reload). A reload keeps the
    supervisor's environment and executable (workers run the supervisor's own binary): a new binary or a new
    environment needs a restart. SIGQUIT stops at once.
    """

/// Reads the settings (exit 78 on a bad one) and runs the command.
func main() -> Int32 {
    if Pool.isWorker { return serveAsWorker() }
    let configuration: Configuration
    do {
        configuration = try Configuration.load(arguments: Array(Environment.arguments().dropFirst()),
                                               environment: Environment.all())
        LogSettings.level = LogLevel(name: try configuration.choice(Settings.logLevel, LogLevel.allCases.map(\.name))) ?? .info
    } catch {
        printError("xomify-api: \(error)")
        return 78
    }
    if configuration.helpRequested {
        Console.out(Configuration.help(usage: usage, settings: APISettings.relevant))
        return 0
    }
    switch configuration.remainingArguments {
    case []:
        return serve(configuration)
    case ["migrate"]:
        return migrate(configuration)
    case ["check-config"]:
        return checkConfig(configuration)
    case let arguments where arguments.first == "mint-token":
        return mintToken(configuration, arguments: Array(arguments.dropFirst()))
    case let arguments where arguments.first == "import-dynamodb":
        return importDynamoDB(configuration, arguments: Array(arguments.dropFirst()))
    default:
        printError("xomify-api: unexpected arguments \(configuration.remainingArguments.joined(separator: " ")); see --help")
        return 64
    }
}

Processes.exitNow(main())

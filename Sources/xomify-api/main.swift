// xomify-api: the FastCGI responder pool serving the Xomify API, `xomify-api migrate` and
// `xomify-api import-dynamodb`.
import Configuration
import Log
import Platform
import ResponderPool

let usage = """
    Usage: xomify-api [SETTINGS]            serve the API (a supervisor and its worker processes)
           xomify-api migrate [SETTINGS]    apply pending database migrations and exit
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
    workers keep the last good configuration, and the status page counts a failed reload); SIGQUIT stops at once.
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
    case let arguments where arguments.first == "import-dynamodb":
        return importDynamoDB(configuration, arguments: Array(arguments.dropFirst()))
    default:
        printError("xomify-api: unexpected arguments \(configuration.remainingArguments.joined(separator: " ")); see --help")
        return 64
    }
}

Processes.exitNow(main())

// xomify-api: the FastCGI responder pool serving the Xomify API, and `xomify-api migrate`.
import Configuration
import Log
import Platform
import ResponderPool

let usage = """
    Usage: xomify-api [SETTINGS]            serve the API (a supervisor and its worker processes)
           xomify-api migrate [SETTINGS]    apply pending database migrations and exit

    Signals: SIGTERM or SIGINT drain in-flight requests and stop; SIGHUP replaces the workers one by one
    (they re-read the configuration and secrets); SIGQUIT stops at once.
    """

let configuration: Configuration
do {
    configuration = try Configuration.load(arguments: Array(Environment.arguments().dropFirst()),
                                           environment: Environment.all())
    LogSettings.level = LogLevel(name: try configuration.choice(Settings.logLevel, LogLevel.allCases.map(\.name))) ?? .info
} catch {
    printError("xomify-api: \(error)")
    Processes.exitNow(78)
}
if configuration.helpRequested {
    Console.out(Configuration.help(usage: usage, settings: APISettings.relevant))
    Processes.exitNow(0)
}

switch configuration.remainingArguments {
case []:
    Processes.exitNow(serve(configuration))
case ["migrate"]:
    Processes.exitNow(migrate(configuration))
default:
    printError("xomify-api: unexpected arguments \(configuration.remainingArguments.joined(separator: " ")); see --help")
    Processes.exitNow(64)
}

import Configuration
import Importer
import Log
import Platform
import Store

/// `xomify-api import-dynamodb [--dry-run] PATH…`: the old system's DynamoDB exports into the database (SPEC §13).
/// Needs the database and the refresh-token key (tokens are sealed on the way in), nothing else.
func importDynamoDB(_ configuration: Configuration, arguments: [String]) -> Int32 {
    var dryRun = false
    var paths: [String] = []
    for argument in arguments {
        if argument == "--dry-run" {
            dryRun = true
        } else if argument.hasPrefix("--") {
            printError("xomify-api import-dynamodb: unknown option \(argument); see --help")
            return 64
        } else {
            paths.append(argument)
        }
    }
    guard !paths.isEmpty else {
        printError("xomify-api import-dynamodb: name at least one export folder, manifest or scan page; see --help")
        return 64
    }
    let conninfo: String
    let keys: TokenKeyRing
    do {
        conninfo = try configuration.required(Settings.databaseURL)
        let keyText = try Secrets(configuration: configuration, environment: Environment.all()).tokenKeys()
        do { keys = try TokenKeyRing(parsing: keyText) } catch {
            throw ConfigurationError(Settings.tokenKeyFile.name, "the token key file is not valid: \(error)")
        }
    } catch {
        printError("xomify-api: \(error)")
        return 78
    }
    let database = Database(conninfo: conninfo, options: StoreOptions(connectTimeout: 10, commandTimeout: 600,
                                                                     applicationName: "xomify-import"))
    let run = DynamoDBImport(store: ImportStore(database: database, keys: keys), dryRun: dryRun)
    return run.run(paths: paths) { Console.out($0) }
}

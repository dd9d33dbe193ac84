import API
import Configuration
import Log
import Platform
import ResponderPool
import Store

/// `xomify-api`: validate the settings, then run the pool (supervisor or worker, decided by the pool).
func serve(_ configuration: Configuration) -> Int32 {
    let options: PoolOptions
    do {
        options = try APISettings.poolOptions(configuration)
        // Refuse a bad configuration before any worker starts (each worker reads it again).
        if !Pool.isWorker { _ = try APISettings.application(configuration) }
    } catch {
        printError("xomify-api: \(error)")
        return 78
    }
    if !Pool.isWorker {
        Logger("api").info("starting", ["settings": configuration.describe()])
    }
    return Pool.run(options: options) { () throws(PoolStartError) in
        do {
            return try APIApplication(settings: APISettings.application(configuration))
        } catch {
            throw PoolStartError("\(error)")
        }
    }
}

/// `xomify-api migrate`: apply pending migrations under the advisory lock.
func migrate(_ configuration: Configuration) -> Int32 {
    let log = Logger("migrate")
    let conninfo: String
    let directory: String
    do {
        conninfo = try configuration.required(Settings.databaseURL)
        directory = try configuration.required(Settings.sqlDirectory)
    } catch {
        printError("xomify-api: \(error)")
        return 78
    }
    do {
        let migrations = try Migrator.load(directory: directory)
        let applied = try Migrator(conninfo: conninfo).migrate(migrations)
        log.info(applied.isEmpty ? "schema is up to date" : "migrations applied",
                 ["applied": applied.joined(separator: ","), "known": migrations.count])
        return 0
    } catch {
        log.error("migration failed", ["error": error.description])
        return 1
    }
}

func printError(_ message: String) {
    Logger("api").error(message)
}

import API
import Configuration
import HTTP
import Log
import Platform
import ResponderPool
import Store

/// `xomify-api`: the supervisor loads and checks the settings (and again on each SIGHUP) and runs the pool.
func serve(_ configuration: Configuration) -> Int32 {
    let options: PoolOptions
    let initial: [UInt8]
    do {
        options = try APISettings.poolOptions(configuration)
        let snapshot = try APISettings.snapshot(configuration)
        initial = snapshot.encoded()
        try APIApplication.prepareAnswerFiles(APISettings.application(snapshot))
    } catch {
        printError("xomify-api: \(error)")
        return 78
    }
    Logger("api").info("starting", ["settings": configuration.describe()])
    return Pool.run(options: options, configuration: initial, load: { () throws(PoolStartError) in
        // The file and the secrets as they are now (a reload re-reads them); the flags of the command line stay.
        do {
            let current = try Configuration.load(arguments: Array(Environment.arguments().dropFirst()),
                                                 environment: Environment.all())
            return try APISettings.snapshot(current).encoded()
        } catch {
            throw PoolStartError("\(error)")
        }
    }, makeFactory: makeApplication)
}

/// A pool worker: it starts from the configuration its supervisor last loaded successfully, never from the files.
func serveAsWorker() -> Int32 {
    let snapshot: ConfigurationSnapshot
    let options: PoolOptions
    do {
        guard let bytes = Pool.inheritedConfiguration() else { throw PoolStartError("no configuration from the supervisor") }
        snapshot = try ConfigurationSnapshot(decoding: bytes)
        LogSettings.level = LogLevel(name: try snapshot.configuration.choice(Settings.logLevel, LogLevel.allCases.map(\.name))) ?? .info
        options = try APISettings.poolOptions(snapshot.configuration)
    } catch {
        printError("xomify-api worker: \(error)")
        return 78
    }
    let bytes = snapshot.encoded()
    return Pool.run(options: options, configuration: bytes, load: { () throws(PoolStartError) in bytes },
                    makeFactory: makeApplication)
}

private func makeApplication(_ bytes: [UInt8]) throws(PoolStartError) -> any ResponderFactory {
    do {
        return try APIApplication(settings: APISettings.application(ConfigurationSnapshot(decoding: bytes)))
    } catch {
        throw PoolStartError("\(error)")
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

import API
import Auth
import Configuration
import HTTP
import Log
import Model
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

/// `xomify-api check-config`: loads everything a worker would load (the configuration file, the environment,
/// the flags, the secrets, the token key ring, the JWT secret's length, the pool's options) and the migrations
/// a restart would apply, without serving. Exit 0 with one line, or 78 with one line naming what is wrong.
/// systemd's `ExecReload=` runs it before the SIGHUP, as `nginx -t` comes before an nginx reload.
func checkConfig(_ configuration: Configuration) -> Int32 {
    do {
        // What the supervisor loads on a SIGHUP and hands its new workers: the pool's options, the secrets, the
        // token key ring, the JWT secret's length, the application's settings.
        _ = try APISettings.snapshot(configuration)
        let directory = try configuration.required(Settings.sqlDirectory)
        do { _ = try Migrator.load(directory: directory) } catch {
            throw ConfigurationError(Settings.sqlDirectory.name, error.description)
        }
        if let replaced = replacedExecutable() {
            throw ConfigurationError("executable", replaced)
        }
    } catch {
        Console.error("xomify-api: \(error)")
        return 78
    }
    Console.out("xomify-api: configuration OK (\(configuration.string(Settings.config) ?? ""))")
    return 0
}

/// Under `systemctl reload` (systemd sets MAINPID for `ExecReload=`): why a reload cannot do what is meant,
/// when the running pool's executable is no longer the one installed. A reload starts new workers from the
/// supervisor's own executable, so a new binary only runs after a restart.
private func replacedExecutable() -> String? {
    guard let text = Environment.get("MAINPID"), let pid = Int32(text), pid > 0 else { return nil }
    guard let same = Files.sameFile("/proc/\(pid)/exe", "/proc/self/exe"), !same else { return nil }
    let running = Files.readLink("/proc/\(pid)/exe") ?? "an older executable"
    return "the pool (pid \(pid)) runs \(running), not the executable installed now; a reload keeps it: "
        + "restart instead (systemctl restart xomify-api)"
}

/// `xomify-api mint-token EMAIL [--ttl DURATION]`: a user token for a user of the database, signed with the JWT
/// secret, for checking an authenticated route by hand. Prints the token alone. Exit 64 usage, 67 no such user,
/// 69 database unavailable, 78 settings.
func mintToken(_ configuration: Configuration, arguments: [String]) -> Int32 {
    var emailText: String?
    var ttlText = "10m"
    var index = 0
    while index < arguments.count {
        let argument = arguments[index]
        if argument == "--ttl", index + 1 < arguments.count {
            ttlText = arguments[index + 1]
            index += 2
            continue
        }
        if argument.hasPrefix("--ttl=") {
            ttlText = String(argument.dropFirst("--ttl=".count))
        } else if emailText == nil, !argument.hasPrefix("-") {
            emailText = argument
        } else {
            Console.error("xomify-api: mint-token: unexpected argument \(argument); usage: xomify-api mint-token EMAIL [--ttl DURATION]")
            return 64
        }
        index += 1
    }
    guard let emailText else {
        Console.error("xomify-api: mint-token: usage: xomify-api mint-token EMAIL [--ttl DURATION]")
        return 64
    }
    guard let email = Email(emailText) else {
        Console.error("xomify-api: mint-token: \"\(emailText)\" is not an email")
        return 64
    }
    guard let lifetime = TokenLifetime.seconds(ttlText) else {
        Console.error("xomify-api: mint-token: --ttl \(ttlText): expected a duration from 1s to 7d (90s, 10m, 2h, 7d)")
        return 64
    }
    let conninfo: String
    let secret: [UInt8]
    do {
        conninfo = try configuration.required(Settings.databaseURL)
        secret = try Secrets(configuration: configuration, environment: Environment.all()).jwtSecret()
    } catch {
        Console.error("xomify-api: \(error)")
        return 78
    }
    let user: User?
    do {
        user = try UserLookup(database: Database(conninfo: conninfo, options: .administration)).user(email)
    } catch {
        Console.error("xomify-api: mint-token: the database cannot be read: \(error)")
        return 69
    }
    guard let user else {
        Console.error("xomify-api: mint-token: no user \(email) in the database (tokens are minted for existing users only)")
        return 67
    }
    let issued = WallClock.epochSeconds()
    do {
        Console.out(try JWT(secret: secret).signUserToken(email: user.email.value, userID: user.spotifyUserID,
                                                          issuedAt: issued, expiresAt: issued + lifetime))
    } catch {
        Console.error("xomify-api: mint-token: cannot sign: \(error)")
        return 70
    }
    return 0
}

/// `--ttl` of mint-token: a number and a unit (s, m, h, d), at most the 7 days of a user token (SPEC §5.1).
enum TokenLifetime {
    static let longest = JWT.longestUserTokenSeconds

    static func seconds(_ text: String) -> Int64? {
        guard let unit = text.last, let number = Int64(text.dropLast()), number > 0 else { return nil }
        let scale: Int64
        switch unit {
        case "s": scale = 1
        case "m": scale = 60
        case "h": scale = 3600
        case "d": scale = 86400
        default: return nil
        }
        guard number <= longest / scale else { return nil }
        return number * scale
    }
}

func printError(_ message: String) {
    Logger("api").error(message)
}

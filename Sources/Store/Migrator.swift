import Crypto
import Log
import Platform
import Postgres

/// Applies the ordered SQL files of `sql/` (SPEC §2): each pending file in its own transaction, recorded in
/// `schema_migrations` with a checksum, all under an advisory lock so that two hosts running it at once apply
/// each file once. A run with nothing pending changes nothing.
public struct Migrator {
    public struct Migration: Sendable {
        public let version: String
        public let name: String
        public let sql: String
        public var checksum: String { Hex.encode(Digest.sha256(Array(sql.utf8))) }
    }

    public enum MigrationError: Error, Sendable, CustomStringConvertible {
        case unreadable(String)
        case badFileName(String)
        case changedAfterApplying(version: String)
        case failed(version: String, PostgresError)
        case database(PostgresError)

        public var description: String {
            switch self {
            case .unreadable(let why): return "cannot read migrations: \(why)"
            case .badFileName(let name): return "migration file \(name) must be named NNNN_name.sql"
            case .changedAfterApplying(let version): return "migration \(version) was changed after it was applied"
            case .failed(let version, let error): return "migration \(version) failed: \(error)"
            case .database(let error): return error.description
            }
        }
    }

    /// Arbitrary, fixed: the advisory lock key of migrations ("xomify").
    static let lockKey = 0x786f6d69_6679

    private let connection: Connection
    private let log = Logger("migrate")

    public init(conninfo: String, options: StoreOptions = .administration) {
        connection = Connection(conninfo: conninfo, options: Connection.Options(
            connectTimeout: options.connectTimeout, commandTimeout: options.commandTimeout,
            statementTimeoutMilliseconds: options.statementTimeoutMilliseconds, applicationName: options.applicationName))
    }

    /// The migration files of `directory`, in order.
    public static func load(directory: String) throws(MigrationError) -> [Migration] {
        let names: [String]
        do { names = try Files.list(directory).filter { $0.hasSuffix(".sql") } } catch { throw .unreadable(error.description) }
        var migrations: [Migration] = []
        for name in names {
            let stem = name.dropLast(4)
            guard let underscore = stem.firstIndex(of: "_"), stem[..<underscore].count == 4,
                  stem[..<underscore].allSatisfy({ $0.isNumber }) else { throw .badFileName(name) }
            let sql: String
            do { sql = try Files.readString("\(directory)/\(name)") } catch { throw .unreadable(error.description) }
            migrations.append(Migration(version: String(stem[..<underscore]),
                                        name: String(stem[stem.index(after: underscore)...]), sql: sql))
        }
        guard !migrations.isEmpty else { throw .unreadable("no .sql files in \(directory)") }
        return migrations
    }

    /// Applies what is pending; returns the versions applied by this call.
    public func migrate(_ migrations: [Migration]) throws(MigrationError) -> [String] {
        do {
            try connection.query("SELECT pg_advisory_lock($1)", [Migrator.lockKey], timeout: 600)
        } catch {
            throw .database(error)
        }
        defer { _ = try? connection.query("SELECT pg_advisory_unlock($1)", [Migrator.lockKey]) }
        var applied: [String: String] = [:]
        do {
            try connection.query("""
                CREATE TABLE IF NOT EXISTS schema_migrations (
                    version    text PRIMARY KEY CHECK (version ~ '^[0-9]{4}$'),
                    name       text NOT NULL,
                    checksum   text NOT NULL,
                    applied_at timestamptz NOT NULL DEFAULT now())
                """)
            for row in try connection.query("SELECT version, checksum FROM schema_migrations").rows {
                applied[try row.decode(0, as: String.self)] = try row.decode(1, as: String.self)
            }
        } catch {
            throw .database(error)
        }
        var done: [String] = []
        for migration in migrations {
            if let checksum = applied[migration.version] {
                if checksum != migration.checksum { throw .changedAfterApplying(version: migration.version) }
                continue
            }
            do {
                try connection.transaction { () throws(PostgresError) in
                    try connection.execute(script: migration.sql, timeout: 600)
                    try connection.query("INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
                                         [migration.version, migration.name, migration.checksum])
                }
            } catch {
                switch error {
                case .body(let inner), .database(let inner): throw .failed(version: migration.version, inner)
                }
            }
            log.info("applied migration", ["version": migration.version, "name": migration.name])
            done.append(migration.version)
        }
        return done
    }
}

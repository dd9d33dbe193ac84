import Configuration
import Platform
import XCTest

final class ConfigurationTests: XCTestCase {
    private func temporaryFile(_ text: String) throws -> String {
        let path = "/tmp/xomify-config-test-\(Int.random(in: 0..<Int.max)).conf"
        try Files.write(Array(text.utf8), to: path)
        addTeardownBlock { _ = try? Files.read(path); unlink(path) }
        return path
    }

    func testFileThenEnvironmentThenFlags() throws {
        let path = try temporaryFile("# comment\nXOMIFY_WORKERS=1\nXOMIFY_THREADS = 2\nXOMIFY_LOG_LEVEL=\"debug\"\n")
        let fileOnly = try Configuration.load(arguments: [], environment: ["XOMIFY_CONFIG": path])
        XCTAssertEqual(try fileOnly.integer(Settings.workers, in: 1...9), 1)
        XCTAssertEqual(fileOnly.string(Settings.logLevel), "debug")
        let environment = try Configuration.load(arguments: [], environment: ["XOMIFY_CONFIG": path, "XOMIFY_WORKERS": "3"])
        XCTAssertEqual(try environment.integer(Settings.workers, in: 1...9), 3)
        XCTAssertEqual(try environment.integer(Settings.threads, in: 1...9), 2)
        let flags = try Configuration.load(arguments: ["--workers", "5", "--threads=6", "migrate"],
                                           environment: ["XOMIFY_CONFIG": path, "XOMIFY_WORKERS": "3"])
        XCTAssertEqual(try flags.integer(Settings.workers, in: 1...9), 5)
        XCTAssertEqual(try flags.integer(Settings.threads, in: 1...9), 6)
        XCTAssertEqual(flags.remainingArguments, ["migrate"])
        XCTAssertEqual(try Configuration.load(arguments: [], environment: [:]).string(Settings.listen), "/run/xomify/api.sock")
    }

    func testWindowsLineEndingsAreLineEndings() throws {
        // "\r\n" is a single Character in Swift: splitting on "\n" alone would see one line.
        let path = try temporaryFile("XOMIFY_WORKERS=7\r\nXOMIFY_THREADS=3\r\n")
        let configuration = try Configuration.load(arguments: [], environment: ["XOMIFY_CONFIG": path])
        XCTAssertEqual(try configuration.integer(Settings.workers, in: 1...9), 7)
        XCTAssertEqual(try configuration.integer(Settings.threads, in: 1...9), 3)
    }

    /// The setting a ConfigurationError names (its "kind": the one line at start names it, SPEC §3).
    private func assertRefusal(_ expression: @autoclosure () throws -> Any, naming setting: String,
                               file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try expression(), setting, file: file, line: line) { error in
            guard let error = error as? ConfigurationError else {
                return XCTFail("\(error) is not a ConfigurationError", file: file, line: line)
            }
            XCTAssertEqual(error.setting, setting, file: file, line: line)
            XCTAssertTrue("\(error)".hasPrefix(setting + ":"), "\(error)", file: file, line: line)
        }
    }

    func testErrorsNameTheSetting() throws {
        let path = try temporaryFile("XOMIFY_NOT_A_SETTING=1\n")
        assertRefusal(try Configuration.load(arguments: [], environment: ["XOMIFY_CONFIG": path]), naming: "XOMIFY_NOT_A_SETTING")
        assertRefusal(try Configuration.load(arguments: [], environment: ["XOMIFY_CONFIG": "/nonexistent/x.conf"]),
                      naming: "XOMIFY_CONFIG")
        let noEquals = try temporaryFile("XOMIFY_WORKERS 2\n")
        assertRefusal(try Configuration.load(arguments: [], environment: ["XOMIFY_CONFIG": noEquals]), naming: "XOMIFY_CONFIG")
        assertRefusal(try Configuration.load(arguments: ["--workers"], environment: [:]), naming: "XOMIFY_WORKERS")
        let configuration = try Configuration.load(arguments: ["--workers", "zero", "--threads", "10"], environment: [:])
        assertRefusal(try configuration.integer(Settings.workers, in: 1...9), naming: "XOMIFY_WORKERS")
        assertRefusal(try configuration.integer(Settings.threads, in: 1...9), naming: "XOMIFY_THREADS")
        assertRefusal(try configuration.required(Settings.databaseURL), naming: "XOMIFY_DATABASE_URL")
    }

    func testSecretsAreReadFromFilesAndCheckedWithoutBeingShown() throws {
        let short = try temporaryFile("tooshort\n")
        let long = try temporaryFile("  " + String(repeating: "k", count: 40) + "\n")
        let bad = try Configuration.load(arguments: ["--jwt-secret-file", short], environment: [:])
        XCTAssertThrowsError(try Secrets(configuration: bad, environment: [:]).jwtSecret()) { error in
            XCTAssertFalse("\(error)".contains("tooshort"))
            XCTAssertEqual((error as? ConfigurationError)?.setting, "XOMIFY_JWT_SECRET_FILE")
        }
        let missing = try Configuration.load(arguments: ["--jwt-secret-file", "/nonexistent/secret"], environment: [:])
        assertRefusal(try Secrets(configuration: missing, environment: [:]).jwtSecret(), naming: "XOMIFY_JWT_SECRET_FILE")
        assertRefusal(try Secrets(configuration: try Configuration.load(arguments: [], environment: [:]), environment: [:]).tokenKeys(),
                      naming: "XOMIFY_TOKEN_KEY_FILE")
        let good = try Configuration.load(arguments: ["--jwt-secret-file", long], environment: [:])
        XCTAssertEqual(try Secrets(configuration: good, environment: [:]).jwtSecret().count, 40)
    }

    func testConninfoPasswordsAreRedacted() {
        XCTAssertEqual(Configuration.redactConninfo("postgresql://u:secret@h/db"), "postgresql://u:[redacted]@h/db")
        XCTAssertEqual(Configuration.redactConninfo("host=h password=secret dbname=x"), "host=h password=[redacted] dbname=x")
    }
}

#if canImport(Glibc)
import Glibc
#endif
import CPostgres

/// One libpq connection, used by one thread at a time. Every command has a deadline: libpq's blocking calls
/// would wait forever on a dead server, so commands are sent asynchronously and awaited with poll(2). A
/// connection that breaks or times out is closed; the next command reconnects (with its own deadline), so a
/// restarted PostgreSQL is picked up without restarting anything.
public final class Connection {
    /// Session settings applied after every (re)connect.
    public struct Options: Sendable {
        public var connectTimeout: Double = 2
        public var commandTimeout: Double = 10
        /// Server-side statement_timeout in milliseconds (0 = none).
        public var statementTimeoutMilliseconds: Int = 0
        public var applicationName: String = "xomify"

        public init(connectTimeout: Double = 2, commandTimeout: Double = 10, statementTimeoutMilliseconds: Int = 0,
                    applicationName: String = "xomify") {
            self.connectTimeout = connectTimeout
            self.commandTimeout = commandTimeout
            self.statementTimeoutMilliseconds = statementTimeoutMilliseconds
            self.applicationName = applicationName
        }
    }

    private let conninfo: String
    public let options: Options
    private var handle: OpaquePointer?
    private var prepared: Set<String> = []
    /// Depth of `transaction` calls; nested calls join the outer transaction.
    private var transactionDepth = 0

    /// A connection that will connect on first use.
    public init(conninfo: String, options: Options = Options()) {
        self.conninfo = conninfo
        self.options = options
    }

    deinit { close() }

    public var isConnected: Bool {
        guard let handle else { return false }
        return PQstatus(handle) == CONNECTION_OK
    }

    /// Closes the link (the next command reconnects).
    public func close() {
        if let handle { PQfinish(handle) }
        handle = nil
        prepared.removeAll()
        transactionDepth = 0
    }

    /// Connects if not connected, within `options.connectTimeout`.
    public func connect() throws(PostgresError) {
        if isConnected { return }
        close()
        let deadline = Monotonic.deadline(after: options.connectTimeout)
        let keywords = ["dbname", "application_name", "keepalives", "keepalives_idle", "keepalives_interval", "keepalives_count"]
        let values = [conninfo, options.applicationName, "1", "10", "5", "3"]
        let connection: OpaquePointer? = withCStringArray(keywords) { keys in
            withCStringArray(values) { vals in PQconnectStartParams(keys, vals, 1) }
        }
        guard let connection else { throw .connectionFailed("out of memory") }
        handle = connection
        if PQstatus(connection) == CONNECTION_BAD {
            let message = lastError()
            close()
            throw .connectionFailed(message)
        }
        var status = PGRES_POLLING_WRITING
        while true {
            switch status {
            case PGRES_POLLING_OK:
                PQsetNoticeProcessor(connection, { _, _ in }, nil)
                var setup = "SET TIME ZONE 'UTC'; SET statement_timeout = \(options.statementTimeoutMilliseconds)"
                setup += "; SET idle_in_transaction_session_timeout = 60000"
                do {
                    _ = try run(simple: setup, deadline: deadline)
                } catch {
                    close()
                    throw .connectionFailed("session setup failed: \(error)")
                }
                return
            case PGRES_POLLING_FAILED:
                let message = lastError()
                close()
                throw .connectionFailed(message)
            case PGRES_POLLING_READING:
                try waitForSocket(read: true, deadline: deadline, connecting: true)
            default:
                try waitForSocket(read: false, deadline: deadline, connecting: true)
            }
            status = PQconnectPoll(connection)
        }
    }

    // MARK: Commands

    /// Runs one parameterised statement. Parameters travel separately from the SQL text (never spliced in).
    @discardableResult
    public func query(_ sql: String, _ parameters: [any PostgresEncodable] = [], timeout: Double? = nil) throws(PostgresError) -> QueryResult {
        try connect()
        let deadline = Monotonic.deadline(after: timeout ?? options.commandTimeout)
        let sent = withParameters(parameters) { count, values, lengths, formats in
            PQsendQueryParams(handle, sql, count, nil, values, lengths, formats, 0)
        }
        guard sent == 1 else { throw failure() }
        return try collect(deadline: deadline)
    }

    /// Runs a statement prepared once per connection under `name` (the SQL must not vary for one name).
    @discardableResult
    public func prepared(_ name: String, _ sql: String, _ parameters: [any PostgresEncodable] = [],
                         timeout: Double? = nil) throws(PostgresError) -> QueryResult {
        try connect()
        let deadline = Monotonic.deadline(after: timeout ?? options.commandTimeout)
        if !prepared.contains(name) {
            guard PQsendPrepare(handle, name, sql, Int32(parameters.count), nil) == 1 else { throw failure() }
            _ = try collect(deadline: deadline)
            prepared.insert(name)
        }
        let sent = withParameters(parameters) { count, values, lengths, formats in
            PQsendQueryPrepared(handle, name, count, values, lengths, formats, 0)
        }
        guard sent == 1 else { throw failure() }
        return try collect(deadline: deadline)
    }

    /// Runs SQL text with several statements and no parameters (migration files).
    public func execute(script: String, timeout: Double? = nil) throws(PostgresError) {
        try connect()
        _ = try run(simple: script, deadline: Monotonic.deadline(after: timeout ?? options.commandTimeout))
    }

    /// Runs `body` in a transaction: committed when it returns, rolled back when it throws. Nested calls join
    /// the outer transaction.
    public func transaction<T>(isolation: String = "READ COMMITTED",
                               _ body: () throws(PostgresError) -> T) throws(PostgresError) -> T {
        if transactionDepth > 0 { return try body() }
        try query("BEGIN ISOLATION LEVEL \(isolation)")
        transactionDepth = 1
        do {
            let value = try body()
            transactionDepth = 0
            try query("COMMIT")
            return value
        } catch {
            transactionDepth = 0
            if isConnected { _ = try? query("ROLLBACK") }
            throw error
        }
    }

    // MARK: Plumbing

    private func run(simple sql: String, deadline: UInt64) throws(PostgresError) -> QueryResult {
        guard PQsendQuery(handle, sql) == 1 else { throw failure() }
        return try collect(deadline: deadline)
    }

    /// Reads every result of the command; returns the last, throws the first server error.
    private func collect(deadline: UInt64) throws(PostgresError) -> QueryResult {
        var last: QueryResult?
        var firstError: PostgresError?
        while true {
            while PQisBusy(handle) == 1 {
                try waitForSocket(read: true, deadline: deadline, connecting: false)
                guard PQconsumeInput(handle) == 1 else { throw failure() }
            }
            guard let result = PQgetResult(handle) else { break }
            switch PQresultStatus(result) {
            case PGRES_COMMAND_OK, PGRES_TUPLES_OK, PGRES_EMPTY_QUERY:
                last = QueryResult(result)
            case PGRES_FATAL_ERROR:
                if firstError == nil { firstError = serverError(result) }
                PQclear(result)
            case PGRES_COPY_IN, PGRES_COPY_OUT, PGRES_COPY_BOTH:
                PQclear(result)
                close()
                throw .misuse("COPY is not supported")
            default:
                PQclear(result)
            }
        }
        if let firstError {
            if PQstatus(handle) != CONNECTION_OK { close() }
            throw firstError
        }
        guard let last else { throw .misuse("command returned no result") }
        return last
    }

    private func serverError(_ result: OpaquePointer) -> PostgresError {
        func field(_ code: UInt8) -> String? {
            guard let value = PQresultErrorField(result, Int32(code)) else { return nil }
            return String(cString: value)
        }
        guard let state = field(UInt8(ascii: "C")) else {
            // Errors libpq made up itself (no SQLSTATE) mean the link failed.
            return .connectionLost(String(cString: PQresultErrorMessage(result)).trimmingNewlines())
        }
        return .server(.init(sqlState: state,
                             message: field(UInt8(ascii: "M")) ?? "",
                             detail: field(UInt8(ascii: "D")),
                             constraint: field(UInt8(ascii: "n"))))
    }

    /// The error after a failed libpq call; closes a broken link.
    private func failure() -> PostgresError {
        let message = lastError()
        if handle == nil || PQstatus(handle) != CONNECTION_OK {
            close()
            return .connectionLost(message)
        }
        return .misuse(message)
    }

    private func lastError() -> String {
        guard let handle, let message = PQerrorMessage(handle) else { return "no connection" }
        return String(cString: message).trimmingNewlines()
    }

    private func waitForSocket(read: Bool, deadline: UInt64, connecting: Bool) throws(PostgresError) {
        let fd = PQsocket(handle)
        guard fd >= 0 else {
            close()
            throw connecting ? .connectionFailed("no socket") : .connectionLost("no socket")
        }
        while true {
            let now = Monotonic.now()
            guard now < deadline else {
                let seconds = connecting ? options.connectTimeout : options.commandTimeout
                close()
                throw connecting ? .connectionFailed("timed out after \(seconds) s") : .timeout(seconds: seconds)
            }
            var entry = pollfd(fd: fd, events: Int16(read ? POLLIN : POLLOUT), revents: 0)
            let milliseconds = Int32(min((deadline - now) / 1_000_000 + 1, 60_000))
            let ready = poll(&entry, 1, milliseconds)
            if ready > 0 { return }
            if ready < 0 && errno != EINTR {
                close()
                throw .connectionLost("poll failed")
            }
        }
    }

    private func withParameters<R>(_ parameters: [any PostgresEncodable],
                                   _ body: (Int32, UnsafePointer<UnsafePointer<CChar>?>?, UnsafePointer<Int32>?,
                                            UnsafePointer<Int32>?) -> R) -> R {
        var pointers: [UnsafeMutablePointer<CChar>?] = []
        var lengths: [Int32] = []
        var formats: [Int32] = []
        pointers.reserveCapacity(parameters.count)
        for parameter in parameters {
            switch parameter.postgresValue {
            case .null:
                pointers.append(nil)
                lengths.append(0)
                formats.append(0)
            case .text(let text):
                pointers.append(strdup(text))
                lengths.append(0)
                formats.append(0)
            case .binary(let bytes):
                let buffer = UnsafeMutablePointer<CChar>.allocate(capacity: max(bytes.count, 1))
                bytes.withUnsafeBytes { raw in
                    if let base = raw.baseAddress { buffer.update(from: base.assumingMemoryBound(to: CChar.self), count: bytes.count) }
                }
                pointers.append(buffer)
                lengths.append(Int32(bytes.count))
                formats.append(1)
            }
        }
        defer { pointers.forEach { free($0) } }
        return pointers.withUnsafeBufferPointer { values in
            values.baseAddress!.withMemoryRebound(to: UnsafePointer<CChar>?.self, capacity: max(values.count, 1)) { rebound in
                body(Int32(parameters.count), parameters.isEmpty ? nil : rebound, lengths, formats)
            }
        }
    }
}

private func withCStringArray<R>(_ strings: [String], _ body: (UnsafePointer<UnsafePointer<CChar>?>) -> R) -> R {
    var pointers: [UnsafeMutablePointer<CChar>?] = strings.map { strdup($0) } + [nil]
    defer { pointers.forEach { free($0) } }
    return pointers.withUnsafeMutableBufferPointer { buffer in
        buffer.baseAddress!.withMemoryRebound(to: UnsafePointer<CChar>?.self, capacity: buffer.count) { body($0) }
    }
}

enum Monotonic {
    static func now() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }

    static func deadline(after seconds: Double) -> UInt64 {
        now() + UInt64(max(seconds, 0) * 1e9)
    }
}

extension String {
    func trimmingNewlines() -> String {
        var text = self
        while let last = text.last, last.isNewline { text.removeLast() }
        return text.replacing("\n", with: " ")
    }
}

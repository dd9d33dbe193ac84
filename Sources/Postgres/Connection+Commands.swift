import CPostgres
import Platform
import Text

/// Sending commands and collecting their results, each within the command deadline.
extension Connection {
    /// Runs one parameterised statement. Parameters travel separately from the SQL text (never spliced in).
    @discardableResult
    public func query(_ sql: String, _ parameters: [any PostgresEncodable] = [],
                      timeout: Double? = nil) throws(PostgresError) -> QueryResult {
        let deadline = try commandDeadline(timeout)
        try connect()
        let sent = withParameters(parameters) { count, values, lengths, formats in
            PQsendQueryParams(handle, sql, count, nil, values, lengths, formats, 0)
        }
        guard sent == 1 else { throw sendFailure() }
        return try collect(deadline: deadline)
    }

    /// Runs a statement, preparing it on this link the first time (under the statement's own name).
    @discardableResult
    public func execute(_ statement: PreparedStatement, _ parameters: [any PostgresEncodable] = [],
                        timeout: Double? = nil) throws(PostgresError) -> QueryResult {
        let deadline = try commandDeadline(timeout)
        try connect()
        if !preparedNames.contains(statement.name) {
            guard PQsendPrepare(handle, statement.name, statement.sql, Int32(parameters.count), nil) == 1 else {
                throw sendFailure()
            }
            // Preparing applies nothing: a link lost meanwhile leaves the statement certainly not run.
            do { try collect(deadline: deadline) } catch { throw error.applyingNothing }
            preparedNames.insert(statement.name)
        }
        let sent = withParameters(parameters) { count, values, lengths, formats in
            PQsendQueryPrepared(handle, statement.name, count, values, lengths, formats, 0)
        }
        guard sent == 1 else { throw sendFailure() }
        return try collect(deadline: deadline)
    }

    /// Runs SQL text with several statements and no parameters (migration files).
    public func execute(script: String, timeout: Double? = nil) throws(PostgresError) {
        let deadline = try commandDeadline(timeout)
        try connect()
        try runSimple(script, deadline: deadline)
    }

    /// A command's deadline: its own timeout, cut to `limit`; throws when `limit` has already passed.
    private func commandDeadline(_ timeout: Double?) throws(PostgresError) -> Deadline {
        let own = Deadline(after: timeout ?? options.commandTimeout)
        guard let limit else { return own }
        guard !limit.hasPassed else { throw .deadlinePassed }
        return min(own, limit)
    }

    @discardableResult
    func runSimple(_ sql: String, deadline: Deadline) throws(PostgresError) -> QueryResult {
        guard PQsendQuery(handle, sql) == 1 else { throw sendFailure() }
        return try collect(deadline: deadline)
    }

    /// Reads every result of the command; returns the last, throws the first server error.
    @discardableResult
    private func collect(deadline: Deadline) throws(PostgresError) -> QueryResult {
        var last: QueryResult?
        var firstError: PostgresError?
        while true {
            while PQisBusy(handle) == 1 {
                try waitForSocket(read: true, deadline: deadline, connecting: false)
                guard PQconsumeInput(handle) == 1 else { throw linkFailure() }
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
            // Errors libpq made up itself (no SQLSTATE) mean the link failed after the command went out.
            return .connectionLost(String(cString: PQresultErrorMessage(result)).singleLine(), effect: effectIfLost)
        }
        return .server(.init(sqlState: state, message: field(UInt8(ascii: "M")) ?? "", detail: field(UInt8(ascii: "D")),
                             constraint: field(UInt8(ascii: "n"))))
    }

    /// The error when a command could not be handed to libpq: it never reached the server.
    private func sendFailure() -> PostgresError {
        let message = lastError()
        guard handle != nil, PQstatus(handle) == CONNECTION_OK else {
            close()
            return .connectionLost(message, effect: .none)
        }
        return .misuse(message)
    }

    /// The error when the link fails while a sent command is awaited.
    private func linkFailure() -> PostgresError {
        let message = lastError()
        let effect = effectIfLost
        close()
        return .connectionLost(message, effect: effect)
    }
}

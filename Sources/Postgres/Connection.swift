#if canImport(Glibc)
import Glibc
#endif
import CPostgres
import Platform
import Text

/// One libpq connection, used by one thread at a time. Every command has a deadline: libpq's blocking calls
/// would wait forever on a dead server, so commands are sent asynchronously and awaited with poll(2)
/// (`Connection+Commands.swift`). A connection that breaks or times out is closed; the next command reconnects
/// (with its own deadline), so a restarted PostgreSQL is picked up without restarting anything.
public final class Connection {
    /// Session settings applied after every (re)connect.
    public struct Options: Sendable {
        public var connectTimeout: Double
        public var commandTimeout: Double
        /// Server-side statement_timeout in milliseconds (0 = none).
        public var statementTimeoutMilliseconds: Int
        public var applicationName: String

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
    var handle: OpaquePointer?
    /// Names of the statements prepared on this link (they vanish with it).
    var preparedNames: Set<String> = []
    /// Depth of `transaction` calls; nested calls join the outer transaction.
    var transactionDepth = 0
    /// The server said, on an idle link, that it is ending the session (a FATAL notice: a terminated backend, a
    /// shutdown): the link is closed before the next command instead of sending it into a closing socket.
    var serverEndedSession = false
    /// A deadline no command passes (a request's time): each command's own deadline is cut to it, and no command
    /// is sent once it has passed. Nil: the commands' own deadlines only.
    public var limit: Deadline?

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
        serverEndedSession = false
        preparedNames.removeAll()
        transactionDepth = 0
    }

    /// Connects if not connected, within `options.connectTimeout`. Before a command on an idle link, looks for
    /// what the server may have said meanwhile: a backend terminated by an administrator or a restart says so
    /// before it closes, and finding that out now (rather than after sending) keeps the command "not sent".
    public func connect() throws(PostgresError) {
        if let handle, transactionDepth == 0, PQstatus(handle) == CONNECTION_OK, socketIsReadable() {
            // Reading does not parse: PQisBusy does, which hands a FATAL notice to the receiver. The notice can
            // arrive a moment before the end of the stream; either is enough to know.
            if PQconsumeInput(handle) == 1 { _ = PQisBusy(handle) }
            if serverEndedSession { close() }
        }
        if isConnected { return }
        if transactionDepth > 0 {
            // The transaction died with the link: nothing of it was committed.
            close()
            throw .connectionLost("the connection broke inside a transaction", effect: .none)
        }
        close()
        let deadline = min(Deadline(after: options.connectTimeout), limit ?? Deadline(after: options.connectTimeout))
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
                // Notices are not logged (they may quote data); a FATAL one marks the session as ending.
                PQsetNoticeReceiver(connection, { context, result in
                    guard let context, let result,
                          let severity = PQresultErrorField(result, Int32(UInt8(ascii: "V"))),
                          ["FATAL", "PANIC"].contains(String(cString: severity)) else { return }
                    Unmanaged<Connection>.fromOpaque(context).takeUnretainedValue().serverEndedSession = true
                }, Unmanaged.passUnretained(self).toOpaque())
                let setup = "SET TIME ZONE 'UTC'; SET statement_timeout = \(options.statementTimeoutMilliseconds); "
                    + "SET idle_in_transaction_session_timeout = 60000; "
                    // A command given up on (its link closed at a deadline) stops within a second, instead of
                    // holding its locks until it finishes or its statement_timeout.
                    + "SET client_connection_check_interval = 1000"
                do {
                    try runSimple(setup, deadline: deadline)
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

    // MARK: Plumbing shared with the command and transaction files

    func lastError() -> String {
        guard let handle, let message = PQerrorMessage(handle) else { return "no connection" }
        return String(cString: message).singleLine()
    }

    /// True when the server has sent something on an idle link (a termination notice, or the end of the stream).
    private func socketIsReadable() -> Bool {
        let fd = PQsocket(handle)
        guard fd >= 0 else { return true }
        var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        return poll(&entry, 1, 0) > 0
    }

    /// Waits until the socket is ready, or throws when the deadline passes (closing the link).
    func waitForSocket(read: Bool, deadline: Deadline, connecting: Bool) throws(PostgresError) {
        let fd = PQsocket(handle)
        guard fd >= 0 else {
            close()
            throw connecting ? .connectionFailed("no socket") : .connectionLost("no socket", effect: effectIfLost)
        }
        while true {
            guard let remaining = deadline.remainingMilliseconds(cap: 60_000) else {
                let effect = effectIfLost
                close()
                throw connecting ? .connectionFailed("timed out after \(options.connectTimeout) s")
                                 : .timeout(seconds: options.commandTimeout, effect: effect)
            }
            var entry = pollfd(fd: fd, events: Int16(read ? POLLIN : POLLOUT), revents: 0)
            let ready = poll(&entry, 1, remaining)
            if ready > 0 { return }
            if ready < 0 && errno != EINTR {
                let effect = effectIfLost
                close()
                throw .connectionLost("poll failed", effect: effect)
            }
        }
    }

    /// What a command that loses its link may have done: inside a transaction nothing (it was not committed),
    /// outside one (a statement on its own, or COMMIT itself) it may have been applied.
    var effectIfLost: PostgresError.Effect {
        transactionDepth > 0 ? .none : .unknown
    }
}

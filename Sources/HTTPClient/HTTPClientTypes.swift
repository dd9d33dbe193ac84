/// A request for the HTTP client.
public struct HTTPClientRequest: Sendable {
    public var method: String
    public var url: String
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]
    /// Whole-request timeout in seconds (connect, send, wait, receive).
    public var timeout: Double

    public init(method: String = "GET", url: String, headers: [(name: String, value: String)] = [], body: [UInt8] = [],
                timeout: Double = 15) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.timeout = timeout
    }
}

/// A response: status, headers (names lower-cased; the last value of a repeated header) and body.
public struct HTTPClientResponse: Sendable {
    public let status: Int
    public let headers: [String: String]
    public let body: [UInt8]

    public init(status: Int, headers: [String: String], body: [UInt8]) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    public func header(_ name: String) -> String? { headers[name.lowercased()] }
}

/// A request that produced no HTTP response.
public enum HTTPClientError: Error, Sendable, Equatable, CustomStringConvertible {
    case timedOut
    /// Could not connect, or the connection dropped before a complete response (retryable).
    case connection(String)
    case responseTooLarge
    case invalidRequest(String)
    case shutDown

    public var description: String {
        switch self {
        case .timedOut: return "timed out"
        case .connection(let why): return "connection failed: \(why)"
        case .responseTooLarge: return "response too large"
        case .invalidRequest(let why): return "invalid request: \(why)"
        case .shutDown: return "client shut down"
        }
    }
}

import JSON

/// A response to write back through FastCGI.
public struct HTTPResponse: Sendable {
    public var status: Int
    /// Headers in order; names as they should be written.
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]

    public init(status: Int, headers: [(name: String, value: String)] = [], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    public mutating func setHeader(_ name: String, _ value: String) {
        headers.removeAll { ASCIICase.equal($0.name, name) }
        headers.append((name, value))
    }

    public func header(_ name: String) -> String? {
        headers.first { ASCIICase.equal($0.name, name) }?.value
    }

    /// A JSON body with the JSON content type.
    public static func json(_ status: Int, _ body: [UInt8]) -> HTTPResponse {
        HTTPResponse(status: status, headers: [("Content-Type", "application/json; charset=utf-8")], body: body)
    }

    public static func json(_ status: Int, _ value: JSON) -> HTTPResponse {
        json(status, value.serialized())
    }

    public static func text(_ status: Int, _ text: String) -> HTTPResponse {
        HTTPResponse(status: status, headers: [("Content-Type", "text/plain; charset=utf-8")], body: Array(text.utf8))
    }

    /// The CGI response head (`Status:` line and headers) that precedes the body on FastCGI's stdout.
    public func cgiHead() -> [UInt8] {
        var head = "Status: \(status) \(HTTPStatus.reason(status))\r\n"
        var hasLength = false
        for (name, value) in headers {
            // A header value never carries a line break (no response splitting).
            // (Scalars, not Characters: "\r\n" is one Character in Swift.)
            let breaks = value.unicodeScalars.contains { $0 == "\r" || $0 == "\n" }
            let safe = breaks ? String(String.UnicodeScalarView(value.unicodeScalars.filter { $0 != "\r" && $0 != "\n" })) : value
            head += "\(name): \(safe)\r\n"
            if ASCIICase.equal(name, "content-length") { hasLength = true }
        }
        if !hasLength && status != 304 && status != 204 {
            head += "Content-Length: \(body.count)\r\n"
        }
        head += "\r\n"
        return Array(head.utf8)
    }
}

/// Reason phrases for the statuses this service uses.
public enum HTTPStatus {
    public static func reason(_ status: Int) -> String {
        switch status {
        case 200: return "OK"
        case 201: return "Created"
        case 202: return "Accepted"
        case 204: return "No Content"
        case 304: return "Not Modified"
        case 400: return "Bad Request"
        case 401: return "Unauthorized"
        case 403: return "Forbidden"
        case 404: return "Not Found"
        case 405: return "Method Not Allowed"
        case 409: return "Conflict"
        case 413: return "Payload Too Large"
        case 415: return "Unsupported Media Type"
        case 429: return "Too Many Requests"
        case 500: return "Internal Server Error"
        case 502: return "Bad Gateway"
        case 503: return "Service Unavailable"
        case 504: return "Gateway Timeout"
        default: return "Status \(status)"
        }
    }
}

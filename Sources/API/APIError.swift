import HTTP
import JSON

/// An error answer with the envelope of SPEC §5.2:
/// `{"error": {"message", "status", "code", "handler", "requestId", "fields"?}}`. `envelope` is the one place
/// that writes it.
public struct APIError: Error, Sendable {
    public enum Code: String, Sendable {
        case invalidInput = "invalid_input"
        case invalidJSON = "invalid_json"
        case invalidToken = "invalid_token"
        case forbidden
        case notFound = "not_found"
        case methodNotAllowed = "method_not_allowed"
        case payloadTooLarge = "payload_too_large"
        case unsupportedMediaType = "unsupported_media_type"
        case conflict
        case serviceUnavailable = "service_unavailable"
        case badGateway = "bad_gateway"
        case internalError = "internal_error"
    }

    /// The names behind a validation error.
    public struct Fields: Sendable, Equatable {
        public var missing: [String] = []
        public var unexpected: [String] = []
        public var invalid: [String] = []

        public var isEmpty: Bool { missing.isEmpty && unexpected.isEmpty && invalid.isEmpty }
    }

    public let status: Int
    public let code: Code
    public let message: String
    public var fields: Fields?
    /// Extra response headers (`Allow`, `WWW-Authenticate`, `Retry-After`).
    public var headers: [(name: String, value: String)] = []
    /// What went wrong inside, for the log line of a 5xx; never sent to the client.
    public var cause: String?

    public init(_ status: Int, _ code: Code, _ message: String, fields: Fields? = nil) {
        self.status = status
        self.code = code
        self.message = message
        self.fields = fields
    }

    static func invalidInput(_ fields: Fields) -> APIError {
        var parts: [String] = []
        if !fields.missing.isEmpty { parts.append("missing \(fields.missing.joined(separator: ", "))") }
        if !fields.unexpected.isEmpty { parts.append("unexpected \(fields.unexpected.joined(separator: ", "))") }
        if !fields.invalid.isEmpty { parts.append("invalid \(fields.invalid.joined(separator: ", "))") }
        return APIError(400, .invalidInput, "Invalid User Input - " + parts.joined(separator: "; "), fields: fields)
    }

    static func notFound(_ what: String) -> APIError { APIError(404, .notFound, what) }

    /// 401 with the `WWW-Authenticate` challenge every refused token gets (SPEC §5.1).
    static func unauthorized(_ message: String) -> APIError {
        var error = APIError(401, .invalidToken, message)
        error.headers = [("WWW-Authenticate", "Bearer error=\"invalid_token\"")]
        return error
    }

    static let unavailable = APIError(503, .serviceUnavailable, "The database is unavailable; try again shortly")
    static let internalError = APIError(500, .internalError, "Internal error")

    /// The error body on behalf of `handler`.
    func envelope(handler: String, requestID: String) -> [UInt8] {
        var writer = JSONWriter(capacity: 256)
        writer.beginObject()
        writer.key("error")
        writer.beginObject()
        writer.key("message"); writer.string(message)
        writer.key("status"); writer.int(status)
        writer.key("code"); writer.string(code.rawValue)
        writer.key("handler"); writer.string(handler)
        writer.key("requestId"); writer.string(requestID)
        if let fields {
            writer.key("fields")
            writer.beginObject()
            writer.key("missing"); writer.stringArray(fields.missing)
            writer.key("unexpected"); writer.stringArray(fields.unexpected)
            writer.key("invalid"); writer.stringArray(fields.invalid)
            writer.endObject()
        }
        writer.endObject()
        writer.endObject()
        return writer.bytes
    }

    /// The whole answer for this error.
    func response(handler: String, requestID: String) -> HTTPResponse {
        var response = HTTPResponse.json(status, envelope(handler: handler, requestID: requestID))
        for (name, value) in headers { response.setHeader(name, value) }
        return response
    }
}

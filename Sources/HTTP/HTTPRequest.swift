/// A request as the pool received it from nginx: CGI parameters turned into a method, a path, a raw query,
/// lower-cased headers and the body (read with the pool's size cap).
public struct HTTPRequest: Sendable {
    public var method: String
    /// The path without the query, percent-decoding not applied (routes are plain ASCII).
    public var path: String
    /// The raw query string, without `?`.
    public var query: String
    /// Header names lower-cased, as nginx passed them.
    public var headers: [String: String]
    public var body: [UInt8]
    /// True when the body was larger than the cap: `body` is then empty and the request must be refused (413).
    public var bodyExceededLimit: Bool
    /// nginx's `$request_id` when given, else one made up by the pool.
    public var requestID: String
    public var remoteAddress: String

    public init(method: String, path: String, query: String = "", headers: [String: String] = [:], body: [UInt8] = [],
                bodyExceededLimit: Bool = false, requestID: String = RequestID.make(), remoteAddress: String = "") {
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
        self.bodyExceededLimit = bodyExceededLimit
        self.requestID = requestID
        self.remoteAddress = remoteAddress
    }

    /// The header named `name` (any case; lower case, as every caller writes it, costs no conversion).
    public func header(_ name: String) -> String? {
        headers[ASCIICase.isLower(name) ? name : name.lowercased()]
    }

    /// `HTTP_IF_NONE_MATCH` → `if-none-match` (byte by byte: this runs for every header of every request).
    public static func headerName(cgiParameter name: String) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(name.utf8.count)
        for byte in name.utf8.dropFirst(5) {
            switch byte {
            case UInt8(ascii: "_"): bytes.append(UInt8(ascii: "-"))
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): bytes.append(byte + 32)
            default: bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The media type of the body without parameters, lower-cased (`application/json`).
    public var mediaType: String? {
        guard let value = header("content-type") else { return nil }
        let type = value.split(separator: ";", maxSplits: 1).first.map(String.init) ?? value
        let trimmed = type.filter { $0 != " " && $0 != "\t" }.lowercased()
        return trimmed.isEmpty ? nil : trimmed
    }
}

/// Request identifiers for requests that arrive without one.
public enum RequestID {
    private static let digits: [UInt8] = Array("0123456789abcdef".utf8)

    /// 32 random hex digits, like nginx's `$request_id`.
    public static func make() -> String {
        var generator = SystemRandomNumberGenerator()
        var bytes = [UInt8]()
        bytes.reserveCapacity(32)
        for _ in 0..<2 {
            var value = generator.next() as UInt64
            for _ in 0..<16 {
                bytes.append(digits[Int(value & 0xF)])
                value >>= 4
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// A request id taken from a client or nginx is used only when it is short and plain.
    public static func isAcceptable(_ value: String) -> Bool {
        !value.isEmpty && value.utf8.count <= 64 && value.utf8.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                || byte == 0x2D || byte == 0x5F || byte == 0x2E
        }
    }
}

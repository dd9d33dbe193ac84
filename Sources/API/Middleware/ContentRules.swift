import HTTP

/// Bodies: a GET takes none (a Content-Type header alone is fine, clients send it); a POST takes no query string
/// and its body is JSON in UTF-8.
struct ContentRules: Middleware {
    func handle(_ context: inout RequestContext,
                next: (inout RequestContext) throws -> HTTPResponse) throws -> HTTPResponse {
        let request = context.request
        if request.method == "GET" {
            guard request.body.isEmpty else { throw APIError(400, .invalidInput, "Invalid User Input - a GET takes no body") }
            return try next(&context)
        }
        // A POST takes its fields from the body only: a query string is unknown fields, refused like any other
        // (a client that put `email` there must not believe it was used).
        if !request.query.isEmpty {
            let names = (try? QueryString.parse(request.query).map(\.key)) ?? [String(request.query.prefix(64))]
            throw APIError.invalidInput(APIError.Fields(unexpected: names.map { String($0.prefix(64)) }))
        }
        guard request.mediaType == "application/json" else {
            throw APIError(415, .unsupportedMediaType, "Send the body as application/json")
        }
        if let charset = request.header("content-type")?.lowercased().split(separator: ";").dropFirst()
            .map({ $0.filter { $0 != " " } }).first(where: { $0.hasPrefix("charset=") }),
           charset != "charset=utf-8" && charset != "charset=\"utf-8\"" {
            throw APIError(415, .unsupportedMediaType, "JSON bodies must be UTF-8")
        }
        return try next(&context)
    }
}

import HTTP
import Store

extension HTTPResponse {
    /// 200 with a JSON body and, for user data, its ETag.
    static func okJSON(_ body: [UInt8], etag: String?) -> HTTPResponse {
        var response = HTTPResponse.json(200, body)
        if let etag { response.setHeader("ETag", etag) }
        return response
    }

    /// 304: the client's copy is current; no body.
    static func notModified(_ etag: String) -> HTTPResponse {
        HTTPResponse(status: 304, headers: [("ETag", etag)])
    }
}

/// Runs a store operation, turning its failure into the API's answer.
func storeCall<T>(_ body: () throws(StoreError) -> T) throws(APIError) -> T {
    do {
        return try body()
    } catch {
        throw APIError(error)
    }
}

extension APIError {
    /// 503 when the database is down, 409 for a uniqueness conflict, 500 (with the cause kept for the log)
    /// otherwise.
    init(_ error: StoreError) {
        switch error {
        case .unavailable:
            self = APIError.unavailable
        case .conflict:
            self = APIError(409, .conflict, "That Spotify account or email is already registered to another user")
        case .corrupt, .fault:
            self = APIError.internalError
        }
        cause = error.description
    }
}

import Auth
import HTTP
import Log
import Model
import Platform

/// The API as a pool responder: route lookup, the authorizer filter, body checks, the handler, then the
/// headers every answer carries. Nothing a client sends can make it trap: handlers return errors, and
/// anything unexpected becomes a logged 500.
final class APIResponder: Responder {
    private let services: Services
    private let authorizer: Authorizer
    private var verifiedTokens = VerifiedTokens()
    private let log = Logger("api")

    init(services: Services, authorizer: Authorizer) {
        self.services = services
        self.authorizer = authorizer
    }

    func respond(to request: HTTPRequest) -> HTTPResponse {
        var handlerName = "router"
        var response: HTTPResponse
        do {
            let route = try match(request)
            handlerName = route.handler
            let identity = try route.public_ ? nil : authorize(request)
            try checkBody(request)
            let context = RequestContext(request: request, identity: identity, services: services,
                                         now: WallClock.epochSeconds())
            response = try route.run(context)
        } catch {
            if error.status >= 500 {
                log.error("request failed", ["request_id": request.requestID, "path": request.path,
                                             "status": error.status, "cause": error.cause ?? error.message])
            }
            response = error.response(handler: handlerName, requestID: request.requestID)
        }
        response.setHeader("X-Request-Id", request.requestID)
        response.setHeader("Cache-Control", "private, no-cache")
        return response
    }

    private func match(_ request: HTTPRequest) throws(APIError) -> Route {
        if request.bodyExceededLimit {
            throw APIError(413, .payloadTooLarge, "The request body is larger than allowed")
        }
        switch Routes.table.match(method: request.method, path: request.path) {
        case .found(let route):
            return route
        case .methodNotAllowed(let allowed):
            var error = APIError(405, .methodNotAllowed, "\(request.method.prefix(16)) is not allowed here; use \(allowed.joined(separator: ", "))")
            error.headers = [("Allow", allowed.joined(separator: ", "))]
            throw error
        case .notFound:
            throw APIError(404, .notFound, "No such route")
        }
    }

    private func authorize(_ request: HTTPRequest) throws(APIError) -> Identity {
        let identity: Identity
        do {
            identity = try authorizer.identify(authorization: request.header("authorization"), now: WallClock.epochSeconds(),
                                               verified: &verifiedTokens)
        } catch {
            throw APIError.unauthorized("Unauthorized: \(error.description)")
        }
        // A correctly signed user token whose email claim is not an email identifies nobody: refuse it here,
        // before validation, like any other bad token.
        if case .user(let email, _, _) = identity, Email(email) == nil {
            throw APIError.unauthorized("Unauthorized: the token's email is not valid")
        }
        return identity
    }

    /// Bodies: GETs take none (a Content-Type header alone is fine, clients send it); POST bodies are JSON.
    private func checkBody(_ request: HTTPRequest) throws(APIError) {
        if request.method == "GET" {
            guard request.body.isEmpty else { throw APIError(400, .invalidInput, "Invalid User Input - a GET takes no body") }
            return
        }
        guard request.mediaType == "application/json" else {
            throw APIError(415, .unsupportedMediaType, "Send the body as application/json")
        }
        if let charset = request.header("content-type")?.lowercased().split(separator: ";").dropFirst()
            .map({ $0.filter { $0 != " " } }).first(where: { $0.hasPrefix("charset=") }),
           charset != "charset=utf-8" && charset != "charset=\"utf-8\"" {
            throw APIError(415, .unsupportedMediaType, "JSON bodies must be UTF-8")
        }
    }
}

import Auth
import HTTP
import Model
import Platform
import Store

/// One request on its way through the pipeline: the request, what the middleware found out (the route, the
/// caller's identity), and the thread's services.
struct RequestContext {
    let request: HTTPRequest
    let services: Services
    let now: Int64
    /// When the request's time runs out.
    let deadline: Deadline
    /// Set by `RouteLookup`.
    var route: Route?
    /// Set by `Authorization`; nil on the routes that need no token.
    var identity: Identity?

    init(request: HTTPRequest, services: Services, now: Int64, deadline: Deadline) {
        self.request = request
        self.services = services
        self.now = now
        self.deadline = deadline
    }

    /// The name reported in error bodies: the route's handler, or the router before a route is known.
    var handlerName: String { route?.handler ?? "router" }

    /// The email a request acts for (SPEC §5.1): the token's unless another is given; another email needs an
    /// admin token (403 otherwise). Legacy tokens must name it, and are trusted with it.
    func targetEmail(_ requested: Email?) throws(APIError) -> Email {
        switch identity {
        case .user(let email, _, let isAdmin):
            guard let own = Email(email) else { throw APIError.unauthorized("The token's email is not valid") }
            guard let requested, requested != own else { return own }
            guard isAdmin else { throw APIError(403, .forbidden, "This token may not act for another user") }
            return requested
        case .legacy:
            guard let requested else {
                throw APIError.invalidInput(APIError.Fields(missing: ["email"]))
            }
            services.log.warning("request with the legacy shared token", ["request_id": request.requestID,
                                                                          "path": request.path])
            return requested
        case nil:
            throw APIError.unauthorized("A token is required")
        }
    }

    /// The Spotify user id a body's missing `userId` defaults to: the token's, unless an admin acts for someone
    /// else (the admin's own Spotify id is not the other user's: they must send it, as must legacy tokens).
    /// A non-admin naming someone else gets the token's here and a 403 from `targetEmail`.
    func defaultUserID(for requested: Email?) -> String? {
        guard case .user(let email, let userID, let isAdmin) = identity else { return nil }
        if isAdmin, let requested, requested != Email(email) { return nil }
        return userID
    }

    /// Stores a token write (`POST /user/update`, `POST /wrapped/update`): as it comes under a user token, through
    /// the `LegacyWriteGuard` under the legacy shared token (SPEC §5.1).
    func enrol(_ email: Email, _ enrolment: UserStore.Enrolment) throws -> User {
        if case .legacy = identity {
            return try LegacyWriteGuard(services: services, requestID: request.requestID, deadline: deadline).enrol(email, enrolment)
        }
        return try services.users.enrol(email, enrolment)
    }

    /// True when the client's copy (If-None-Match) is current for `tag`: the handler may answer 304 without
    /// building the body (`EntityTags` also checks the answer it gets).
    func clientHasCurrent(_ tag: String) -> Bool {
        ETag.matches(request, tag)
    }
}

import Auth
import HTTP
import Model

/// The authorizer of SPEC §5.1 as a filter: the caller's identity from the bearer token, or 401 with the
/// `WWW-Authenticate` challenge. Routes that need no token pass without one.
struct Authorization: Middleware {
    let authorizer: Authorizer

    func handle(_ context: inout RequestContext,
                next: (inout RequestContext) throws -> HTTPResponse) throws -> HTTPResponse {
        guard context.route?.needsToken ?? true else { return try next(&context) }
        let identity: Identity
        do {
            identity = try authorizer.identify(authorization: context.request.header("authorization"), now: context.now,
                                               verified: &context.services.verifiedTokens)
        } catch {
            throw APIError.unauthorized("Unauthorized: \(error.description)")
        }
        // A correctly signed user token whose email claim is not an email identifies nobody: refuse it here,
        // before validation, like any other bad token.
        if case .user(let email, _, _) = identity, Email(email) == nil {
            throw APIError.unauthorized("Unauthorized: the token's email is not valid")
        }
        context.identity = identity
        return try next(&context)
    }
}

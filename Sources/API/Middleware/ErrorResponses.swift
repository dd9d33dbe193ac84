import HTTP

/// Turns every error thrown further down into its answer (the mapping of `APIError(answering:)`, the envelope
/// of `APIError.response`); a 5xx is logged with the request id and its cause. Never throws.
struct ErrorResponses: Middleware {
    func handle(_ context: inout RequestContext,
                next: (inout RequestContext) throws -> HTTPResponse) throws -> HTTPResponse {
        do {
            return try next(&context)
        } catch {
            let answer = APIError(answering: error)
            if answer.status >= 500 {
                context.services.log.error("request failed", [
                    "request_id": context.request.requestID, "path": context.request.path, "status": answer.status,
                    "cause": answer.cause ?? answer.message,
                ])
            }
            return answer.response(handler: context.handlerName, requestID: context.request.requestID)
        }
    }
}

import HTTP
import Platform

/// The API as a pool responder: each request goes through the pipeline of `Routes.pipeline`. Nothing a client
/// sends can make it trap: every error becomes an answer in `ErrorResponses`.
final class APIResponder: Responder {
    private let services: Services
    private let pipeline: Pipeline

    init(services: Services, pipeline: Pipeline) {
        self.services = services
        self.pipeline = pipeline
    }

    func respond(to request: HTTPRequest) -> HTTPResponse {
        var context = RequestContext(request: request, services: services, now: WallClock.epochSeconds())
        return pipeline.respond(&context)
    }
}

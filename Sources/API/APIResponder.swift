import HTTP
import Platform

/// The API as a pool responder: each request goes through the pipeline of `Routes.pipeline`. Nothing a client
/// sends can make it trap: every error becomes an answer in `ErrorResponses`. Each request has a deadline: its
/// database commands and its Spotify call are cut to what is left of it, and past it they fail at once (503).
final class APIResponder: Responder {
    private let services: Services
    private let pipeline: Pipeline

    init(services: Services, pipeline: Pipeline) {
        self.services = services
        self.pipeline = pipeline
    }

    func respond(to request: HTTPRequest) -> HTTPResponse {
        let deadline = Deadline(after: services.requestTimeout)
        services.database.limitCommands(until: deadline)
        defer { services.database.limitCommands(until: nil) }
        var context = RequestContext(request: request, services: services, now: WallClock.epochSeconds(),
                                     deadline: deadline)
        return pipeline.respond(&context)
    }
}

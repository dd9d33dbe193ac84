import HTTP
import JSON
import Model
import Store

/// `/wrapped/*`: a user's wrap history and their monthly-wrapped enrolment.
enum WrappedHandlers {
    /// GET /wrapped/data [/wrapped/all]: `{active, activeWrapped, activeReleaseRadar, wraps}` newest first.
    static func all(_ context: RequestContext) throws -> HTTPResponse {
        var input = try Input(query: context.request.query, allowed: ["email"])
        let requested = input.requestedEmail(under: context.identity)
        try input.finish()
        let email = try context.targetEmail(requested)
        let wraps = context.services.wraps
        if context.request.header("if-none-match") != nil {
            let tag = etag(email, try wraps.summary(email))
            if context.clientHasCurrent(tag) { return .notModified(tag) }
        }
        let (summary, wrapsJSON) = try wraps.summaryWithWraps(email)
        let head = Array("{\"active\":\(summary.active),\"activeWrapped\":\(summary.activeWrapped),\"activeReleaseRadar\":\(summary.activeReleaseRadar),\"wraps\":".utf8)
        var body: [UInt8] = []
        body.reserveCapacity(head.count + wrapsJSON.byteCount + 1)
        body.append(contentsOf: head)
        wrapsJSON.append(to: &body)
        body.append(UInt8(ascii: "}"))
        return .okJSON(body, etag: etag(email, summary))
    }

    private static func etag(_ email: Email, _ summary: WrapStore.Summary) -> String {
        ETag.make(["wrapped", email.value, String(summary.active), String(summary.activeWrapped),
                   String(summary.activeReleaseRadar), summary.wrapsRevision.map(String.init) ?? "-"])
    }

    /// GET /wrapped/month: one wrap, or 404.
    static func month(_ context: RequestContext) throws -> HTTPResponse {
        var input = try Input(query: context.request.query, allowed: ["email", "monthKey"])
        let requested = input.requestedEmail(under: context.identity)
        let month = input.monthKey("monthKey")
        try input.finish()
        guard let month else { throw APIError.internalError }
        let email = try context.targetEmail(requested)
        let wraps = context.services.wraps
        guard let revision = try wraps.wrapRevision(email, month: month) else {
            throw APIError.notFound("No wrap for \(month)")
        }
        let tag = ETag.make(["month", email.value, month.description, String(revision)])
        if context.clientHasCurrent(tag) { return .notModified(tag) }
        guard let body = try wraps.wrapJSON(email, month: month) else { throw APIError.notFound("No wrap for \(month)") }
        return .okJSON(body, etag: tag)
    }

    /// GET /wrapped/year: that year's wraps, newest first (maybe none).
    static func year(_ context: RequestContext) throws -> HTTPResponse {
        var input = try Input(query: context.request.query, allowed: ["email", "year"])
        let requested = input.requestedEmail(under: context.identity)
        let year = input.year("year")
        try input.finish()
        guard let year else { throw APIError.internalError }
        let email = try context.targetEmail(requested)
        let wraps = context.services.wraps
        let revisions = try wraps.yearRevisions(email, year: year)
        let tag = ETag.make(["year", email.value, String(year)] + revisions.map(String.init))
        if context.clientHasCurrent(tag) { return .notModified(tag) }
        let yearWraps = try wraps.yearWraps(email, year: year)
        var body: [UInt8] = []
        body.reserveCapacity(yearWraps.byteCount)
        yearWraps.append(to: &body)
        return .okJSON(body, etag: tag)
    }

    /// POST /wrapped/data [/wrapped/update]: opt in or out of the monthly wrapped, storing the token.
    static func optIn(_ context: RequestContext) throws -> HTTPResponse {
        var input = try Input(body: context.request.body,
                              allowed: ["email", "userId", "refreshToken", "active", "releaseRadarId"])
        let requested = input.requestedEmail(under: context.identity)
        var userID = input.string("userId", required: false)
        let refreshToken = input.string("refreshToken", required: true, maxLength: 4096)
        let active = input.bool("active", required: true)
        let releaseRadarID = input.string("releaseRadarId", required: false)
        if userID == nil && !input.has("userId") {
            userID = context.defaultUserID(for: requested)
            if userID == nil { input.markMissing("userId") }
        }
        try input.finish()
        guard let userID, let refreshToken, let active else { throw APIError.internalError }
        let email = try context.targetEmail(requested)
        var enrolment = UserStore.Enrolment(userID: userID, refreshToken: refreshToken)
        enrolment.wrapped = active
        if let releaseRadarID { enrolment.releaseRadarPlaylistID = .set(releaseRadarID) }
        _ = try context.enrol(email, enrolment)
        return .okJSON(JSON.string("User Opted into Monthly Wrapped Success.").serialized(), etag: nil)
    }
}

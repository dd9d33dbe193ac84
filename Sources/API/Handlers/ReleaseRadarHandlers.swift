import HTTP
import JSON
import Model

/// `/release-radar/*`: the weekly release radar history and enrolment check.
enum ReleaseRadarHandlers {
    /// GET /release-radar/history: `{email, weeks, count, currentWeek, currentWeekDisplay}`, newest first.
    static func history(_ context: RequestContext) throws -> HTTPResponse {
        var input = try Input(query: context.request.query, allowed: ["email", "limit"])
        let requested = input.requestedEmail(under: context.identity)
        let limit = input.integer("limit", in: 1...104) ?? 26
        try input.finish()
        let email = try context.targetEmail(requested)
        let current = ReleaseWeek(containing: Timestamp(seconds: context.now).date)
        let weeks = context.services.weeks
        let summary = try weeks.summary(email)
        let tag = ETag.make(["history", email.value, String(limit), current.key,
                             summary.weeksRevision.map(String.init) ?? "-"])
        if context.clientHasCurrent(tag) { return .notModified(tag) }
        let history = summary.hasHistory ? try weeks.history(email, limit: limit) : []
        var writer = JSONWriter(capacity: 4096)
        writer.beginObject()
        writer.key("email"); writer.string(email.value)
        writer.key("weeks")
        writer.beginArray()
        for week in history { week.write(to: &writer) }
        writer.endArray()
        writer.key("count"); writer.int(history.count)
        writer.key("currentWeek"); writer.string(current.key)
        writer.key("currentWeekDisplay"); writer.string(current.display)
        writer.endObject()
        return .okJSON(writer.bytes, etag: tag)
    }

    /// GET /release-radar/check: enrolment, whether any history exists, and the current week.
    static func check(_ context: RequestContext) throws -> HTTPResponse {
        var input = try Input(query: context.request.query, allowed: ["email"])
        let requested = input.requestedEmail(under: context.identity)
        try input.finish()
        let email = try context.targetEmail(requested)
        let current = ReleaseWeek(containing: Timestamp(seconds: context.now).date)
        let summary = try context.services.weeks.summary(email)
        let tag = ETag.make(["check", email.value, current.key, String(summary.enrolled), String(summary.hasHistory)])
        if context.clientHasCurrent(tag) { return .notModified(tag) }
        var writer = JSONWriter(capacity: 256)
        writer.beginObject()
        writer.key("email"); writer.string(email.value)
        writer.key("enrolled"); writer.bool(summary.enrolled)
        writer.key("hasHistory"); writer.bool(summary.hasHistory)
        writer.key("currentWeek"); writer.string(current.key)
        writer.key("currentWeekDisplay"); writer.string(current.display)
        writer.key("weekStartDate"); writer.string(current.start.description)
        writer.key("weekEndDate"); writer.string(current.end.description)
        writer.endObject()
        return .okJSON(writer.bytes, etag: tag)
    }
}

import HTTP
import Model
import Store

/// `/user/*`: the user object and its enrolment.
enum UserHandlers {
    /// GET /user/user-table [/user/data]: the user object, or 404.
    static func get(_ context: RequestContext) throws -> HTTPResponse {
        var input = try Input(query: context.request.query, allowed: ["email"])
        let requested = input.requestedEmail(under: context.identity)
        try input.finish()
        let email = try context.targetEmail(requested)
        let users = context.services.users
        if context.request.header("if-none-match") != nil, let revision = try users.revision(email) {
            let tag = etag(email, revision)
            if context.clientHasCurrent(tag) { return .notModified(tag) }
        }
        guard let user = try users.user(email) else { throw APIError.notFound("No such user") }
        return .okJSON(user.apiJSON(), etag: etag(email, user.revision))
    }

    private static func etag(_ email: Email, _ revision: Int64) -> String {
        ETag.make(["user", email.value, String(revision)])
    }

    /// POST /user/user-table [/user/update]: token fields, enrolment fields, or both, in one statement.
    static func update(_ context: RequestContext) throws -> HTTPResponse {
        var input = try Input(body: context.request.body, allowed: [
            "email", "userId", "refreshToken", "displayName", "avatar",
            "wrappedEnrolled", "releaseRadarEnrolled", "activeWrapped", "activeReleaseRadar",
        ])
        let requested = input.requestedEmail(under: context.identity)
        var userID = input.string("userId", required: false)
        let refreshToken = input.string("refreshToken", required: false, maxLength: 4096)
        let displayName = input.nullableString("displayName", maxLength: 1024)
        let avatar = input.nullableString("avatar", maxLength: 2048)
        // Old iOS builds send activeWrapped / activeReleaseRadar for the same flags.
        let wrapped = flag(&input, "wrappedEnrolled", "activeWrapped")
        let releaseRadar = flag(&input, "releaseRadarEnrolled", "activeReleaseRadar")
        let tokenGroup = input.has("refreshToken") || input.has("userId") || input.has("displayName") || input.has("avatar")
        if tokenGroup {
            if !input.has("refreshToken") { input.markMissing("refreshToken") }
            if userID == nil && !input.has("userId") {
                userID = context.defaultUserID(for: requested)
                if userID == nil { input.markMissing("userId") }
            }
        } else if wrapped == nil && releaseRadar == nil && !input.has("wrappedEnrolled") && !input.has("activeWrapped")
                    && !input.has("releaseRadarEnrolled") && !input.has("activeReleaseRadar") {
            input.markMissing("refreshToken")
            input.markMissing("wrappedEnrolled")
            input.markMissing("releaseRadarEnrolled")
        }
        try input.finish()
        let email = try context.targetEmail(requested)
        let users = context.services.users

        let user: User
        if tokenGroup, let userID, let refreshToken {
            var enrolment = UserStore.Enrolment(userID: userID, refreshToken: refreshToken)
            enrolment.displayName = displayName
            enrolment.avatarURL = avatar
            enrolment.wrapped = wrapped
            enrolment.releaseRadar = releaseRadar
            user = try context.enrol(email, enrolment)
        } else {
            guard let updated = try users.setEnrolment(email, wrapped: wrapped, releaseRadar: releaseRadar) else {
                throw APIError.notFound("No such user; send refreshToken to create it")
            }
            user = updated
        }
        return .okJSON(user.apiJSON(), etag: nil)
    }

    /// A flag that has a new and an old name; both given with different values is invalid.
    private static func flag(_ input: inout Input, _ name: String, _ oldName: String) -> Bool? {
        let new = input.bool(name, required: false)
        let old = input.bool(oldName, required: false)
        if let new, let old, new != old {
            input.markInvalid(oldName)
            return nil
        }
        return new ?? old
    }
}

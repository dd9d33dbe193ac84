import Crypto
import HTTP
import HTTPClient
import JSON
import Log
import Platform
import Synchronization

/// The Spotify Web API client of SPEC §6: every request passes the daily budget and one process-wide gate
/// (rate ceiling, concurrency, pause on 429), 5xx and transport failures are retried with exponential backoff
/// and jitter, and the outcomes that must end a run (quota, budget, bad client) surface as such.
public final class SpotifyClient: Sendable {
    public let configuration: SpotifyConfiguration
    public let counters = RequestCounters()
    private let http: HTTPClient
    private let gate: RequestGate
    private let budget: any RequestBudget
    private let log = Logger("spotify")
    /// Spotify answered QUOTA_EXCEEDED: the app's quota is spent for hours, so nothing more is sent (each later
    /// request fails at once the same way) instead of every request in flight or queued meeting its own 429.
    private let quotaSpent = Atomic<Bool>(false)

    public init(configuration: SpotifyConfiguration, budget: any RequestBudget = UnlimitedBudget()) throws(SpotifyError) {
        self.configuration = configuration
        self.budget = budget
        gate = RequestGate(maxRequestsPerSecond: configuration.maxRequestsPerSecond, concurrency: configuration.concurrency)
        do {
            http = try HTTPClient(maxConnections: max(configuration.concurrency, 2))
        } catch {
            throw .unavailable("cannot start the HTTP client: \(error)")
        }
    }

    /// Stops the client's thread (pending requests fail) and returns unspent budget.
    public func close() async {
        http.shutdown()
        await budget.close()
    }

    // MARK: Accounts

    /// Exchanges a refresh token for an access token (Basic auth with the app's credentials). The caller must
    /// store `rotatedRefreshToken`, when present, before doing anything else.
    public func refreshAccessToken(_ refreshToken: String) async throws(SpotifyError) -> TokenGrant {
        let credentials = Base64.encode(Array("\(configuration.clientID):\(configuration.clientSecret)".utf8))
        let form = "grant_type=refresh_token&refresh_token=\(QueryString.encode(refreshToken))"
        let request = HTTPClientRequest(method: "POST", url: configuration.accountsURL + "/api/token",
                                        headers: [("Authorization", "Basic \(credentials)"),
                                                  ("Content-Type", "application/x-www-form-urlencoded")],
                                        body: Array(form.utf8), timeout: configuration.timeout)
        let response = try await perform(request, label: "POST /api/token", spendsBudget: false) { response throws(SpotifyError) in
            guard response.status == 400 || response.status == 401 else { return }
            let error = (try? JSONParser.parse(response.body))?["error"].stringValue ?? ""
            switch error {
            case "invalid_grant":
                let detail = (try? JSONParser.parse(response.body))?["error_description"].stringValue ?? "invalid_grant"
                throw .invalidGrant(String(detail.prefix(200)))
            case "invalid_client": throw .invalidClient
            default: throw .badRequest("token endpoint answered \(response.status) \(error)")
            }
        }
        guard let json = try? JSONParser.parse(response.body), let accessToken = json["access_token"].stringValue,
              !accessToken.isEmpty else {
            throw .malformedResponse("token response without access_token")
        }
        let rotated = json["refresh_token"].stringValue.flatMap { $0.isEmpty || $0 == refreshToken ? nil : $0 }
        return TokenGrant(accessToken: accessToken, expiresIn: json["expires_in"].intValue ?? 3600, rotatedRefreshToken: rotated)
    }

    // MARK: Web API

    /// Calls `endpoint` with a user's access token; the parsed JSON body (`.null` for an empty one).
    @discardableResult
    public func call(_ endpoint: Endpoint, accessToken: String) async throws(SpotifyError) -> JSON {
        var headers: [(name: String, value: String)] = [("Authorization", "Bearer \(accessToken)")]
        if let type = endpoint.contentType { headers.append(("Content-Type", type)) }
        let request = HTTPClientRequest(method: endpoint.method, url: configuration.apiURL + endpoint.path, headers: headers,
                                        body: endpoint.body, timeout: configuration.timeout)
        let response = try await perform(request, label: endpoint.label, spendsBudget: true) { response throws(SpotifyError) in
            let message = SpotifyClient.errorMessage(response.body)
            switch response.status {
            case 400: throw .badRequest(message)
            case 401: throw .unauthorized
            case 403: throw .forbidden(message)
            case 404: throw .notFound(endpoint.label)
            default: return
            }
        }
        if response.body.isEmpty { return .null }
        do {
            return try JSONParser.parse(response.body)
        } catch {
            throw .malformedResponse("\(endpoint.label): \(error)")
        }
    }

    /// One logical request with its retries. `classify` turns client-error statuses into typed errors.
    private func perform(_ request: HTTPClientRequest, label: String, spendsBudget: Bool,
                         classify: (HTTPClientResponse) throws(SpotifyError) -> Void) async throws(SpotifyError) -> HTTPClientResponse {
        var failures = 0
        var rateLimited = 0
        while true {
            if quotaSpent.load(ordering: .relaxed) { throw .quotaExceeded("QUOTA_EXCEEDED") }
            if spendsBudget { try await budget.spend() }
            await gate.enter()
            if quotaSpent.load(ordering: .relaxed) {
                await gate.leave()
                throw .quotaExceeded("QUOTA_EXCEEDED")
            }
            let result: Result<HTTPClientResponse, HTTPClientError>
            do {
                result = .success(try await http.send(request))
            } catch {
                result = .failure(error)
            }
            await gate.leave()
            counters.count(label)

            switch result {
            case .failure(let error):
                failures += 1
                guard failures < configuration.maxAttempts else {
                    throw .unavailable("\(label): \(error) after \(failures) attempts")
                }
                log.debug("retrying after a transport failure", ["endpoint": label, "error": error.description])
                try await backoff(failures)
            case .success(let response):
                switch response.status {
                case 200..<300:
                    return response
                case 429:
                    counters.countRateLimited()
                    rateLimited += 1
                    let reason = SpotifyClient.errorReason(response.body)
                    if reason == "QUOTA_EXCEEDED" {
                        quotaSpent.store(true, ordering: .relaxed)
                        throw .quotaExceeded("QUOTA_EXCEEDED")
                    }
                    let wait = RetryAfter.seconds(response.header("retry-after"), now: WallClock.epochSeconds()) ?? 1
                    if wait > configuration.longestWait { throw .rateLimited(retryAfter: wait) }
                    guard rateLimited <= 50 else { throw .unavailable("\(label): still rate limited after 50 waits") }
                    log.info("rate limited; pausing all requests", ["endpoint": label, "retry_after_s": wait])
                    await gate.pause(seconds: max(wait, 0.1))
                case 500...599:
                    failures += 1
                    guard failures < configuration.maxAttempts else {
                        throw .unavailable("\(label): HTTP \(response.status) after \(failures) attempts")
                    }
                    try await backoff(failures)
                default:
                    try classify(response)
                    throw .unavailable("\(label): unexpected HTTP \(response.status)")
                }
            }
        }
    }

    /// Exponential backoff with full jitter: 0.5 s, 1 s, 2 s … (capped at 8 s), each scaled by a random 50–100 %.
    private func backoff(_ failures: Int) async throws(SpotifyError) {
        let base = min(0.5 * Double(1 << min(failures - 1, 4)), 8)
        let delay = base * Double.random(in: 0.5...1.0)
        try? await Task.sleep(nanoseconds: UInt64(delay * 1e9))
    }

    static func errorMessage(_ body: [UInt8]) -> String {
        guard let json = try? JSONParser.parse(body) else { return "" }
        return String((json["error"]["message"].stringValue ?? json["error_description"].stringValue ?? json["error"].stringValue ?? "").prefix(200))
    }

    static func errorReason(_ body: [UInt8]) -> String? {
        guard let json = try? JSONParser.parse(body) else { return nil }
        return json["error"]["reason"].stringValue ?? json["reason"].stringValue
    }

}

/// The daily request budget shared by every runner (SPEC §6, §11). Each request spends one unit before it is
/// sent; an exhausted budget throws `.budgetExhausted`, which stops the run cleanly.
public protocol RequestBudget: Sendable {
    func spend() async throws(SpotifyError)
    /// Gives back units reserved but not spent (at the end of a run).
    func close() async
}

/// No budget (the API's login calls, tests).
public struct UnlimitedBudget: RequestBudget {
    public init() {}
    public func spend() async throws(SpotifyError) {}
    public func close() async {}
}

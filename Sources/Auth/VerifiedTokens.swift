/// A responder thread's memory of tokens it has verified. Clients send the same token on every request, so
/// the signature and the JSON need checking once; the times (`exp`, `nbf`) are checked again on every use.
/// Per thread, so no lock; bounded, and emptied when full.
public struct VerifiedTokens {
    private var claims: [String: JWTClaims] = [:]
    private let capacity: Int

    public init(capacity: Int = 1024) {
        self.capacity = capacity
    }

    /// The claims of `token`, verified now or earlier, and valid at `now`.
    public mutating func claims(of token: String, jwt: JWT, now: Int64) throws(JWTError) -> JWTClaims {
        if let known = claims[token] {
            try jwt.checkTimes(known, now: now)
            return known
        }
        let verified = try jwt.verify(token, now: now)
        if claims.count >= capacity { claims.removeAll(keepingCapacity: true) }
        claims[token] = verified
        return verified
    }
}

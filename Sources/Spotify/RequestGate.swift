import Platform

/// The one gate every Spotify request of a process passes (all users, all tasks): at most `concurrency` in
/// flight, starts spaced to stay under the rate ceiling, and a pause for everyone after a 429.
actor RequestGate {
    private let interval: Double
    private let concurrency: Int
    private var nextStart = 0.0
    private var pausedUntil = 0.0
    private var inFlight = 0
    private var waiters: [CheckedContinuation<Void, Never>] = []

    init(maxRequestsPerSecond: Double, concurrency: Int) {
        // A 2 % margin keeps network jitter from pushing a window over the ceiling.
        interval = maxRequestsPerSecond > 0 ? 1.02 / maxRequestsPerSecond : 0
        self.concurrency = max(concurrency, 1)
    }

    /// Waits for a slot; every `enter` is followed by one `leave`.
    func enter() async {
        while inFlight >= concurrency {
            await withCheckedContinuation { waiters.append($0) }
        }
        inFlight += 1
        while true {
            let now = Monotonic.seconds()
            let start = max(now, nextStart, pausedUntil)
            if start <= now {
                nextStart = now + interval
                return
            }
            // Claim the slot before sleeping so that concurrent callers queue behind it.
            nextStart = start + interval
            try? await Task.sleep(nanoseconds: UInt64((start - now) * 1e9))
            if Monotonic.seconds() >= pausedUntil { return }
        }
    }

    func leave() {
        inFlight -= 1
        if !waiters.isEmpty { waiters.removeFirst().resume() }
    }

    /// Holds every request back for `seconds` (a 429's Retry-After).
    func pause(seconds: Double) {
        pausedUntil = max(pausedUntil, Monotonic.seconds() + seconds)
    }
}

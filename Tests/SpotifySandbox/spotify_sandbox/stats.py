"""The request log: counts per route, per status and of the special outcomes."""

from collections import Counter

from .limits import PeakWindowCounter


class RequestStats:
    """Not thread-safe on its own: the caller holds the state lock."""

    def __init__(self):
        self.reset()

    def reset(self):
        self.total = 0
        self.by_route = Counter()
        self.by_status = Counter()
        self.status_429 = 0
        self.quota_exceeded = 0
        self.faults = 0
        self.dropped = 0
        self.gone = 0
        self.received_v1 = PeakWindowCounter()
        # Requests being handled at once (a client that sends many in parallel shows here).
        self.in_flight = 0
        self.max_in_flight = 0

    def received(self, route_key, is_web_api, now):
        self.total += 1
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        self.by_route[route_key] += 1
        if is_web_api:
            self.received_v1.record(now)

    def answered(self, status):
        self.in_flight = max(0, self.in_flight - 1)
        self.by_status[str(status)] += 1
        if status == 429:
            self.status_429 += 1

    def drop_after(self, now):
        self.received_v1.drop_after(now)

    def snapshot(self):
        return {
            "total": self.total,
            "byRoute": dict(sorted(self.by_route.items())),
            "byStatus": dict(sorted(self.by_status.items())),
            "status429": self.status_429,
            "quotaExceeded": self.quota_exceeded,
            "faults": self.faults,
            "dropped": self.dropped,
            "maxIn30s": self.received_v1.peak,
            "gone": self.gone,
            "maxInFlight": self.max_in_flight,
        }

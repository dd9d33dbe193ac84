"""Spotify's limits: a rolling 30-second rate limit and a rolling 24-hour request quota.

Both count accepted /v1 requests on the sandbox clock; a rejected request consumes nothing.
Not thread-safe on their own: the caller holds the state lock.
"""

import math
from collections import deque

RATE_WINDOW_SECONDS = 30.0
QUOTA_WINDOW_SECONDS = 86400.0


def retry_after_seconds(seconds):
    return max(1, math.ceil(seconds - 1e-9))


class RollingRateLimit:
    """At most ``limit`` accepted requests in any rolling 30 s window (0 = no limit)."""

    def __init__(self, limit=0):
        self.limit = limit
        self._accepted = deque()  # exact sandbox times of accepted requests, last 30 s

    def _prune(self, now):
        horizon = now - RATE_WINDOW_SECONDS
        accepted = self._accepted
        while accepted and accepted[0] <= horizon:
            accepted.popleft()

    def check(self, now):
        """None when the request may pass, else the Retry-After in whole seconds."""
        self._prune(now)
        if self.limit <= 0 or len(self._accepted) < self.limit:
            return None
        # Enough of the oldest entries must leave the window for one more request to fit.
        oldest_to_leave = self._accepted[len(self._accepted) - self.limit]
        return retry_after_seconds(oldest_to_leave + RATE_WINDOW_SECONDS - now)

    def record(self, now):
        self._accepted.append(now)

    def drop_after(self, now):
        """The clock went back: forget requests that now lie in the future."""
        while self._accepted and self._accepted[-1] > now:
            self._accepted.pop()

    def clear(self):
        self._accepted.clear()


class DailyQuota:
    """At most ``limit`` accepted requests in any rolling 24 h (0 = no quota).

    Counted in one-second buckets so a long benchmark does not keep millions of timestamps.
    """

    def __init__(self, limit=0):
        self.limit = limit
        self._buckets = deque()  # [second, count], oldest first
        self._count = 0

    def _prune(self, now):
        horizon = now - QUOTA_WINDOW_SECONDS
        buckets = self._buckets
        while buckets and buckets[0][0] + 1 <= horizon:
            self._count -= buckets.popleft()[1]

    def used(self, now):
        self._prune(now)
        return self._count

    def check(self, now):
        """None when the request may pass, else the Retry-After in whole seconds."""
        self._prune(now)
        if self.limit <= 0 or self._count < self.limit:
            return None
        remaining = self._count
        for second, count in self._buckets:
            remaining -= count
            if remaining < self.limit:
                return retry_after_seconds(second + 1 + QUOTA_WINDOW_SECONDS - now)
        return 1

    def record(self, now):
        second = math.floor(now)
        if self._buckets and self._buckets[-1][0] == second:
            self._buckets[-1][1] += 1
        else:
            self._buckets.append([second, 1])
        self._count += 1

    def drop_after(self, now):
        while self._buckets and self._buckets[-1][0] > now:
            self._count -= self._buckets.pop()[1]

    def clear(self):
        self._buckets.clear()
        self._count = 0


class PeakWindowCounter:
    """The largest number of events seen in any rolling 30 s window (for ``maxIn30s``)."""

    def __init__(self):
        self._events = deque()
        self.peak = 0

    def record(self, now):
        events = self._events
        events.append(now)
        horizon = now - RATE_WINDOW_SECONDS
        while events and events[0] <= horizon:
            events.popleft()
        if len(events) > self.peak:
            self.peak = len(events)

    def drop_after(self, now):
        while self._events and self._events[-1] > now:
            self._events.pop()

    def clear(self):
        self._events.clear()
        self.peak = 0

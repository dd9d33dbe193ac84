"""The request log: counts per route, per status and of the special outcomes."""

from collections import Counter

from .catalogue import GROUP_ORDER
from .limits import PeakWindowCounter

ARTIST_ALBUMS_ROUTE = "GET /v1/artists/{id}/albums"
NO_INCLUDE_GROUPS = "(absent)"
BAD_INCLUDE_GROUPS = "(invalid)"


def include_groups_key(values):
    """The ``byIncludeGroups`` key of an artist-albums request, from its ``include_groups`` values.

    Valid groups are listed once each in Spotify's group order (``single,album`` counts as
    ``album,single``: the answer is the same); no parameter or an empty one is ``(absent)``
    (Spotify then answers every group); anything else is ``(invalid)`` (the answer is a 400).
    """
    raw = values[0] if values else ""
    if not raw.strip():
        return NO_INCLUDE_GROUPS
    wanted = {g.strip().lower() for g in raw.split(",") if g.strip()}
    if not wanted or not wanted <= set(GROUP_ORDER):
        return BAD_INCLUDE_GROUPS
    return ",".join(g for g in GROUP_ORDER if g in wanted)


class RequestStats:
    """Not thread-safe on its own: the caller holds the state lock."""

    def __init__(self):
        self.reset()

    def reset(self):
        self.total = 0
        self.by_route = Counter()
        self.by_include_groups = Counter()  # artist-albums requests by include_groups
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

    def received(self, route_key, is_web_api, now, include_groups=None):
        self.total += 1
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        self.by_route[route_key] += 1
        if include_groups is not None:
            self.by_include_groups[include_groups] += 1
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
            "byIncludeGroups": dict(sorted(self.by_include_groups.items())),
            "byStatus": dict(sorted(self.by_status.items())),
            "status429": self.status_429,
            "quotaExceeded": self.quota_exceeded,
            "faults": self.faults,
            "dropped": self.dropped,
            "maxIn30s": self.received_v1.peak,
            "gone": self.gone,
            "maxInFlight": self.max_in_flight,
        }

"""The sandbox clock: a settable "now" that then advances with real time."""

import threading
import time
from datetime import date, datetime, timezone


def parse_iso8601(text):
    """Parse an ISO-8601 date or date-time; naive values are taken as UTC."""
    if not isinstance(text, str) or not text.strip():
        raise ValueError("expected an ISO-8601 date-time string")
    value = text.strip()
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        parsed = datetime.combine(date.fromisoformat(value), datetime.min.time())
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.astimezone(timezone.utc)


def format_iso8601(moment):
    return moment.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


class SandboxClock:
    """Sandbox time = the configured instant plus real (monotonic) time elapsed since it was set."""

    def __init__(self, start=None):
        self._lock = threading.Lock()
        self._base = (start or datetime.now(timezone.utc)).timestamp()
        self._anchor = time.monotonic()

    def set(self, moment):
        with self._lock:
            self._base = moment.timestamp()
            self._anchor = time.monotonic()

    def now_epoch(self):
        with self._lock:
            return self._base + (time.monotonic() - self._anchor)

    def now(self):
        return datetime.fromtimestamp(self.now_epoch(), tz=timezone.utc)

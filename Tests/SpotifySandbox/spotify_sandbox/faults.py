"""Injected faults: added latency, random 5xx answers and dropped connections (seeded)."""

import random

ERROR_STATUSES = (500, 502, 503)


class FaultInjector:
    """Not thread-safe on its own: the caller holds the state lock."""

    def __init__(self, seed):
        self.seed = seed
        self.reset()

    def reset(self):
        self.rng = random.Random(f"faults:{self.seed}")
        self.latency_ms = 0.0
        # Delay after the request took effect and before the answer goes out: a slow or lost response.
        self.answer_delay_ms = 0.0
        self.error_rate = 0.0
        self.drop_rate = 0.0

    def draw(self):
        """None, ("drop", None) or ("error", status) for the next request."""
        if self.error_rate <= 0 and self.drop_rate <= 0:
            return None
        roll = self.rng.random()
        if roll < self.error_rate:
            return "error", self.rng.choice(ERROR_STATUSES)
        if roll < self.error_rate + self.drop_rate:
            return "drop", None
        return None

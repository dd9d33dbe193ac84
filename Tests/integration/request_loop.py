"""Concurrent request loops that record every outcome, for tests that disturb the pool under load."""

import threading
import time

from api_client import Api


class RequestLoop:
    def __init__(self, port, path="/ping", threads=4, token=None):
        self.port = port
        self.path = path
        self.threads = threads
        self.token = token
        self.results = []  # (status or exception name, seconds)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._workers = []

    def _run(self):
        api = Api(self.port, token=self.token, timeout=20)
        while not self._stop.is_set():
            started = time.monotonic()
            try:
                outcome = api.get(self.path).status
            except Exception as error:  # noqa: BLE001 - every failure is recorded
                outcome = type(error).__name__
                api.reset()
            with self._lock:
                self.results.append((outcome, time.monotonic() - started))

    def __enter__(self):
        for _ in range(self.threads):
            worker = threading.Thread(target=self._run, daemon=True)
            worker.start()
            self._workers.append(worker)
        return self

    def __exit__(self, *exc):
        self._stop.set()
        for worker in self._workers:
            worker.join(30)

    @property
    def failures(self):
        return [r for r in self.results if r[0] != 200]

    def wait_for(self, count, timeout=60):
        """Waits until `count` requests have finished. Fails when they have not within `timeout` seconds (a
        liveness bound: a few hundred requests take a second or two even on a loaded machine), so that a test
        never goes on to judge fewer requests than it meant to."""
        deadline = time.monotonic() + timeout
        while len(self.results) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"only {len(self.results)} of {count} requests finished within {timeout} s")
            time.sleep(0.01)

"""What a route handler gets: one parsed HTTP request plus the sandbox it runs in."""

import json
from dataclasses import dataclass, field

from .errors import ApiError


@dataclass
class SandboxRequest:
    method: str
    path: str
    query: dict  # name -> list of values
    headers: object  # email.message.Message (case-insensitive)
    body: bytes
    base: str  # e.g. "http://127.0.0.1:8080", for links in answers
    state: object
    shapes: object
    path_params: dict = field(default_factory=dict)
    user: object = None

    def arg(self, name, default=None):
        values = self.query.get(name)
        return values[0] if values else default

    def has_arg(self, name):
        return name in self.query

    def json_body(self, required=True):
        """The body as JSON (Spotify's 400 "Error parsing JSON." when it is not)."""
        if not self.body.strip():
            if required:
                raise ApiError(400, "Error parsing JSON.")
            return None
        try:
            return json.loads(self.body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise ApiError(400, "Error parsing JSON.") from None

    def int_arg(self, name, default, low, high, message):
        raw = self.arg(name)
        if raw is None:
            return default
        try:
            value = int(raw.strip())
        except ValueError:
            raise ApiError(400, message) from None
        if value < low or (high is not None and value > high):
            raise ApiError(400, message)
        return value

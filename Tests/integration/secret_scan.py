"""Records what the tests send and receive, to check at the end that no secret leaked (SPEC §3, §5.3): no
response body contains a refresh token (or a Spotify access token a client posted), the JWT secret or the
refresh-token key, and no log line contains any of them, nor a bearer token a client sent, nor a line the logger
had to redact (call sites must never try to log a secret). Bodies received outside api_client (raw HTTPS, raw
FastCGI, the fuzzer) are added with `add_body`."""

import json
import threading

# Shorter values would match by accident (tests also send refresh tokens like "x" to check validation).
MINIMUM_SECRET_LENGTH = 12


class SecretScan:
    def __init__(self):
        self._lock = threading.Lock()
        self.refresh_tokens = set()  # and Spotify access tokens posted to /auth/login
        self.bearer_tokens = set()
        self.jwt_secrets = set()
        self.token_keys = set()  # the refresh-token key lines (base64), as the key file holds them
        self.bodies = set()
        self.exchanges = 0

    # -- recording ---------------------------------------------------------------------------------

    def observe(self, method, path, headers, data, response):
        """An api_client observer: remembers the refresh tokens and bearer tokens sent and the body received."""
        tokens = set()
        if data:
            try:
                document = json.loads(data)
            except (ValueError, RecursionError):
                document = None
            if isinstance(document, dict):
                for name in ("refreshToken", "spotifyAccessToken"):
                    value = document.get(name)
                    if isinstance(value, str) and len(value) >= MINIMUM_SECRET_LENGTH:
                        tokens.add(value)
        bearer = None
        authorization = (headers or {}).get("Authorization")
        if isinstance(authorization, str):
            bearer = authorization[7:] if authorization.lower().startswith("bearer ") else authorization
        with self._lock:
            self.exchanges += 1
            self.refresh_tokens |= tokens
            if bearer and len(bearer) >= 20:
                self.bearer_tokens.add(bearer)
            if response.body:
                self.bodies.add(bytes(response.body))

    def add_body(self, body):
        """A response body received outside api_client."""
        if body:
            with self._lock:
                self.exchanges += 1
                self.bodies.add(bytes(body))

    def add_bearer_token(self, token):
        if token and len(token) >= 20:
            with self._lock:
                self.bearer_tokens.add(token)

    def add_refresh_tokens(self, tokens):
        with self._lock:
            self.refresh_tokens |= {t for t in tokens if t and len(t) >= MINIMUM_SECRET_LENGTH}

    def add_rig(self, rig):
        """Registers a rig's JWT secret and, when it has a sandbox, the sandbox users' refresh tokens."""
        with self._lock:
            if rig.jwt_secret:
                self.jwt_secrets.add(rig.jwt_secret)
            key_file = getattr(rig, "token_key_file", None)
            if key_file:
                try:
                    for line in open(key_file):
                        line = line.strip().rpartition(":")[2]
                        if len(line) >= MINIMUM_SECRET_LENGTH and not line.startswith("#"):
                            self.token_keys.add(line)
                except OSError:
                    pass
        if rig.sandbox and rig.sandbox.process:
            try:
                users = rig.sandbox.get("/_sandbox/users")["users"]
            except Exception:  # noqa: BLE001 - a stopped sandbox has nothing more to tell
                return
            self.add_refresh_tokens(u["refreshToken"] for u in users)

    # -- checking ----------------------------------------------------------------------------------

    def leaks_in_bodies(self):
        """(kind, secret prefix) for each secret found in a response body."""
        with self._lock:
            bodies = b"\n".join(self.bodies)
            secrets = ([("refresh token", t) for t in self.refresh_tokens] + [("JWT secret", s) for s in self.jwt_secrets]
                       + [("token key", k) for k in self.token_keys])
        return [(kind, secret[:8] + "…") for kind, secret in secrets if secret.encode() in bodies]

    def leaks_in_logs(self, text):
        """(kind, secret prefix) for each secret, bearer token or redaction found in log text."""
        with self._lock:
            secrets = ([("refresh token", t) for t in self.refresh_tokens]
                       + [("JWT secret", s) for s in self.jwt_secrets]
                       + [("token key", k) for k in self.token_keys]
                       + [("bearer token", t) for t in self.bearer_tokens])
        found = [(kind, secret[:8] + "…") for kind, secret in secrets if secret in text]
        if "[redacted]" in text:
            found.append(("a redacted log line", "[redacted]"))
        return found


SCAN = SecretScan()

"""A small HTTPS client for the tests: exact control over method, headers and raw bodies, TLS without
certificate checks (the rig's certificate is self-signed), one keep-alive connection per thread."""

import http.client
import json
import ssl
import threading

_context = ssl._create_unverified_context()

# Callables `observer(method, path, headers, data, response)` told of every exchange (conftest records them
# to scan every response body for secrets at the end of the session).
observers = []


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def json(self):
        return json.loads(self.body)

    def header(self, name):
        return self.headers.get(name.lower())

    def __repr__(self):
        return f"<Response {self.status} {self.body[:200]!r}>"


class Api:
    def __init__(self, port, token=None, timeout=30):
        self.port = port
        self.token = token
        self.timeout = timeout
        self._local = threading.local()

    def _connection(self):
        connection = getattr(self._local, "connection", None)
        if connection is None:
            connection = http.client.HTTPSConnection("127.0.0.1", self.port, timeout=self.timeout, context=_context)
            self._local.connection = connection
        return connection

    def reset(self):
        connection = getattr(self._local, "connection", None)
        if connection is not None:
            connection.close()
        self._local.connection = None

    def request(self, method, path, body=None, headers=None, token="default", raw=None,
                content_type="application/json"):
        """`body` is sent as JSON; `raw` as given (bytes). `token=None` sends no Authorization."""
        headers = dict(headers or {})
        if token == "default":
            token = self.token
        if token is not None and "Authorization" not in headers:
            headers["Authorization"] = f"Bearer {token}"
        data = raw
        if body is not None:
            data = json.dumps(body).encode()
        if data is not None and content_type and "Content-Type" not in headers:
            headers["Content-Type"] = content_type
        for attempt in range(2):
            connection = self._connection()
            try:
                connection.request(method, path, body=data, headers=headers)
                response = connection.getresponse()
                payload = response.read()
                result = Response(response.status, {k.lower(): v for k, v in response.getheaders()}, payload)
                for observe in observers:
                    observe(method, path, headers, data, result)
                if response.getheader("connection", "").lower() == "close":
                    self.reset()
                return result
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError,
                    http.client.CannotSendRequest, http.client.ResponseNotReady):
                self.reset()
                if attempt == 1:
                    raise
        raise AssertionError("unreachable")

    def get(self, path, **kwargs):
        return self.request("GET", path, **kwargs)

    def post(self, path, body=None, **kwargs):
        return self.request("POST", path, body=body, **kwargs)

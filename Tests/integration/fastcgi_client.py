"""A raw FastCGI client (the record layout of the FastCGI 1.0 specification) for talking to the pool's socket
without nginx: whole requests as nginx sends them, kept connections, and the stalled, broken or hostile records
nginx would never send (the reliability probes and test_fastcgi.py)."""

import os
import socket
import struct
import time

FCGI_VERSION_1 = 1
BEGIN_REQUEST, ABORT_REQUEST, END_REQUEST, PARAMS, STDIN, STDOUT, STDERR, DATA, GET_VALUES, GET_VALUES_RESULT, \
    UNKNOWN_TYPE = range(1, 12)
RESPONDER, AUTHORIZER, FILTER = 1, 2, 3
KEEP_CONN = 1


def record(kind, request_id, content=b"", version=FCGI_VERSION_1, padding=0, length=None):
    """One FastCGI record; `length` (when given) is written in the header whatever the content's real length."""
    length = len(content) if length is None else length
    return struct.pack(">BBHHBx", version, kind, request_id & 0xFFFF, length & 0xFFFF, padding) + content + b"\0" * padding


def nv_length(n):
    return bytes([n]) if n < 128 else struct.pack(">I", (n | 0x80000000) & 0xFFFFFFFF)


def pair(name, value):
    name = name.encode() if isinstance(name, str) else name
    value = value.encode() if isinstance(value, str) else value
    return nv_length(len(name)) + nv_length(len(value)) + name + value


def stream(kind, request_id, data, chunk=65535, close=True):
    """`data` as records of `kind` (at most `chunk` bytes each), then the empty record that ends the stream."""
    out = b"".join(record(kind, request_id, data[i:i + chunk]) for i in range(0, len(data), chunk))
    return out + (record(kind, request_id) if close else b"")


def begin(request_id=1, role=RESPONDER, flags=0):
    return record(BEGIN_REQUEST, request_id, struct.pack(">HB5x", role, flags))


def cgi_params(method="GET", path="/ping", query="", body=b"", content_type=None, extra=()):
    """The parameters nginx sends (nginx/xomify-fastcgi.conf), for a request the pool can route."""
    uri = path + ("?" + query if query else "")
    params = [("QUERY_STRING", query), ("REQUEST_METHOD", method),
              ("CONTENT_TYPE", content_type if content_type is not None else ("application/json" if body else "")),
              ("CONTENT_LENGTH", str(len(body)) if body else ""), ("SCRIPT_NAME", path), ("REQUEST_URI", uri),
              ("DOCUMENT_URI", path), ("SERVER_PROTOCOL", "HTTP/1.1"), ("REQUEST_SCHEME", "https"), ("HTTPS", "on"),
              ("GATEWAY_INTERFACE", "CGI/1.1"), ("REMOTE_ADDR", "127.0.0.1"), ("SERVER_NAME", "localhost"),
              ("REQUEST_ID", os.urandom(16).hex())]
    return params + list(extra)


def request(request_id=1, flags=0, method="GET", path="/ping", query="", body=b"", params=None, role=RESPONDER,
            extra=()):
    """A whole well-formed FastCGI request."""
    params = params if params is not None else cgi_params(method, path, query, body, extra=extra)
    encoded = b"".join(pair(n, v) for n, v in params)
    return begin(request_id, role, flags) + stream(PARAMS, request_id, encoded) + stream(STDIN, request_id, body)


class FastCGIAnswer:
    def __init__(self):
        self.records = []
        self.stdout = {}
        self.stderr = {}
        self.ended = {}  # request id -> (app status, protocol status)
        self.closed = False  # the pool closed the connection
        self.timed_out = False
        self.error = None
        self.seconds = 0.0

    def http(self, request_id=1):
        """(status, headers, body) of the CGI answer of `request_id`."""
        data = self.stdout.get(request_id, b"")
        head, _, body = data.partition(b"\r\n\r\n")
        status = 200
        headers = {}
        for line in head.decode("latin-1").split("\r\n"):
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
            if name.strip().lower() == "status":
                status = int(value.split()[0])
        return (status if data else None), headers, body

    def __repr__(self):
        parts = [f"records={[(t, r) for t, r, _ in self.records][:8]}"]
        for rid in sorted(self.ended):
            status, _, body = self.http(rid)
            parts.append(f"request {rid}: {status} {body[:60]!r} end={self.ended[rid]}")
        parts.append("closed by the pool" if self.closed else "timed out" if self.timed_out else
                     f"error {self.error}" if self.error else "open")
        return "<" + "; ".join(parts) + f"; {self.seconds:.2f}s>"


def read_answer(sock, until_ended=(1,), timeout=3.0, until_count=None):
    """Reads records until every request of `until_ended` has its END_REQUEST (or `until_count` END_REQUEST records
    came), the pool closes the connection, or `timeout` seconds pass."""
    answer = FastCGIAnswer()
    started = time.monotonic()
    buffer = b""
    deadline = started + timeout
    while True:
        while len(buffer) >= 8:
            version, kind, rid, length, padding = struct.unpack(">BBHHBx", buffer[:8])
            if len(buffer) < 8 + length + padding:
                break
            content = buffer[8:8 + length]
            buffer = buffer[8 + length + padding:]
            answer.records.append((kind, rid, content))
            if kind == STDOUT:
                answer.stdout[rid] = answer.stdout.get(rid, b"") + content
            elif kind == STDERR:
                answer.stderr[rid] = answer.stderr.get(rid, b"") + content
            elif kind == END_REQUEST and len(content) >= 5:
                answer.ended[rid] = struct.unpack(">IB", content[:5])
        if until_count is not None:
            if sum(1 for kind, _, _ in answer.records if kind == END_REQUEST) >= until_count:
                break
        elif until_ended and all(rid in answer.ended for rid in until_ended):
            break
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            answer.timed_out = True
            break
        sock.settimeout(remaining)
        try:
            chunk = sock.recv(65536)
        except (socket.timeout, TimeoutError):
            answer.timed_out = True
            break
        except OSError as error:
            answer.error = type(error).__name__
            answer.closed = True
            break
        if not chunk:
            answer.closed = True
            break
        buffer += chunk
    answer.seconds = time.monotonic() - started
    return answer


def wait_closed(sock, timeout):
    """Seconds until the peer closed `sock` (reading and discarding whatever it sends), or None."""
    started = time.monotonic()
    deadline = started + timeout
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return None
        sock.settimeout(remaining)
        try:
            chunk = sock.recv(65536)
        except (socket.timeout, TimeoutError):
            return None
        except OSError:
            return time.monotonic() - started
        if not chunk:
            return time.monotonic() - started


def connect(path, timeout=5.0):
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    sock.connect(path)
    return sock

"""The HTTP server: keep-alive HTTP/1.1, one thread per connection, one pipeline per request.

Pipeline for everything but /_sandbox: log it -> (latency) -> quota and rate limit (/v1 only) ->
injected fault (/v1 and /api/token) -> route -> Bearer auth (/v1) -> handler -> answer.
"""

import json
import socket
import socketserver
import sys
import threading
import time
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from . import routes
from .context import SandboxRequest
from .control import Control
from .errors import ApiError, ControlError, OAuthError
from .shapes import SpotifyShapes
from .stats import ARTIST_ALBUMS_ROUTE, include_groups_key

MAX_BODY_BYTES = 8 * 1024 * 1024
JSON_TYPE = "application/json; charset=utf-8"
FAULT_MESSAGES = {500: "Server error.", 502: "Bad gateway.", 503: "Service unavailable"}


class BodyTooLarge(Exception):
    pass


class SandboxHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    request_queue_size = 1024

    def __init__(self, address, state, verbose=False):
        self.state = state
        self.verbose = verbose
        self.control = Control(state)
        self.control_routes = {(m, p): h for m, p, h in self.control.routes()}
        self.control_paths = {p for _, p, _ in self.control.routes()}
        self._shapes = {}
        self._shapes_lock = threading.Lock()
        super().__init__(address, SandboxRequestHandler)

    def handle_error(self, request, client_address):
        """Clients vanishing mid-connection are normal (load tools, killed jobs): stay quiet about them."""
        error = sys.exc_info()[1]
        if isinstance(error, (ConnectionError, TimeoutError)):
            return
        super().handle_error(request, client_address)

    def server_bind(self):
        # Skip HTTPServer.server_bind's reverse DNS lookup (getfqdn), which can stall offline.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = host
        self.server_port = port

    def shapes_for(self, base):
        shapes = self._shapes.get(base)
        if shapes is None:
            shapes = SpotifyShapes(self.state.catalogue, base)
            with self._shapes_lock:
                if len(self._shapes) < 16:  # the Host header is client-chosen: bound the cache
                    shapes = self._shapes.setdefault(base, shapes)
        return shapes

    def default_base(self):
        host, port = self.server_address[:2]
        if host in ("0.0.0.0", "::", ""):
            host = "127.0.0.1"
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{port}"


class SandboxRequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "SpotifySandbox/1.0"
    sys_version = ""
    disable_nagle_algorithm = True
    timeout = 120  # idle keep-alive connections are closed after this long

    # --------------------------------------------------------------- plumbing
    def log_message(self, fmt, *args):
        if self.server.verbose:
            sys.stderr.write("sandbox: %s - %s\n" % (self.address_string(), fmt % args))

    def log_request(self, code="-", size="-"):
        if self.server.verbose:
            self.log_message('"%s" %s %s', self.requestline, str(code), str(size))

    def send_error(self, code, message=None, explain=None):
        """Protocol-level errors (bad request line, unsupported method...) as JSON."""
        self.close_connection = True
        body = json.dumps({"error": {"status": code, "message": message or self.responses.get(code, ("",))[0]}})
        self._write(code, body.encode(), JSON_TYPE, {})

    def _write(self, status, body, content_type, headers):
        reason = self.responses.get(status, ("",))[0]
        lines = [
            f"HTTP/1.1 {status} {reason}",
            f"Date: {self.date_time_string()}",
            f"Server: {self.server_version}",
            f"Content-Length: {len(body)}",
        ]
        if body or content_type:
            lines.append(f"Content-Type: {content_type}")
        for name, value in headers.items():
            lines.append(f"{name}: {value}")
        if self.close_connection:
            lines.append("Connection: close")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        try:
            self.wfile.write(head + body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        self.log_request(status, len(body))

    def _send_json(self, status, payload, headers=None):
        if payload is None:
            self._write(status, b"", "", headers or {})
            return
        body = payload if isinstance(payload, bytes) else json.dumps(payload, separators=(",", ":")).encode()
        self._write(status, body, JSON_TYPE, headers or {})

    def _read_body(self):
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks, total = [], 0
            while True:
                size_line = self.rfile.readline(1024)
                if not size_line:
                    raise ConnectionError("connection closed inside a chunked body")
                size = int(size_line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return b"".join(chunks)
                total += size
                if total > MAX_BODY_BYTES:
                    raise BodyTooLarge()
                chunks.append(self.rfile.read(size))
                self.rfile.readline(1024)
        length = self.headers.get("Content-Length")
        if not length:
            return b""
        length = int(length)
        if length < 0:
            raise ValueError("negative Content-Length")
        if length > MAX_BODY_BYTES:
            raise BodyTooLarge()
        return self.rfile.read(length)

    # ------------------------------------------------------------ dispatching
    def do_GET(self):
        self._dispatch()

    do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_GET

    def do_HEAD(self):
        # No endpoint supports HEAD; answer without a body so the connection stays usable.
        self._write(405, b"", "", {"Allow": "GET"})

    def _dispatch(self):
        try:
            body = self._read_body()
        except BodyTooLarge:
            self.close_connection = True
            self._send_json(413, {"error": {"status": 413, "message": "Request entity too large"}})
            return
        except (ValueError, ConnectionError):
            self.close_connection = True
            self._send_json(400, {"error": {"status": 400, "message": "Malformed request body"}})
            return
        url = urlsplit(self.path)
        path = url.path
        query = parse_qs(url.query, keep_blank_values=True)
        host = self.headers.get("Host")
        base = f"http://{host}" if host else self.server.default_base()
        request = SandboxRequest(method=self.command, path=path, query=query, headers=self.headers, body=body,
                                 base=base, state=self.server.state, shapes=None)
        if path.startswith("/_sandbox/"):
            self._control(request)
        else:
            self._web(request)

    def _control(self, request):
        handler = self.server.control_routes.get((request.method, request.path))
        try:
            if handler is None:
                if request.path in self.server.control_paths:
                    raise ControlError(405, f"method {request.method} not allowed on {request.path}")
                raise ControlError(404, f"no such sandbox endpoint: {request.path}")
            status, payload = handler(request)
        except ControlError as error:
            status, payload = error.status, error.body()
        self._send_json(status, payload)

    def _web(self, request):
        state = self.server.state
        match = routes.match_web(request.method, request.path)
        is_web_api = request.path == "/v1" or request.path.startswith("/v1/")
        faultable = is_web_api or match.kind == routes.ACCOUNTS
        include_groups = None
        if match.key == ARTIST_ALBUMS_ROUTE:
            include_groups = include_groups_key(request.query.get("include_groups"))
        verdict = state.admit(match.key, is_web_api, match.kind == routes.GONE, faultable, include_groups)
        if verdict.latency_ms > 0:
            time.sleep(verdict.latency_ms / 1000.0)
        status, payload, headers = self._answer(request, match, verdict)
        if status is None:  # injected drop: close without answering
            state.answered("dropped")
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        state.answered(status)
        delay = state.faults.answer_delay_ms
        if delay > 0 and match.kind in (routes.WEB_API, routes.ACCOUNTS):
            time.sleep(delay / 1000.0)
        self._send_json(status, payload, headers)

    def _answer(self, request, match, verdict):
        if verdict.rejection is not None:
            return self._error(verdict.rejection)
        if verdict.fault is not None:
            kind, status = verdict.fault
            if kind == "drop":
                return None, None, None
            if match.kind == routes.ACCOUNTS:
                return status, {"error": "server_error", "error_description": FAULT_MESSAGES[status]}, {}
            return status, {"error": {"status": status, "message": FAULT_MESSAGES[status]}}, {}
        try:
            if match.kind == routes.UNKNOWN:
                if match.allowed:
                    raise ApiError(405, "Method not allowed", headers={"Allow": ", ".join(match.allowed)})
                raise ApiError(404, "Service not found")
            request.path_params = match.params or {}
            request.shapes = self.server.shapes_for(request.base)
            if match.kind in (routes.WEB_API, routes.GONE):
                request.user = request.state.authenticate(request.headers.get("Authorization"))
            return match.handler(request)
        except (ApiError, OAuthError) as error:
            return self._error(error)
        except Exception:  # a sandbox bug: answer like Spotify would, and say why on stderr
            traceback.print_exc(file=sys.stderr)
            return 500, {"error": {"status": 500, "message": "Server error."}}, {}

    @staticmethod
    def _error(error):
        return error.status, error.body(), dict(error.headers)

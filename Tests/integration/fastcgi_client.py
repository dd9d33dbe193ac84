"""A raw FastCGI client (the protocol of the FastCGI 1.0 specification), for talking to the pool's socket
without nginx: whole requests, kept connections, and the stalled or broken ones nginx would never send."""

import socket
import struct

VERSION = 1
BEGIN_REQUEST, ABORT_REQUEST, END_REQUEST, PARAMS, STDIN, STDOUT, STDERR = 1, 2, 3, 4, 5, 6, 7
RESPONDER = 1
KEEP_CONN = 1


def record(kind, request_id, content=b"", padding=0, version=VERSION):
    return struct.pack(">BBHHBB", version, kind, request_id, len(content), padding, 0) + content + b"\0" * padding


def name_value(name, value):
    def length(n):
        return struct.pack(">B", n) if n < 128 else struct.pack(">I", n | 0x80000000)
    name, value = name.encode(), value.encode()
    return length(len(name)) + length(len(value)) + name + value


def begin(request_id=1, keep=False):
    return record(BEGIN_REQUEST, request_id, struct.pack(">HB5x", RESPONDER, KEEP_CONN if keep else 0))


def request_bytes(method, path, body=b"", headers=None, request_id=1, keep=False, query=""):
    """A whole request as nginx's fastcgi_params would send it."""
    pairs = {"REQUEST_METHOD": method, "REQUEST_URI": path + ("?" + query if query else ""), "DOCUMENT_URI": path,
             "QUERY_STRING": query, "CONTENT_LENGTH": str(len(body)) if body else "", "REMOTE_ADDR": "127.0.0.1",
             "SERVER_PROTOCOL": "HTTP/1.1"}
    for name, value in (headers or {}).items():
        pairs["HTTP_" + name.upper().replace("-", "_")] = value
    params = b"".join(name_value(k, v) for k, v in pairs.items())
    data = begin(request_id, keep) + record(PARAMS, request_id, params) + record(PARAMS, request_id)
    if body:
        data += record(STDIN, request_id, body)
    return data + record(STDIN, request_id)


class Response:
    def __init__(self, status, headers, body, app_status):
        self.status, self.headers, self.body, self.app_status = status, headers, body, app_status


def read_response(sock, request_id=1):
    """Reads records until the request's FCGI_END_REQUEST; parses the CGI head of its stdout."""
    stdout = b""
    buffer = b""
    while True:
        while len(buffer) < 8:
            chunk = sock.recv(65536)
            if not chunk:
                raise ConnectionError("the pool closed the connection before the end of the request")
            buffer += chunk
        version, kind, rid, length, padding, _ = struct.unpack(">BBHHBB", buffer[:8])
        while len(buffer) < 8 + length + padding:
            chunk = sock.recv(65536)
            if not chunk:
                raise ConnectionError("the pool closed the connection inside a record")
            buffer += chunk
        content = buffer[8:8 + length]
        buffer = buffer[8 + length + padding:]
        if rid != request_id:
            continue
        if kind == STDOUT:
            stdout += content
        elif kind == END_REQUEST:
            app_status = struct.unpack(">I", content[:4])[0]
            head, _, body = stdout.partition(b"\r\n\r\n")
            headers = {}
            status = 200
            for line in head.split(b"\r\n"):
                name, _, value = line.decode("latin-1").partition(":")
                if name.lower() == "status":
                    status = int(value.strip().split()[0])
                elif name:
                    headers[name.lower()] = value.strip()
            return Response(status, headers, body, app_status)


class Connection:
    """One connection to the pool's socket."""

    def __init__(self, path, timeout=10):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(path)

    def request(self, method, path, body=b"", headers=None, keep=False, request_id=1, query=""):
        self.sock.sendall(request_bytes(method, path, body, headers, request_id, keep, query))
        return read_response(self.sock, request_id)

    def send(self, data):
        self.sock.sendall(data)

    def closed_by_peer(self):
        """True when the pool has closed its end (reads give end of stream, or a reset)."""
        try:
            while True:
                chunk = self.sock.recv(65536)
                if not chunk:
                    return True
        except ConnectionResetError:
            return True
        except socket.timeout:
            return False

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

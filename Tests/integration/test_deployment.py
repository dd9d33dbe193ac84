"""The deployment pieces of SPEC §10.

systemd/: every unit passes `systemd-analyze verify` (on copies whose /usr/local/bin/xomify-* paths point at
stand-in executables, since verify refuses a command that does not exist), and the settings the deployment
relies on are there.

nginx/xomify.conf: the production site, rendered with its paths moved to a temporary directory (loopback
ports, a throwaway self-signed certificate made here with openssl, the repository's include files), inside
an nginx.conf with the http-level settings of Debian 12's own, passes `nginx -t`, and then, in front of a
small FastCGI stand-in for the pool: redirects HTTP to HTTPS, speaks HTTP/2 and TLS 1.2/1.3 only, sends
HSTS, answers CORS preflights itself for the origins of the one allow-list file (with the headers the apps
send, X-Xomify-Auth-Retry included), exposes headers to allowed origins only, passes the request id, serves
the old apps' /dev/<route> as /<route>, keeps nginx's own errors in the JSON envelope with the headers of
every answer (a dead or stuck pool is a 503, never a 502 or 504), compresses JSON, keeps /status to
loopback, and answers a flood from one address with JSON 429s while other addresses are served. The last
tests put the same site in front of the real pool (PostgreSQL through the rig): started as
xomify-api.service starts it, its listening socket on fd 0, over a unix socket and over TCP, restarted under
a waiting request; serving /dev/<route> as /<route>; and answering 403, 413, 414, 429 and, with the pool
stopped, 503 in the API's contract.

Nothing here is skipped: systemd-analyze, nginx, openssl and a built xomify-api are installed or built by
scripts/test, so a test that finds one missing fails and says so."""

import contextlib
import gzip
import http.client
import json
import os
import re
import select
import shutil
import signal
import socket
import ssl
import struct
import subprocess
import tempfile
import threading
import time

import pytest

from xomify_rig import IS_ROOT, REPO, Rig, bin_dir, free_port, wait_until

SYSTEMD_DIR = os.path.join(REPO, "systemd")
NGINX_DIR = os.path.join(REPO, "nginx")
UNITS = ["xomify-api.socket", "xomify-api.service", "xomify-wrapped.service", "xomify-wrapped.timer",
         "xomify-release-radar.service", "xomify-release-radar.timer"]
PROGRAMS = ["xomify-api", "xomify-wrapped", "xomify-release-radar"]
ALLOWED_ORIGIN = "https://xomify.com"
# The allow-list's defaults (SPEC §10), in nginx/xomify-cors-origins.conf.
DEFAULT_ORIGINS = ["https://xomify.com", "https://www.xomify.com", "https://xomify.xomware.com"]
OTHER_ORIGIN = "https://evil.example"
SERVER_NAME = "api.example.com"
HSTS = "max-age=63072000"
# The request headers the apps send (SPEC §10, reference/clients.md), which a preflight must allow.
APP_REQUEST_HEADERS = {"Authorization", "Content-Type", "If-None-Match", "X-Xomify-Auth-Retry"}


# ---- systemd ----------------------------------------------------------------------------------------------

def systemd_analyze():
    """The systemd-analyze executable (Debian's systemd package, which scripts/test installs)."""
    found = shutil.which("systemd-analyze")
    if found is None:
        pytest.fail("systemd-analyze is required to check the units: install Debian's systemd package "
                    "(scripts/test does)")
    probe = subprocess.run([found, "--version"], capture_output=True, text=True)
    if probe.returncode != 0:
        pytest.fail(f"systemd-analyze cannot run here, so the units cannot be checked: {probe.stderr.strip()}")
    return found


def parse_unit(path):
    """A unit file as {section: [(key, value), ...]} (keys repeat, as systemd allows)."""
    sections, current = {}, None
    for line in open(path):
        line = line.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], [])
        else:
            key, _, value = line.partition("=")
            current.append((key.strip(), value.strip()))
    return sections


def values(unit, section, key):
    return [v for k, v in parse_unit(os.path.join(SYSTEMD_DIR, unit)).get(section, []) if k == key]


def value(unit, section, key):
    found = values(unit, section, key)
    assert len(found) == 1, f"{unit} [{section}] {key}: expected one value, found {found}"
    return found[0]


@pytest.fixture(scope="module")
def verifiable_units(tmp_path_factory):
    """Copies of the units whose /usr/local/bin/xomify-* commands point at stand-in executables."""
    directory = tmp_path_factory.mktemp("units")
    programs = directory / "bin"
    programs.mkdir()
    for program in PROGRAMS:
        stub = programs / program
        stub.write_text("#!/bin/sh\nexit 0\n")
        stub.chmod(0o755)
    copies = []
    for unit in UNITS:
        text = open(os.path.join(SYSTEMD_DIR, unit)).read()
        rewritten = text.replace("/usr/local/bin/", f"{programs}/")
        if unit.endswith(".service"):
            assert rewritten != text, f"{unit} runs nothing from /usr/local/bin"
        (directory / unit).write_text(rewritten)
        copies.append(str(directory / unit))
    return copies


def test_the_units_are_all_there():
    assert sorted(os.listdir(SYSTEMD_DIR)) == sorted(UNITS)


def test_systemd_analyze_verify_passes(verifiable_units):
    analyze = systemd_analyze()
    result = subprocess.run([analyze, "verify", "--man=no"] + verifiable_units, capture_output=True, text=True,
                            timeout=60)
    output = (result.stdout + result.stderr).strip()
    assert result.returncode == 0, output
    # verify exits 0 on warnings such as an unknown key; none is acceptable for our units.
    complaints = [line for line in output.splitlines() if "xomify" in line]
    assert complaints == [], output


def test_verify_would_catch_a_broken_unit(verifiable_units, tmp_path):
    """The check above is not vacuous: verify fails on a missing command and warns of an unknown key."""
    analyze = systemd_analyze()
    broken = tmp_path / "xomify-broken.service"
    broken.write_text("[Service]\nType=oneshot\nExecStart=/nonexistent/xomify-nothing\nProtectSystm=strict\n")
    result = subprocess.run([analyze, "verify", "--man=no", str(broken)], capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "ProtectSystm" in result.stderr


def test_timer_calendars(verifiable_units):
    analyze = systemd_analyze()
    for timer, pattern in [("xomify-wrapped.timer", r"Next elapse: \w{3} \d{4}-\d{2}-01 00:00:00 UTC"),
                           ("xomify-release-radar.timer", r"Next elapse: Sun \d{4}-\d{2}-\d{2} 00:00:00 UTC")]:
        expression = value(timer, "Timer", "OnCalendar")
        result = subprocess.run([analyze, "calendar", "--iterations=3", expression], capture_output=True,
                                text=True, timeout=30)
        assert result.returncode == 0, result.stderr
        assert re.search(pattern, result.stdout), result.stdout
        assert value(timer, "Timer", "Persistent") == "true"
        assert value(timer, "Timer", "RandomizedDelaySec") == "0"
        assert value(timer, "Timer", "AccuracySec") == "1s"
        assert value(timer, "Install", "WantedBy") == "timers.target"


def test_socket_and_pool_service_settings():
    assert value("xomify-api.socket", "Socket", "ListenStream") == "/run/xomify/api.sock"
    assert value("xomify-api.socket", "Socket", "SocketUser") == "xomify"
    assert value("xomify-api.socket", "Socket", "SocketGroup") == "www-data"
    assert value("xomify-api.socket", "Socket", "SocketMode") == "0660"
    assert value("xomify-api.socket", "Socket", "Accept") == "no"
    service = "xomify-api.service"
    assert value(service, "Unit", "Requires") == "xomify-api.socket"
    assert "xomify-api.socket" in value(service, "Unit", "After").split()
    assert value(service, "Service", "StandardInput") == "socket"
    assert value(service, "Service", "StandardOutput") == "journal"
    assert value(service, "Service", "StandardError") == "journal"
    assert "XOMIFY_LISTEN=" in values(service, "Service", "Environment")
    # The answer files: the service's own directory, which systemd makes writable under ProtectSystem=strict.
    assert value(service, "Service", "CacheDirectory") == "xomify-api"
    assert value(service, "Service", "CacheDirectoryMode") == "0700"
    assert "XOMIFY_ANSWER_FILES_DIR=/var/cache/xomify-api" in values(service, "Service", "Environment")
    assert value(service, "Service", "ExecStartPre") == "/usr/local/bin/xomify-api migrate"
    assert value(service, "Service", "ExecStart") == "/usr/local/bin/xomify-api"
    # The check first (as nginx -t before an nginx reload): a failure fails `systemctl reload`, no SIGHUP sent.
    assert values(service, "Service", "ExecReload") == ["/usr/local/bin/xomify-api check-config",
                                                        "/bin/kill -HUP $MAINPID"]
    assert value(service, "Service", "KillSignal") == "SIGTERM"
    assert value(service, "Service", "TimeoutStopSec") == "40"
    assert value(service, "Service", "Restart") == "on-failure"
    credentials = values(service, "Service", "LoadCredential")
    assert "jwt-secret:/etc/xomify/credentials/jwt-secret" in credentials
    assert "token-key:/etc/xomify/credentials/token-key" in credentials


@pytest.mark.parametrize("service", ["xomify-api.service", "xomify-wrapped.service", "xomify-release-radar.service"])
def test_services_are_hardened(service):
    expected = {"User": "xomify", "Group": "xomify", "NoNewPrivileges": "yes", "ProtectSystem": "strict",
                "ProtectHome": "yes", "PrivateTmp": "yes", "PrivateDevices": "yes", "ProtectKernelTunables": "yes",
                "ProtectKernelModules": "yes", "ProtectKernelLogs": "yes", "ProtectControlGroups": "yes",
                "RestrictNamespaces": "yes", "LockPersonality": "yes", "SystemCallArchitectures": "native",
                "CapabilityBoundingSet": ""}
    for key, wanted in expected.items():
        assert value(service, "Service", key) == wanted, key
    assert value(service, "Service", "RestrictAddressFamilies").split() == ["AF_UNIX", "AF_INET", "AF_INET6",
                                                                           "AF_NETLINK"]
    assert value(service, "Service", "EnvironmentFile") == "-/etc/xomify/xomify.env"
    for credential in values(service, "Service", "LoadCredential"):
        name, _, source = credential.partition(":")
        assert source == f"/etc/xomify/credentials/{name}"


@pytest.mark.parametrize("job", ["xomify-wrapped", "xomify-release-radar"])
def test_jobs_resume_an_interrupted_run(job):
    """Exit 75 (quota or budget, work left) and crashes are retried an hour later; 1 and 78 are final."""
    service = f"{job}.service"
    assert value(service, "Service", "Type") == "oneshot"
    assert value(service, "Service", "ExecStart") == f"/usr/local/bin/{job}"
    assert value(service, "Service", "Restart") == "on-failure"
    assert value(service, "Service", "RestartSec") == "1h"
    assert value(service, "Service", "RestartPreventExitStatus").split() == ["1", "78"]
    assert value(service, "Unit", "StartLimitIntervalSec") == "2d"
    assert value(service, "Unit", "StartLimitBurst") == "48"
    assert "spotify-client-secret:/etc/xomify/credentials/spotify-client-secret" in values(
        service, "Service", "LoadCredential")
    assert value(f"{job}.timer", "Timer", "Unit") == service


# ---- a FastCGI stand-in for the pool ----------------------------------------------------------------------

FCGI_BEGIN_REQUEST, FCGI_END_REQUEST, FCGI_PARAMS, FCGI_STDIN, FCGI_STDOUT = 1, 3, 4, 5, 6
BIG_BODY = json.dumps({"wraps": [{"monthKey": f"20{24 + i // 12}-{i % 12 + 1:02d}",
                                  "topSongIds": {r: [f"track{i:02d}{r}{n:02d}xxxxxxxxxx" for n in range(25)]
                                                 for r in ("short_term", "medium_term", "long_term")},
                                  "topArtistIds": {r: [f"artist{i:02d}{r}{n:02d}xxxxxxxxx" for n in range(25)]
                                                   for r in ("short_term", "medium_term", "long_term")}}
                                 for i in range(24)]}).encode()


class StubPool:
    """A minimal FastCGI responder on a unix socket: /ping answers pong, /big a ~125 KB JSON document like a
    24-month /wrapped/data answer, /hang never answers (a stuck pool), anything else a JSON echo of what nginx
    passed (method, DOCUMENT_URI, REQUEST_URI, QUERY_STRING, REQUEST_ID, headers, body length) with an ETag,
    Cache-Control and X-Request-Id. It counts the requests it saw."""

    def __init__(self, path):
        self.path = path
        self.seen = []
        self._lock = threading.Lock()
        self._socket = None

    def start(self):
        self._socket = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._socket.bind(self.path)
        os.chmod(self.path, 0o666)
        self._socket.listen(128)
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def stop(self):
        with contextlib.suppress(OSError):
            self._socket.close()

    def _accept(self):
        while True:
            try:
                connection, _ = self._socket.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(connection,), daemon=True).start()

    @staticmethod
    def _read(connection, size):
        data = b""
        while len(data) < size:
            chunk = connection.recv(size - len(data))
            if not chunk:
                raise ConnectionError("nginx closed the connection")
            data += chunk
        return data

    @staticmethod
    def _pairs(data):
        params, index = {}, 0

        def length():
            nonlocal index
            if data[index] >> 7:
                value = struct.unpack("!I", data[index:index + 4])[0] & 0x7FFFFFFF
                index += 4
            else:
                value = data[index]
                index += 1
            return value
        while index < len(data):
            name_length, value_length = length(), length()
            name = data[index:index + name_length].decode("latin-1")
            index += name_length
            params[name] = data[index:index + value_length].decode("latin-1")
            index += value_length
        return params

    def _serve(self, connection):
        with connection:
            try:
                raw_params, body, request_id = b"", b"", 1
                while True:
                    _, kind, request_id, length, padding, _ = struct.unpack("!BBHHBB", self._read(connection, 8))
                    content = self._read(connection, length + padding)[:length]
                    if kind == FCGI_PARAMS:
                        raw_params += content
                    elif kind == FCGI_STDIN:
                        if not content:
                            break
                        body += content
                params = self._pairs(raw_params)
                with self._lock:
                    self.seen.append((params.get("REQUEST_METHOD"), params.get("DOCUMENT_URI")))
                if params.get("DOCUMENT_URI") == "/hang":
                    connection.recv(1)   # until nginx gives up and closes the connection
                    return
                head, payload = self._respond(params, body)
                output = head.encode() + b"\r\n" + payload
                for start in range(0, len(output), 32768):
                    chunk = output[start:start + 32768]
                    connection.sendall(struct.pack("!BBHHBB", 1, FCGI_STDOUT, request_id, len(chunk), 0, 0) + chunk)
                connection.sendall(struct.pack("!BBHHBB", 1, FCGI_STDOUT, request_id, 0, 0, 0))
                connection.sendall(struct.pack("!BBHHBB", 1, FCGI_END_REQUEST, request_id, 8, 0, 0) + bytes(8))
            except (ConnectionError, OSError, struct.error):
                return

    @staticmethod
    def _respond(params, body):
        path = params.get("DOCUMENT_URI", "")
        request_id = params.get("REQUEST_ID", "")
        json_head = (f"Status: 200 OK\r\nContent-Type: application/json; charset=utf-8\r\n"
                     f"Cache-Control: private, no-cache\r\nX-Request-Id: {request_id}\r\nETag: \"stub-etag\"\r\n")
        if path == "/ping":
            return "Status: 200 OK\r\nContent-Type: text/plain\r\n", b"pong"
        if path == "/big":
            return json_head, BIG_BODY
        echo = {"method": params.get("REQUEST_METHOD"), "path": path, "requestUri": params.get("REQUEST_URI"),
                "query": params.get("QUERY_STRING"), "requestId": request_id, "bodyLength": len(body),
                "headers": {k: v for k, v in params.items() if k.startswith("HTTP_") and k != "HTTP_AUTHORIZATION"}}
        return json_head, json.dumps(echo).encode()


# ---- the production site, rendered for this machine --------------------------------------------------------

# Debian 12's /etc/nginx/nginx.conf sets these at http level; the site must not repeat any of them there.
WRAPPER = """{user}
worker_processes 1;
pid {run}/nginx.pid;
error_log {run}/log/main-error.log warn;
daemon off;

events {{
    worker_connections 512;
}}

http {{
    # As in Debian 12's nginx.conf:
    sendfile on;
    tcp_nopush on;
    types_hash_max_size 2048;
    {mime_types}
    default_type application/octet-stream;
    ssl_protocols TLSv1 TLSv1.1 TLSv1.2 TLSv1.3;
    ssl_prefer_server_ciphers on;
    access_log {run}/log/access.log;
    error_log {run}/log/error.log;
    gzip on;

    # Temporary files of this throwaway instance.
    client_body_temp_path {run}/temp/body;
    fastcgi_temp_path {run}/temp/fastcgi;
    proxy_temp_path {run}/temp/proxy;
    uwsgi_temp_path {run}/temp/uwsgi;
    scgi_temp_path {run}/temp/scgi;

    include {run}/sites-enabled/xomify.conf;
}}
"""


def render_site(run, http_port, https_port, upstream, include_dir=NGINX_DIR):
    """nginx/xomify.conf with its production paths and ports replaced (its include files taken from
    `include_dir`, the repository's nginx/ unless a test runs a modified copy); fails if one is no longer
    there."""
    text = open(os.path.join(NGINX_DIR, "xomify.conf")).read()
    replacements = [
        ("listen 80;", f"listen 127.0.0.1:{http_port};"),
        ("listen [::]:80;", ""),
        ("listen 443 ssl http2;", f"listen 127.0.0.1:{https_port} ssl http2;"),
        ("listen [::]:443 ssl http2;", ""),
        ("/etc/ssl/xomify/fullchain.pem", f"{run}/tls/fullchain.pem"),
        ("/etc/ssl/xomify/privkey.pem", f"{run}/tls/privkey.pem"),
        ("/etc/nginx/xomify/", f"{include_dir}/"),
        ("unix:/run/xomify/api.sock", upstream),
        ("/var/log/nginx/", f"{run}/log/"),
        ("/var/www/acme", f"{run}/acme"),
    ]
    for old, new in replacements:
        assert old in text, f"nginx/xomify.conf no longer contains {old!r}; update the test's rendering"
        text = text.replace(old, new)
    live = "\n".join(line for line in text.splitlines() if not line.strip().startswith("#"))
    leftover = re.findall(r"(?:/etc/|/var/|/run/)\S*", live)
    assert leftover == [], f"production paths left after rendering: {leftover}"
    return text


class ProductionNginx:
    """nginx running the rendered production site on free loopback ports, in front of `upstream` (a
    fastcgi_pass address), by default a unix socket in its own directory (`socket`)."""

    def __init__(self, upstream=None, include_dir=NGINX_DIR):
        self.run = tempfile.mkdtemp(prefix="xomify-site-")
        os.chmod(self.run, 0o755)
        self.socket = os.path.join(self.run, "api.sock")
        self.upstream = upstream or f"unix:{self.socket}"
        self.include_dir = include_dir
        self.http_port = free_port()
        self.https_port = free_port()
        self.process = None

    def prepare(self):
        for sub in ("log", "tls", "acme", "sites-enabled", "temp/body", "temp/fastcgi", "temp/proxy",
                    "temp/uwsgi", "temp/scgi"):
            os.makedirs(os.path.join(self.run, sub), exist_ok=True)
        tls = os.path.join(self.run, "tls")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                        "-nodes", "-days", "2", "-subj", f"/CN={SERVER_NAME}",
                        "-addext", f"subjectAltName=DNS:{SERVER_NAME},IP:127.0.0.1",
                        "-keyout", os.path.join(tls, "privkey.pem"), "-out", os.path.join(tls, "fullchain.pem")],
                       check=True, capture_output=True, timeout=60)
        with open(os.path.join(self.run, "sites-enabled", "xomify.conf"), "w") as f:
            f.write(render_site(self.run, self.http_port, self.https_port, self.upstream, self.include_dir))
        mime_types = "include /etc/nginx/mime.types;" if os.path.exists("/etc/nginx/mime.types") else ""
        self.config = os.path.join(self.run, "nginx.conf")
        with open(self.config, "w") as f:
            f.write(WRAPPER.format(user="user root root;" if IS_ROOT else "", run=self.run, mime_types=mime_types))
        return self

    def check(self):
        """`nginx -t` on the configuration; returns (exit status, output)."""
        result = subprocess.run(["nginx", "-t", "-c", self.config, "-p", self.run, "-e",
                                 os.path.join(self.run, "log", "main-error.log")],
                                capture_output=True, text=True, timeout=60)
        return result.returncode, result.stdout + result.stderr

    def start(self):
        log = open(os.path.join(self.run, "log", "nginx.out"), "ab")
        self.process = subprocess.Popen(["nginx", "-c", self.config, "-p", self.run, "-e",
                                         os.path.join(self.run, "log", "main-error.log")], stdout=log, stderr=log)
        wait_until(lambda: self._open(self.https_port) and self._open(self.http_port) or self.process.poll() is not None,
                   30, what="nginx")
        if self.process.poll() is not None:
            raise RuntimeError(f"nginx exited: {self.error_log()}")
        return self

    @staticmethod
    def _open(port):
        with socket.socket() as s:
            s.settimeout(0.2)
            return s.connect_ex(("127.0.0.1", port)) == 0

    def error_log(self):
        text = ""
        for name in ("main-error.log", "error.log", "xomify-error.log", "nginx.out"):
            with contextlib.suppress(FileNotFoundError):
                text += open(os.path.join(self.run, "log", name), errors="replace").read()
        return text

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGQUIT)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.run, ignore_errors=True)

    # -- requests --------------------------------------------------------------------------------------

    def https(self, method, path, headers=None, body=None, source="127.0.0.1"):
        context = ssl._create_unverified_context()
        connection = http.client.HTTPSConnection("127.0.0.1", self.https_port, timeout=20, context=context,
                                                 source_address=(source, 0))
        try:
            return self._exchange(connection, method, path, headers, body)
        finally:
            connection.close()

    def http(self, method, path, headers=None):
        connection = http.client.HTTPConnection("127.0.0.1", self.http_port, timeout=20)
        try:
            return self._exchange(connection, method, path, headers, None)
        finally:
            connection.close()

    @staticmethod
    def _exchange(connection, method, path, headers, body):
        headers = dict(headers or {})
        headers.setdefault("Host", SERVER_NAME)
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        return response.status, response.headers, response.read()


@pytest.fixture(scope="module")
def site():
    if shutil.which("nginx") is None or shutil.which("openssl") is None:
        pytest.fail("nginx and openssl are required (scripts/test installs them)")
    nginx = ProductionNginx()
    stub = None
    try:
        nginx.prepare()
        status, output = nginx.check()
        assert status == 0, output
        stub = StubPool(nginx.socket).start()
        nginx.stub = stub
        nginx.start()
        yield nginx
    finally:
        nginx.stop()
        if stub:
            stub.stop()


def test_nginx_t_accepts_the_production_site(site):
    status, output = site.check()
    assert status == 0, output
    assert "syntax is ok" in output and "test is successful" in output
    assert "[warn]" not in output and "[emerg]" not in output, output


def test_nginx_t_accepts_the_site_inside_debians_own_nginx_conf(site):
    """The installed /etc/nginx/nginx.conf, with its sites-enabled include pointing at the rendered site."""
    debian = "/etc/nginx/nginx.conf"
    if not os.path.exists(debian):
        pytest.fail(f"{debian} is missing: install Debian's nginx package (scripts/test does)")
    if not IS_ROOT:
        pytest.fail("this check needs root: nginx -t with Debian's nginx.conf opens its log files (run scripts/test "
                    "as root, as SPEC §10 has it)")
    text = open(debian).read()
    assert "include /etc/nginx/sites-enabled/*;" in text
    text = text.replace("include /etc/nginx/sites-enabled/*;",
                        f"include {site.run}/sites-enabled/xomify.conf;")
    text = re.sub(r"(?m)^pid\s+\S+;", f"pid {site.run}/debian.pid;", text)
    path = os.path.join(site.run, "debian-nginx.conf")
    with open(path, "w") as f:
        f.write(text)
    result = subprocess.run(["nginx", "-t", "-c", path, "-e", os.path.join(site.run, "log", "debian-error.log")],
                            capture_output=True, text=True, timeout=60)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "[warn]" not in output and "[emerg]" not in output, output


def test_http_redirects_to_https(site):
    status, headers, _ = site.http("GET", "/wrapped/data?email=a%40b.test")
    assert status == 301
    assert headers["Location"] == f"https://{SERVER_NAME}/wrapped/data?email=a%40b.test"
    status, headers, _ = site.http("POST", "/user/update")
    assert status == 301 and headers["Location"] == f"https://{SERVER_NAME}/user/update"


def test_https_answers_with_hsts_and_no_version(site):
    status, headers, body = site.https("GET", "/ping")
    assert (status, body) == (200, b"pong")
    assert headers["Strict-Transport-Security"] == "max-age=63072000"
    assert headers["Server"] == "nginx"


@pytest.mark.filterwarnings("ignore:ssl.TLSVersion.TLSv1_1 is deprecated:DeprecationWarning")
def test_tls_is_1_2_or_1_3_with_http2():
    """(Own nginx, not the shared one: handshakes with old protocols must not disturb the other tests.)"""
    nginx = ProductionNginx()
    stub = None
    try:
        nginx.prepare()
        stub = StubPool(nginx.socket).start()
        nginx.start()
        for version in (ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3):
            context = ssl._create_unverified_context()
            context.minimum_version = context.maximum_version = version
            context.set_alpn_protocols(["h2", "http/1.1"])
            with socket.create_connection(("127.0.0.1", nginx.https_port), timeout=10) as raw:
                with context.wrap_socket(raw, server_hostname=SERVER_NAME) as tls:
                    assert tls.version() == {ssl.TLSVersion.TLSv1_2: "TLSv1.2", ssl.TLSVersion.TLSv1_3: "TLSv1.3"}[version]
                    assert tls.selected_alpn_protocol() == "h2"
        # TLS 1.1, which Debian's http-level ssl_protocols would allow: the site's own setting refuses it.
        context = ssl._create_unverified_context()
        context.set_ciphers("ALL:@SECLEVEL=0")
        context.minimum_version = ssl.TLSVersion.TLSv1_1
        context.maximum_version = ssl.TLSVersion.TLSv1_1
        with pytest.raises(ssl.SSLError):
            with socket.create_connection(("127.0.0.1", nginx.https_port), timeout=10) as raw:
                with context.wrap_socket(raw, server_hostname=SERVER_NAME):
                    pass
    finally:
        nginx.stop()
        if stub:
            stub.stop()


def assert_nginx_error(answer, status, code, origin=None):
    """An error nginx answered itself, in the API's contract (SPEC §5, §5.2): the status, the JSON envelope with
    nginx's request id, and the headers of every answer: HSTS, one X-Request-Id, Cache-Control, the CORS headers
    for an allowed origin, and Retry-After on a 429 or 503. Returns the error object."""
    got, headers, body = answer
    assert got == status, (got, dict(headers), body)
    assert headers["Content-Type"] == "application/json; charset=utf-8"
    error = json.loads(body)["error"]
    assert sorted(error) == ["code", "handler", "message", "requestId", "status"], error
    assert (error["status"], error["code"], error["handler"]) == (status, code, "nginx"), error
    assert error["message"]
    assert re.fullmatch(r"[0-9a-f]{32}", error["requestId"])
    assert headers.get_all("X-Request-Id") == [error["requestId"]]
    assert headers["Strict-Transport-Security"] == HSTS
    assert headers.get_all("Cache-Control") == ["private, no-cache"]
    assert headers.get_all("Retry-After") == (["1"] if status in (429, 503) else None)
    assert "Origin" in headers.get_all("Vary")
    if origin:
        assert headers["Access-Control-Allow-Origin"] == origin
        assert "X-Request-Id" in headers["Access-Control-Expose-Headers"]
    else:
        assert "Access-Control-Allow-Origin" not in headers
    return error


def cors_headers(headers):
    return [name for name in headers if name.lower().startswith("access-control-")]


def allow_list_entries(path):
    """The live lines of an allow-list file: (origin, value) pairs."""
    entries = []
    for line in open(path):
        line = line.split("#", 1)[0].strip()
        if line:
            origin, value = line.rstrip(";").split()
            entries.append((origin, value))
    return entries


def test_the_allow_list_is_one_file_with_the_default_origins():
    path = os.path.join(NGINX_DIR, "xomify-cors-origins.conf")
    assert allow_list_entries(path) == [(origin, "1") for origin in DEFAULT_ORIGINS]
    # The production site and the test template both read that file, and no other file names an origin.
    site = open(os.path.join(NGINX_DIR, "xomify.conf")).read()
    template = open(os.path.join(NGINX_DIR, "xomify-test.conf.template")).read()
    assert "include /etc/nginx/xomify/xomify-cors-origins.conf;" in site
    assert "include {{NGINX_DIR}}/xomify-cors-origins.conf;" in template
    for name in os.listdir(NGINX_DIR):
        if name != "xomify-cors-origins.conf":
            text = open(os.path.join(NGINX_DIR, name)).read()
            assert not [o for o in DEFAULT_ORIGINS if o in text], f"{name} names an origin"


@pytest.mark.parametrize("origin", DEFAULT_ORIGINS)
def test_cors_preflight_is_answered_by_nginx(site, origin):
    before = len(site.stub.seen)
    status, headers, body = site.https("OPTIONS", "/wrapped/data", headers={
        "Origin": origin, "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "authorization,content-type,if-none-match,x-xomify-auth-retry"})
    assert status == 204 and body == b""
    assert headers["Access-Control-Allow-Origin"] == origin
    assert {m.strip() for m in headers["Access-Control-Allow-Methods"].split(",")} >= {"GET", "POST", "OPTIONS"}
    assert {h.strip() for h in headers["Access-Control-Allow-Headers"].split(",")} == APP_REQUEST_HEADERS
    assert int(headers["Access-Control-Max-Age"]) > 0
    assert "Origin" in headers.get_all("Vary")
    assert headers["Strict-Transport-Security"] == HSTS
    assert len(site.stub.seen) == before, "the preflight reached the pool"


def test_cors_preflight_of_the_retry_after_a_401(site):
    """The later web app's retry: a POST carrying X-Xomify-Auth-Retry, under the old apps' /dev prefix too."""
    for path in ("/user/update", "/dev/user/update"):
        status, headers, _ = site.https("OPTIONS", path, headers={
            "Origin": "https://xomify.xomware.com", "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type,x-xomify-auth-retry"})
        assert status == 204
        assert headers["Access-Control-Allow-Origin"] == "https://xomify.xomware.com"
        assert "POST" in headers["Access-Control-Allow-Methods"]
        assert "X-Xomify-Auth-Retry" in {h.strip() for h in headers["Access-Control-Allow-Headers"].split(",")}


@pytest.mark.parametrize("origin", [OTHER_ORIGIN, "https://xomify.com.evil.example", "http://xomify.com",
                                    "https://xomify.xomware.com:8443", "https://evil.xomify.com", "null"])
def test_cors_preflight_from_an_origin_not_on_the_list(site, origin):
    before = len(site.stub.seen)
    status, headers, _ = site.https("OPTIONS", "/wrapped/data", headers={
        "Origin": origin, "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "authorization,x-xomify-auth-retry"})
    assert status == 204
    assert cors_headers(headers) == []
    assert len(site.stub.seen) == before, "the preflight reached the pool"


def test_an_options_request_that_is_no_preflight_goes_to_the_pool(site):
    """Without Access-Control-Request-Method it is an ordinary request: the pool answers it (the real pool:
    405 with Allow)."""
    status, _, body = site.https("OPTIONS", "/wrapped/data", headers={"Origin": ALLOWED_ORIGIN})
    assert status == 200 and json.loads(body)["method"] == "OPTIONS"


def test_an_origin_added_to_the_allow_list_file_is_allowed(tmp_path):
    """An operator's edit: one line appended to xomify-cors-origins.conf, nothing else changed."""
    include_dir = tmp_path / "nginx"
    shutil.copytree(NGINX_DIR, include_dir)
    with open(include_dir / "xomify-cors-origins.conf", "a") as f:
        f.write("http://localhost:4200          1;\n")
    nginx = ProductionNginx(include_dir=str(include_dir)).prepare()
    stub = None
    try:
        stub = StubPool(nginx.socket).start()
        nginx.start()
        for origin in DEFAULT_ORIGINS + ["http://localhost:4200"]:
            status, headers, _ = nginx.https("OPTIONS", "/ping", headers={
                "Origin": origin, "Access-Control-Request-Method": "GET"})
            assert status == 204 and headers["Access-Control-Allow-Origin"] == origin
        status, headers, _ = nginx.https("OPTIONS", "/ping", headers={
            "Origin": "http://localhost:4201", "Access-Control-Request-Method": "GET"})
        assert status == 204 and cors_headers(headers) == []
    finally:
        nginx.stop()
        if stub:
            stub.stop()


def test_cors_headers_on_answers_for_allowed_origins_only(site):
    for origin in DEFAULT_ORIGINS:
        status, headers, body = site.https("GET", "/wrapped/data", headers={"Origin": origin})
        assert status == 200 and json.loads(body)["path"] == "/wrapped/data"
        assert headers["Access-Control-Allow-Origin"] == origin
        assert {h.strip() for h in headers["Access-Control-Expose-Headers"].split(",")} == {
            "ETag", "X-Request-Id", "Retry-After"}
        assert "Access-Control-Allow-Methods" not in headers
        assert "Origin" in headers.get_all("Vary")
        assert headers["ETag"] == '"stub-etag"'
    for origin in (OTHER_ORIGIN, None):
        status, headers, _ = site.https("GET", "/wrapped/data", headers={"Origin": origin} if origin else {})
        assert status == 200
        assert cors_headers(headers) == []
        assert "Origin" in headers.get_all("Vary")


def test_request_id_and_headers_reach_the_pool(site):
    status, headers, body = site.https("POST", "/user/update", body=b'{"displayName":"x"}',
                                       headers={"Content-Type": "application/json", "If-None-Match": '"e"',
                                                "Authorization": "Bearer t"})
    echo = json.loads(body)
    assert status == 200 and echo["method"] == "POST" and echo["bodyLength"] == 19
    assert re.fullmatch(r"[0-9a-f]{32}", echo["requestId"])
    assert headers.get_all("X-Request-Id") == [echo["requestId"]]
    assert echo["headers"]["HTTP_IF_NONE_MATCH"] == '"e"'


def test_headers_of_every_answer_are_sent_once(site):
    """The pool's own X-Request-Id and Cache-Control are kept, never doubled; an answer without them (here
    the stub's pong) gets nginx's; HSTS is on both."""
    status, headers, _ = site.https("GET", "/wrapped/data")
    assert status == 200
    assert len(headers.get_all("X-Request-Id")) == 1
    assert headers.get_all("Cache-Control") == ["private, no-cache"]
    assert headers.get_all("Strict-Transport-Security") == [HSTS]
    assert "Retry-After" not in headers
    status, headers, body = site.https("GET", "/ping")
    assert (status, body) == (200, b"pong")
    assert re.fullmatch(r"[0-9a-f]{32}", headers["X-Request-Id"])
    assert headers.get_all("Cache-Control") == ["private, no-cache"]
    assert headers.get_all("Strict-Transport-Security") == [HSTS]


def test_dev_prefix_is_served_as_the_root(site):
    """The old apps' API Gateway stage prefix: /dev/<route> reaches the pool as /<route>, in DOCUMENT_URI and
    REQUEST_URI, with its query string."""
    status, _, body = site.https("GET", "/dev/wrapped/data?email=a%40b.test&limit=2")
    echo = json.loads(body)
    assert status == 200
    assert (echo["path"], echo["requestUri"], echo["query"]) == (
        "/wrapped/data", "/wrapped/data?email=a%40b.test&limit=2", "email=a%40b.test&limit=2")
    status, _, body = site.https("POST", "/dev/user/update", body=b'{"displayName":"x"}',
                                 headers={"Content-Type": "application/json"})
    echo = json.loads(body)
    assert (status, echo["method"], echo["path"], echo["requestUri"], echo["bodyLength"]) == (
        200, "POST", "/user/update", "/user/update", 19)
    status, _, body = site.https("GET", "/dev/ping")
    assert (status, body) == (200, b"pong")
    # Exactly one prefix, and only a whole /dev/ segment: these reach the pool as they came.
    for path, document_uri in [("/dev", "/dev"), ("/dev?x=/y", "/dev"), ("/devices", "/devices"),
                               ("/devices/x", "/devices/x"), ("/development/ping", "/development/ping"),
                               ("/dev/dev/ping", "/dev/ping"), ("/dev/", "/"), ("/api/dev/ping", "/api/dev/ping")]:
        status, _, body = site.https("GET", path)
        echo = json.loads(body)
        expected_request_uri = path[4:] if path.startswith("/dev/") else path
        assert (status, echo["path"], echo["requestUri"]) == (200, document_uri, expected_request_uri), path
    # /dev/status is /status, with its access rules.
    status, _, body = site.https("GET", "/dev/status")
    assert status == 200 and json.loads(body)["path"] == "/status"
    assert_nginx_error(site.https("GET", "/dev/status", source="127.0.0.2"), 403, "forbidden")


def test_body_over_64k_is_a_json_413_from_nginx(site):
    before = len(site.stub.seen)
    answer = site.https("POST", "/user/update", body=b"x" * (64 * 1024 + 1),
                        headers={"Content-Type": "application/json", "Origin": ALLOWED_ORIGIN})
    assert_nginx_error(answer, 413, "payload_too_large", origin=ALLOWED_ORIGIN)
    assert len(site.stub.seen) == before
    status, _, body = site.https("POST", "/user/update", body=b"x" * (64 * 1024),
                                 headers={"Content-Type": "application/json"})
    assert status == 200 and json.loads(body)["bodyLength"] == 64 * 1024


def test_uri_too_long_is_a_json_414_from_nginx(site):
    """Refused on its request line, before nginx reads the headers: no Origin is known, so no CORS headers
    (a browser sees a failed request either way); everything else of the contract holds."""
    before = len(site.stub.seen)
    answer = site.https("GET", "/wrapped/data?email=" + "a" * 10000, headers={"Origin": ALLOWED_ORIGIN})
    assert_nginx_error(answer, 414, "invalid_input")
    assert len(site.stub.seen) == before


def test_status_page_is_for_loopback_only(site):
    status, _, body = site.https("GET", "/status")
    assert status == 200 and json.loads(body)["path"] == "/status"
    # 127.0.0.2 is on the loopback interface but is not 127.0.0.1: it stands for any other address.
    for path in ("/status", "/status?full", "//status"):
        assert_nginx_error(site.https("GET", path, source="127.0.0.2", headers={"Origin": ALLOWED_ORIGIN}),
                           403, "forbidden", origin=ALLOWED_ORIGIN)
    status, _, body = site.https("GET", "/ping", source="127.0.0.2")
    assert (status, body) == (200, b"pong")


def test_json_is_compressed_and_never_spooled(site):
    status, headers, body = site.https("GET", "/big", headers={"Accept-Encoding": "gzip"})
    assert status == 200
    assert headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(body) == BIG_BODY
    assert len(BIG_BODY) > 120_000 and len(body) < len(BIG_BODY) / 3
    assert headers["ETag"] == 'W/"stub-etag"'   # nginx weakens the ETag of what it compresses
    status, headers, body = site.https("GET", "/big")
    assert status == 200 and "Content-Encoding" not in headers and body == BIG_BODY
    assert "temporary file" not in site.error_log()
    assert os.listdir(os.path.join(site.run, "temp", "fastcgi")) == []


def fastcgi_timeouts(path=os.path.join(NGINX_DIR, "xomify-fastcgi.conf")):
    """{directive: seconds} of the fastcgi_*_timeout lines."""
    return {name: int(seconds) for name, seconds in
            re.findall(r"(?m)^\s*(fastcgi_\w+_timeout)\s+(\d+)s;", open(path).read())}


def test_fastcgi_timeouts_bound_the_wait_for_a_stuck_pool():
    """A stuck pool is a 503 within 20 s (xomify-fastcgi.conf says why each value); the read timeout stays
    above the pool's own longest deadline for one answer (one Spotify call, XOMIFY_SPOTIFY_TIMEOUT_MS 15 s)."""
    timeouts = fastcgi_timeouts()
    assert timeouts["fastcgi_connect_timeout"] <= 3
    assert 15 < timeouts["fastcgi_read_timeout"] <= 20
    assert timeouts["fastcgi_send_timeout"] <= timeouts["fastcgi_read_timeout"]
    assert timeouts["fastcgi_next_upstream_timeout"] < timeouts["fastcgi_read_timeout"]


@pytest.mark.parametrize("pool", ["no socket", "nobody listening"])
def test_a_dead_pool_is_a_json_503_not_a_502(pool):
    nginx = ProductionNginx().prepare()
    dead = None
    try:
        if pool == "nobody listening":
            dead = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            dead.bind(nginx.socket)   # bound, never listening: connections are refused
        nginx.start()
        for method, body in (("GET", None), ("POST", b"{}")):
            answer = nginx.https(method, "/wrapped/data", body=body, headers={"Origin": ALLOWED_ORIGIN})
            assert_nginx_error(answer, 503, "service_unavailable", origin=ALLOWED_ORIGIN)
    finally:
        nginx.stop()
        if dead:
            dead.close()


def test_a_stuck_pool_is_a_json_503_not_a_504(tmp_path):
    """A pool that takes the request and never answers: after fastcgi_read_timeout nginx answers the API's 503
    (here the production files with that one timeout shortened, so that the test does not wait 20 s)."""
    include_dir = tmp_path / "nginx"
    shutil.copytree(NGINX_DIR, include_dir)
    fastcgi = include_dir / "xomify-fastcgi.conf"
    text = fastcgi.read_text()
    production = f"fastcgi_read_timeout    {fastcgi_timeouts()['fastcgi_read_timeout']}s;"
    assert production in text
    fastcgi.write_text(text.replace(production, "fastcgi_read_timeout    2s;"))
    nginx = ProductionNginx(include_dir=str(include_dir)).prepare()
    stub = None
    try:
        stub = StubPool(nginx.socket).start()
        nginx.start()
        started = time.monotonic()
        answer = nginx.https("GET", "/hang", headers={"Origin": "https://www.xomify.com"})
        waited = time.monotonic() - started
        assert_nginx_error(answer, 503, "service_unavailable", origin="https://www.xomify.com")
        assert 1.5 < waited < 10, waited
        assert ("GET", "/hang") in stub.seen
        assert "upstream timed out" in nginx.error_log()
    finally:
        nginx.stop()
        if stub:
            stub.stop()


def test_a_flood_from_one_address_meets_json_429s_and_others_are_served(site):
    """From loopback addresses of its own, so that it neither spends the allowance of the address the other
    tests use nor depends on what they spent (limit_req is per client address: rate=10r/s, burst=40)."""
    context = ssl._create_unverified_context()
    connection = http.client.HTTPSConnection("127.0.0.1", site.https_port, timeout=20, context=context,
                                             source_address=("127.0.0.4", 0))
    statuses, limited = [], None
    try:
        while statuses.count(429) < 20 and len(statuses) < 400:
            connection.request("GET", "/ping", headers={"Host": SERVER_NAME, "Origin": ALLOWED_ORIGIN})
            response = connection.getresponse()
            body = response.read()
            statuses.append(response.status)
            if response.status == 429 and limited is None:
                limited = (response.headers, body)
    finally:
        connection.close()
    # The whole burst (40, and the request it is counted from) is served, then requests are refused at once.
    # Time only adds allowance (10 a second), so more may be served later in the flood, never fewer here.
    assert statuses[:41] == [200] * 41, statuses
    assert statuses.count(429) == 20, statuses
    assert set(statuses) == {200, 429}
    headers, body = limited
    error = assert_nginx_error((429, headers, body), 429, "rate_limited", origin=ALLOWED_ORIGIN)
    assert error == {"message": "Too many requests", "status": 429, "code": "rate_limited", "handler": "nginx",
                     "requestId": headers["X-Request-Id"]}
    # Per client address: another address is not limited.
    status, _, body = site.https("GET", "/ping", source="127.0.0.5")
    assert (status, body) == (200, b"pong")


# ---- the same site in front of the real pool, started as xomify-api.service starts it -----------------

@pytest.fixture(scope="module")
def database():
    """PostgreSQL with the schema applied (the rig), for the real pool."""
    if not os.access(os.path.join(bin_dir(), "xomify-api"), os.X_OK):
        pytest.fail(f"xomify-api is not built in {bin_dir()} (scripts/test builds it first)")
    rig = Rig(sandbox=False, workers=1, threads=2)
    try:
        yield rig.start(pool=False, nginx=False)
    finally:
        rig.close()


class SocketActivatedPool:
    """xomify-api run as the unit runs it: the listening socket, which the test holds as systemd would, on
    fd 0 (StandardInput=socket) and XOMIFY_LISTEN empty."""

    def __init__(self, rig, listener):
        self.rig = rig
        self.listener = listener
        self.process = None

    def start(self):
        log = open(self.rig.pool_log, "ab")
        self.process = subprocess.Popen([os.path.join(bin_dir(), "xomify-api")], stdin=self.listener.fileno(),
                                        env=self.rig.settings(XOMIFY_LISTEN=""), stdout=log, stderr=log)
        wait_until(lambda: self._workers() or self.process.poll() is not None, 30, what="the pool's worker")
        assert self.process.poll() is None, open(self.rig.pool_log).read()[-2000:]
        return self

    def _workers(self):
        with contextlib.suppress(FileNotFoundError):
            return open(f"/proc/{self.process.pid}/task/{self.process.pid}/children").read().split()
        return []

    def stop(self):
        """SIGTERM, as `systemctl stop` sends it; the exit status."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(40)   # TimeoutStopSec
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
                raise
        return self.process.returncode


@pytest.mark.parametrize("transport", ["unix", "tcp"])
def test_production_site_in_front_of_a_socket_activated_pool(database, transport):
    """The unix socket is the deployment of this host; TCP is the several-hosts variant of docs/DEPLOY.md
    (a drop-in giving xomify-api.socket a ListenStream=address:port)."""
    if transport == "unix":
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        path = os.path.join(database.directory, "activated.sock")
        with contextlib.suppress(FileNotFoundError):
            os.remove(path)
        listener.bind(path)
        os.chmod(path, 0o660)   # SocketMode=0660
        upstream = f"unix:{path}"
    else:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.bind(("127.0.0.1", 0))
        upstream = f"127.0.0.1:{listener.getsockname()[1]}"
    listener.listen(128)
    nginx = ProductionNginx(upstream=upstream).prepare()
    pools = []
    try:
        status, output = nginx.check()
        assert status == 0, output
        nginx.start()
        pools.append(SocketActivatedPool(database, listener).start())

        status, headers, body = nginx.https("GET", "/ping")
        assert (status, body) == (200, b"pong")
        status, headers, body = nginx.https("GET", "/health", headers={"Origin": ALLOWED_ORIGIN})
        assert status == 200 and json.loads(body) == {"status": "ok"}
        assert headers["Access-Control-Allow-Origin"] == ALLOWED_ORIGIN
        assert re.fullmatch(r"[0-9a-f]{32}", headers["X-Request-Id"])
        # The pool's own errors pass through, with the CORS headers a browser needs to read them.
        status, headers, body = nginx.https("GET", "/wrapped/data", headers={"Origin": ALLOWED_ORIGIN})
        assert status == 401 and json.loads(body)["error"]["requestId"] == headers["X-Request-Id"]
        assert headers["Access-Control-Allow-Origin"] == ALLOWED_ORIGIN
        status, _, body = nginx.https("GET", "/status")
        assert status == 200 and json.loads(body)["pool"]["liveWorkers"] == 1
        assert nginx.https("GET", "/status", source="127.0.0.2")[0] == 403

        # `systemctl restart`: the pool drains and exits 0 without closing or shutting down the socket it was
        # given; a request made while no pool runs waits in the listen queue and the next pool answers it.
        assert pools[0].stop() == 0
        answer = {}
        waiting = threading.Thread(target=lambda: answer.update(ping=nginx.https("GET", "/ping")))
        waiting.start()
        # Polled, not slept on: nginx's connection is in the socket's listen queue (the socket we hold turns
        # readable), and with no pool to accept it the request cannot have been answered.
        wait_until(lambda: select.select([listener], [], [], 0)[0], 30, what="nginx's connection in the listen queue")
        assert waiting.is_alive() and not answer
        pools.append(SocketActivatedPool(database, listener).start())
        waiting.join(30)
        assert answer["ping"][0] == 200 and answer["ping"][2] == b"pong"
        assert pools[1].stop() == 0
    finally:
        for pool in pools:
            with contextlib.suppress(Exception):
                pool.stop()
        nginx.stop()
        listener.close()


# ---- the same site in front of the real pool: the old apps' prefix and nginx's own errors ------------------

@pytest.fixture(scope="module")
def live(database):
    """The production site in front of the real pool (the rig's, on its own unix socket)."""
    nginx = ProductionNginx(upstream=f"unix:{database.socket}").prepare()
    try:
        status, output = nginx.check()
        assert status == 0, output
        database.start_pool()
        nginx.start()
        nginx.pool = database
        yield nginx
    finally:
        nginx.stop()
        database.stop_pool()


def test_live_dev_prefix_answers_as_the_root(live):
    email = "dev-prefix@xomify.test"
    token = live.pool.token(email, user_id="devprefix")
    authorised = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    # An old build's profile load, through the prefix: the write reaches the pool's /user/update.
    status, _, body = live.https("POST", "/dev/user/update", headers=authorised,
                                 body=json.dumps({"userId": "devprefix", "refreshToken": "r" * 20}).encode())
    assert status == 200 and json.loads(body)["email"] == email
    # The same read with and without the prefix: the same status, body and ETag.
    plain = live.https("GET", f"/wrapped/data?email={email}", headers=authorised)
    prefixed = live.https("GET", f"/dev/wrapped/data?email={email}", headers=authorised)
    assert plain[0] == prefixed[0] == 200
    assert prefixed[2] == plain[2]
    assert json.loads(prefixed[2])["active"] is True
    assert prefixed[1]["ETag"] == plain[1]["ETag"]
    revalidated = live.https("GET", f"/dev/wrapped/data?email={email}",
                             headers=dict(authorised, **{"If-None-Match": plain[1]["ETag"]}))
    assert revalidated[0] == 304
    for path in ("/user/user-table", "/release-radar/check"):
        plain = live.https("GET", f"{path}?email={email}", headers=authorised)
        prefixed = live.https("GET", f"/dev{path}?email={email}", headers=authorised)
        assert plain[0] == prefixed[0] == 200, path
        assert json.loads(prefixed[2]) == json.loads(plain[2]), path
    # The query string is kept: the pool's validation sees it.
    status, _, body = live.https("GET", f"/dev/wrapped/data?email={email}&monthKey=2026-13", headers=authorised)
    assert status == 400 and json.loads(body)["error"]["fields"]["unexpected"] == ["monthKey"]
    # The pool's own errors through the prefix: the same as without it.
    for path in ("/wrapped/data", "/dev/wrapped/data"):
        status, headers, body = live.https("GET", path)
        assert status == 401 and json.loads(body)["error"]["code"] == "invalid_token", path
        assert headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'
    status, _, body = live.https("GET", "/dev/ping")
    assert (status, body) == (200, b"pong")
    status, _, body = live.https("GET", "/dev/health")
    assert status == 200 and json.loads(body) == {"status": "ok"}
    # /dev alone and /devices are routes of their own, which the pool does not have.
    for path in ("/dev", "/devices", "/dev/dev/ping"):
        status, _, body = live.https("GET", path, headers=authorised)
        assert status == 404 and json.loads(body)["error"]["code"] == "not_found", path


def provoke(live, status):
    """Makes nginx answer `status` itself, in front of the real pool; returns (status, headers, body)."""
    origin = "https://xomify.xomware.com"
    if status == 403:
        return live.https("GET", "/status", source="127.0.0.2", headers={"Origin": origin})
    if status == 413:
        return live.https("POST", "/dev/user/update", body=b"{" + b" " * (64 * 1024) + b"}",
                          headers={"Content-Type": "application/json", "Origin": origin})
    if status == 414:
        return live.https("GET", "/wrapped/data?email=" + "a" * 10000, headers={"Origin": origin})
    if status == 429:
        # A flood from an address of its own (the limit is per address), on one connection.
        context = ssl._create_unverified_context()
        connection = http.client.HTTPSConnection("127.0.0.1", live.https_port, timeout=20, context=context,
                                                 source_address=("127.0.0.9", 0))
        try:
            for _ in range(200):
                connection.request("GET", "/ping", headers={"Host": SERVER_NAME, "Origin": origin})
                response = connection.getresponse()
                body = response.read()
                if response.status != 200:
                    return response.status, response.headers, body
        finally:
            connection.close()
        raise AssertionError("200 requests at once were never limited")
    if status == 503:
        # The pool stopped (its socket gone): nginx cannot connect, and answers 503, not 502.
        live.pool.stop_pool()
        try:
            return live.https("GET", "/wrapped/data", headers={"Origin": origin})
        finally:
            live.pool.start_pool()
    raise ValueError(status)


@pytest.mark.parametrize("status,code", [(403, "forbidden"), (413, "payload_too_large"), (414, "invalid_input"),
                                         (429, "rate_limited"), (503, "service_unavailable")])
def test_live_nginx_errors_keep_the_api_contract(live, status, code):
    # A 414 is refused on its request line, before the Origin header is read: it cannot carry CORS headers.
    origin = None if status == 414 else "https://xomify.xomware.com"
    assert_nginx_error(provoke(live, status), status, code, origin=origin)
    # The pool is there again (503 restarts it) and serves the next request.
    answer = live.https("GET", "/health", source="127.0.0.3")
    assert answer[0] == 200 and answer[1]["Strict-Transport-Security"] == HSTS

"""The reliability suite's common parts (SPEC §2, §5.2, §12 "Reliability"): the probes' ledger and its table,
the fast and full modes, a FastCGI record encoder and reader, and the checks every case ends with (does `/ping`
answer through nginx within a second, which workers died and why).

Each probe is a pytest test in a test_reliability_*.py module. It tries many cases, writes each outcome in its
Probe (cases tried, failures, the worst evidence with a minimal reproduction), and fails at the end when any case
failed. `scripts/reliability` runs every probe in full mode (XOMIFY_RELIABILITY=full) and prints the table;
`scripts/test` runs the same probes with smaller budgets (the fast subset).

    python3 Tests/integration/reliability.py table REPORT.json    prints the table of a report written by a run
                                                                  (XOMIFY_RELIABILITY_REPORT=REPORT.json)
"""

import json
import os
import re
import socket
import ssl
import struct
import sys
import threading
import time

FULL = os.environ.get("XOMIFY_RELIABILITY", "").strip().lower() == "full"
MODE = "full" if FULL else "fast"
# Every random choice of the suite derives from this seed; a failing full run prints it, and rerunning with the
# same seed replays the same cases.
SEED = int(os.environ.get("XOMIFY_RELIABILITY_SEED", "20261127"))


def budget(fast, full):
    """A number of cases (or seconds, or kill points): small in the fast subset, large in the full run."""
    return full if FULL else fast


# -- the ledger -------------------------------------------------------------------------------------------------

# How bad a failure is, for the table's "worst evidence": the worst one of a probe is the one shown.
DEATH, HANG, SERVER_ERROR, MISMATCH, LEAK, WRONG = 6, 5, 4, 3, 2, 1
SEVERITY_NAMES = {DEATH: "worker death", HANG: "hang", SERVER_ERROR: "5xx", MISMATCH: "off the document",
                  LEAK: "leak", WRONG: "wrong answer"}


class Probe:
    """The outcome of one probe: how many cases it tried, which failed (with evidence and a reproduction), the
    known limits it met (counted apart, not as failures) and, when nothing failed, its worst measurement."""

    def __init__(self, name):
        self.name = name
        self.cases = 0
        self.failures = []  # (severity, case, evidence, reproduction)
        self.known_limits = []  # (case, text)
        self.worst_measure = None  # (value, text): the largest measurement seen (a time, a count)
        self.seconds = 0.0
        self._lock = threading.Lock()

    def passed(self, count=1):
        with self._lock:
            self.cases += count

    def failed(self, case, evidence, severity=WRONG, reproduction=None):
        with self._lock:
            self.cases += 1
            self.failures.append((severity, str(case), str(evidence), reproduction))

    def known_limit(self, case, text):
        """A case whose outcome is a documented limit (libfcgi's allocation checks abort a worker): not a failure
        of this project's code, and reported as such in the table."""
        with self._lock:
            self.cases += 1
            self.known_limits.append((str(case), str(text)))

    def measure(self, value, text):
        with self._lock:
            if self.worst_measure is None or value > self.worst_measure[0]:
                self.worst_measure = (value, text)

    def worst(self):
        if self.failures:
            severity, case, evidence, reproduction = max(self.failures, key=lambda f: f[0])
            return f"[{SEVERITY_NAMES[severity]}] {case}: {evidence}"
        if self.known_limits:
            case, text = self.known_limits[0]
            return f"known limit ({len(self.known_limits)}×): {case}: {text}"
        if self.worst_measure:
            return f"ok; worst: {self.worst_measure[1]}"
        return "ok"

    def as_dict(self):
        return {"probe": self.name, "cases": self.cases, "failures": len(self.failures),
                "knownLimits": len(self.known_limits), "worst": self.worst(), "seconds": round(self.seconds, 1),
                "details": [{"severity": SEVERITY_NAMES[s], "case": c, "evidence": e, "reproduction": r}
                            for s, c, e, r in sorted(self.failures, key=lambda f: -f[0])[:50]],
                "known": [{"case": c, "text": t} for c, t in self.known_limits[:20]]}

    def check(self):
        """Fails the test when any case failed, listing the worst ones with their reproductions."""
        if not self.failures:
            return
        lines = [f"{self.name}: {len(self.failures)} of {self.cases} cases failed (mode {MODE}, seed {SEED})"]
        for severity, case, evidence, reproduction in sorted(self.failures, key=lambda f: -f[0])[:12]:
            lines.append(f"- [{SEVERITY_NAMES[severity]}] {case}: {evidence}")
            if reproduction:
                lines.append("    reproduce: " + reproduction.replace("\n", "\n    "))
        raise AssertionError("\n".join(lines))


PROBES = {}


def probe(name):
    """The probe of that name (created on first use; one table row each)."""
    if name not in PROBES:
        PROBES[name] = Probe(name)
    return PROBES[name]


class timed:
    """`with timed(probe):` adds the block's wall time to the probe's."""

    def __init__(self, target):
        self.target = target

    def __enter__(self):
        self.started = time.monotonic()
        return self.target

    def __exit__(self, *exc):
        self.target.seconds += time.monotonic() - self.started


def table(rows, width=118):
    """The report as a text table: probe, cases tried, failures, worst evidence."""
    header = ("probe", "cases", "failures", "worst evidence")
    name_width = max([len(header[0])] + [len(r["probe"]) for r in rows])
    lines = [f"{header[0]:<{name_width}}  {header[1]:>6}  {header[2]:>8}  {header[3]}",
             f"{'-' * name_width}  {'-' * 6}  {'-' * 8}  {'-' * 14}"]
    for row in rows:
        worst = row["worst"].replace("\n", " ")
        if len(worst) > width:
            worst = worst[:width - 1] + "…"
        failures = str(row["failures"]) + ("" if not row.get("knownLimits") else f" (+{row['knownLimits']}k)")
        lines.append(f"{row['probe']:<{name_width}}  {row['cases']:>6}  {failures:>8}  {worst}")
    total = sum(r["failures"] for r in rows)
    lines.append(f"{len(rows)} probes, {sum(r['cases'] for r in rows)} cases, {total} failures "
                 f"({sum(1 for r in rows if r['failures'])} probes failing); (+Nk) = known limits, not failures")
    return "\n".join(lines)


def report_rows():
    """The probes in the order they ran, the secret scan (which covers the whole run) last."""
    return sorted((p.as_dict() for p in PROBES.values()), key=lambda row: row["probe"].startswith("secrets"))


# pytest hooks, imported by conftest.py: the table at the end of any run that ran a probe, and the report file
# scripts/reliability reads.

def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if PROBES and os.environ.get("XOMIFY_RELIABILITY_TABLE", "1") != "0":
        terminalreporter.section(f"reliability ({MODE} mode, seed {SEED})")
        terminalreporter.write_line(table(report_rows()))


def pytest_sessionfinish(session, exitstatus):
    path = os.environ.get("XOMIFY_RELIABILITY_REPORT")
    if path and PROBES:
        with open(path, "w") as f:
            json.dump({"mode": MODE, "seed": SEED, "probes": report_rows()}, f, indent=1)


# -- answers through nginx --------------------------------------------------------------------------------------

_tls = ssl._create_unverified_context()


def https_exchange(port, request_bytes, timeout=10.0):
    """Sends raw bytes over TLS and reads until the server closes (send `Connection: close`). Returns
    (status, headers as a list of (lower-cased name, value), body, seconds); status None when no answer came."""
    started = time.monotonic()
    data = b""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as plain:
            with _tls.wrap_socket(plain, server_hostname="localhost") as conn:
                conn.sendall(request_bytes)
                while True:
                    chunk = conn.recv(65536)
                    if not chunk:
                        break
                    data += chunk
    except (socket.timeout, TimeoutError):
        return None, [], b"timeout", time.monotonic() - started
    except (ConnectionError, ssl.SSLError, OSError) as error:
        if not data:
            return None, [], f"{type(error).__name__}: {error}".encode(), time.monotonic() - started
    seconds = time.monotonic() - started
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    try:
        status = int(lines[0].split()[1])
    except (IndexError, ValueError):
        return None, [], data[:200], seconds
    headers = []
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers.append((name.strip().lower(), value.strip()))
    if any(n == "transfer-encoding" and "chunked" in v.lower() for n, v in headers):
        body = dechunk(body)
    return status, headers, body, seconds


def dechunk(body):
    out = b""
    while body:
        size_line, _, rest = body.partition(b"\r\n")
        try:
            size = int(size_line.split(b";")[0], 16)
        except ValueError:
            return out + body
        if size == 0:
            break
        out += rest[:size]
        body = rest[size + 2:]
    return out


def ping(rig, timeout=1.0):
    """(answered pong within `timeout`, seconds, what came back) for `GET /ping` through nginx, on a new
    connection."""
    request = b"GET /ping HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    status, _, body, seconds = https_exchange(rig.https_port, request, timeout=timeout + 1)
    return status == 200 and body == b"pong" and seconds <= timeout, seconds, (status, body[:120])


def handler_of(body):
    try:
        return json.loads(body)["error"]["handler"]
    except Exception:  # noqa: BLE001 - not the envelope
        return None


# -- the pool's workers -----------------------------------------------------------------------------------------

WORKER_DIED = re.compile(r'msg="worker died; replacing it" pid=(\d+) reason="?([^"\n]*)"?')
LIBFCGI_ASSERT = re.compile(r"fcgiapp\.c:\d+: [^\n]*Assertion[^\n]*")
CRASHED = re.compile(r"Program crashed: ")


class PoolWatch:
    """What happened to the pool's workers since it was made: pids gone, deaths the supervisor logged (with the
    reason) and libfcgi assertion messages (its allocation checks abort the process)."""

    def __init__(self, rig):
        self.rig = rig
        self.pids = set(rig.worker_pids())
        self.offset = os.path.getsize(rig.pool_log) if os.path.exists(rig.pool_log) else 0

    def new_log(self):
        with open(self.rig.pool_log, errors="replace") as f:
            f.seek(self.offset)
            return f.read()

    def deaths(self):
        return [(int(pid), reason) for pid, reason in WORKER_DIED.findall(self.new_log())]

    def libfcgi_aborts(self):
        return LIBFCGI_ASSERT.findall(self.new_log())

    def gone(self):
        return sorted(self.pids - set(self.rig.worker_pids()))

    def settle(self, timeout=3.0):
        """Waits until the supervisor has logged every death of a worker that is gone, every crash a worker
        announced (libfcgi's assertion, the Swift runtime's "Program crashed") has its death logged, and the pool
        is back to its size (or `timeout`). Returns the deaths. A worker that crashes prints first and dies after
        its backtrace, so a death can come a little after the case that caused it: this keeps it with its case."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            log = self.new_log()
            deaths = WORKER_DIED.findall(log)
            announced = max(len(LIBFCGI_ASSERT.findall(log)), len(CRASHED.findall(log)))
            gone = self.gone()
            logged = {int(pid) for pid, _ in deaths}
            if set(gone) <= logged and announced <= len(deaths) and len(self.rig.worker_pids()) >= self.rig.workers:
                break
            time.sleep(0.02)
        return self.deaths()


def status(rig):
    """The pool's status page through nginx (loopback only)."""
    request = b"GET /status HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    code, _, body, _ = https_exchange(rig.https_port, request, timeout=5)
    return json.loads(body) if code == 200 else {}


def crashes(rig):
    return status(rig).get("pool", {}).get("crashes")


# -- tokens -------------------------------------------------------------------------------------------------------

def _b64(data):
    import base64
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _signed(secret, header, payload, digest="sha256"):
    import hashlib
    import hmac
    head, body = _b64(header), _b64(payload)
    signature = hmac.new(secret.encode(), f"{head}.{body}".encode(), getattr(hashlib, digest)).digest()
    return f"{head}.{body}.{_b64(signature)}"


def bad_tokens(secret, email, user_id="spotify-victim"):
    """Every kind of token SPEC §5.1 refuses, each naming `email` (so that a token bug would act for that user):
    name → the Authorization header's value. With the legacy policy `deny` (the default) each must get 401."""
    now = int(time.time())

    def claims(**extra):
        values = {"email": email, "userId": user_id, "iat": now, "exp": now + 3600}
        values.update(extra)
        return json.dumps(values).encode()

    hs256 = b'{"alg":"HS256","typ":"JWT"}'
    good = _signed(secret, hs256, claims())
    head, body, signature = good.split(".")
    none = _b64(b'{"alg":"none","typ":"JWT"}')
    return {
        "expired (beyond the 60 s leeway)": "Bearer " + _signed(secret, hs256, claims(iat=now - 7200, exp=now - 120)),
        "not yet valid (nbf beyond the leeway)": "Bearer " + _signed(secret, hs256, claims(nbf=now + 180)),
        "alg none, no signature": f"Bearer {none}.{body}.",
        "alg none, the HS256 signature": f"Bearer {none}.{body}.{signature}",
        "alg NONE": "Bearer " + _signed(secret, b'{"alg":"NONE"}', claims()),
        "alg HS512 (signed with HS512)": "Bearer " + _signed(secret, b'{"alg":"HS512"}', claims(), "sha512"),
        "alg HS384 (signed with HS256)": "Bearer " + _signed(secret, b'{"alg":"HS384"}', claims()),
        "alg RS256 (signed with HS256)": "Bearer " + _signed(secret, b'{"alg":"RS256"}', claims()),
        "alg hs256 (lower case)": "Bearer " + _signed(secret, b'{"alg":"hs256"}', claims()),
        "alg missing": "Bearer " + _signed(secret, b'{"typ":"JWT"}', claims()),
        "bad signature (last bytes changed)": f"Bearer {head}.{body}.{signature[:-4]}{'AAAA' if not signature.endswith('AAAA') else 'BBBB'}",
        "signed with another secret": "Bearer " + _signed("another-secret-that-is-long-enough-123", hs256, claims()),
        "empty signature": f"Bearer {head}.{body}.",
        "signature of another payload": f"Bearer {head}.{_b64(claims(userId='x'))}.{signature}",
        "legacy shared token (no email claim) while legacy is denied": "Bearer " + _signed(secret, hs256, json.dumps(
            {"iat": now, "exp": now + 3600}).encode()),
        "legacy shared token with userId only": "Bearer " + _signed(secret, hs256, json.dumps(
            {"userId": user_id, "iat": now}).encode()),
        "valid 8 days (over the 7-day maximum)": "Bearer " + _signed(secret, hs256, claims(exp=now + 8 * 86400)),
        "no exp": "Bearer " + _signed(secret, hs256, json.dumps({"email": email, "userId": user_id, "iat": now}).encode()),
        "exp a string": "Bearer " + _signed(secret, hs256, claims(exp="never")),
        "email claim an array": "Bearer " + _signed(secret, hs256, claims(email=[email])),
        "payload a JSON array": "Bearer " + _signed(secret, hs256, json.dumps([{"email": email}]).encode()),
        "payload not JSON": "Bearer " + _signed(secret, hs256, b"{" + email.encode()),
        "header not JSON": "Bearer " + _signed(secret, b"HS256", claims()),
        "garbage": "Bearer garbage",
        "garbage with dots": "Bearer a.b.c",
        "two segments": f"Bearer {head}.{body}",
        "four segments": f"Bearer {good}.{signature}",
        "padding in base64url": f"Bearer {head}==.{body}.{signature}",
        "standard base64 alphabet": f"Bearer {head}.{body}.{signature.replace('-', '+').replace('_', '/')}+/",
        "non-ASCII": "Bearer " + good[:-2] + "é",
        "empty": "",
        "Bearer alone": "Bearer",
        "Basic scheme": "Basic dXNlcjpwYXNzd29yZA==",
    }


# -- secrets ------------------------------------------------------------------------------------------------------

# The sandbox's Spotify access tokens ("BQ" and 150 base62 characters): none may reach Xomify's own logs.
ACCESS_TOKEN = re.compile(r"BQ[0-9A-Za-z]{100,}")
OWN_LOGS = ("pool.log", "jobs.log", "nginx-error.log", "nginx-access.log", "nginx.log")
_scanned_bodies = [0]


def scan_secrets(rig, where):
    """Records, in the probe "secrets", the scan of every log line of `rig` and every answer received so far
    (api_client's, raw HTTPS, raw FastCGI and the fuzzer's) for refresh tokens, access tokens, bearer tokens,
    the JWT secret and the token key (SPEC §3)."""
    from secret_scan import SCAN
    target = probe("secrets: every log line and answer")
    SCAN.add_rig(rig)
    logs = rig.logs()
    own = ""
    for name in OWN_LOGS:
        path = os.path.join(rig.directory, name)
        if os.path.exists(path):
            with open(path, errors="replace") as f:
                own += f.read()
    leaks = SCAN.leaks_in_bodies() + SCAN.leaks_in_logs(logs)
    leaks += [("Spotify access token", token[:8] + "…") for token in sorted(set(ACCESS_TOKEN.findall(own)))]
    bodies = len(SCAN.bodies)
    target.passed(logs.count("\n") + max(0, bodies - _scanned_bodies[0]))
    _scanned_bodies[0] = bodies
    for kind, prefix in leaks:
        target.failed(where, f"a {kind} ({prefix}) in a log line or an answer", LEAK,
                      f"grep -r {prefix[:-1]!r} {rig.directory}/*.log")
    return leaks


# -- FastCGI: the encoder and reader live in fastcgi_client; reproductions use them through this module ---------

from fastcgi_client import *  # noqa: E402,F401,F403


def python_repro(steps):
    """A minimal reproduction of a raw FastCGI case, as a few lines of Python against the pool's socket."""
    return ("import socket; s = socket.socket(socket.AF_UNIX); s.connect(SOCKET); "
            + "; ".join(steps))


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "table":
        with open(sys.argv[2]) as f:
            report = json.load(f)
        print(f"reliability, {report['mode']} mode, seed {report['seed']}")
        print(table(report["probes"]))
        failing = [p for p in report["probes"] if p["failures"]]
        for row in failing:
            print(f"\n{row['probe']}: {row['failures']} of {row['cases']} cases failed")
            for detail in row["details"][:8]:
                print(f"  - [{detail['severity']}] {detail['case']}: {detail['evidence'][:400]}")
                if detail["reproduction"]:
                    print("      reproduce: " + detail["reproduction"][:600].replace("\n", "\n      "))
        sys.exit(1 if failing else 0)
    print(__doc__)
    sys.exit(64)

"""The test rig: real PostgreSQL, the real pool behind a real nginx, and the Spotify sandbox, each on free
loopback ports under one run directory, and all of it stopped and removed afterwards (even when a test fails).

Used by the integration tests (as pytest fixtures), by the Swift client tests (through `rig.py serve`) and by
scripts/run (with a persistent directory and fixed ports)."""

import base64
import contextlib
import hashlib
import hmac
import json
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PG_BIN = os.environ.get("XOMIFY_PG_BIN", "/usr/lib/postgresql/15/bin")
IS_ROOT = os.geteuid() == 0


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(predicate, timeout, interval=0.05, what="condition"):
    deadline = time.monotonic() + timeout
    last_error = None
    while time.monotonic() < deadline:
        try:
            if predicate():
                return
        except Exception as error:  # noqa: BLE001 - the predicate may fail while a service starts
            last_error = error
        time.sleep(interval)
    raise TimeoutError(f"timed out waiting for {what}" + (f": {last_error}" if last_error else ""))


def bin_dir():
    """Where the built executables are: XOMIFY_BIN_DIR, else SwiftPM's debug folder."""
    configured = os.environ.get("XOMIFY_BIN_DIR")
    if configured:
        return configured
    return os.path.join(REPO, ".build", "debug")


class Postgres:
    """A PostgreSQL 15 cluster in `directory`, on a free port; run as the postgres user when we are root."""

    def __init__(self, directory, port=None, durable=False, settings=None):
        # The real path: run/postgres may be a link to a place the postgres user can reach (scripts/run).
        self.directory = os.path.realpath(directory)
        # Tests trade durability for speed; a cluster kept between runs (scripts/run) does not.
        self.durable = durable
        # Server settings (-c) over the defaults of `start`: the API benchmark sizes shared_buffers to its data,
        # the jobs benchmark loads pg_stat_statements.
        self.settings = dict(settings or {})
        self.data = os.path.join(self.directory, "data")
        self.port = port or free_port()
        self.log = os.path.join(self.directory, "postgres.log")

    def _run(self, args, **kwargs):
        if IS_ROOT:
            args = ["runuser", "-u", "postgres", "--"] + args
        return subprocess.run(args, check=True, capture_output=True, text=True, **kwargs)

    def init(self):
        os.makedirs(self.directory, exist_ok=True)
        if IS_ROOT:
            pw = pwd.getpwnam("postgres")
            os.chown(self.directory, pw.pw_uid, pw.pw_gid)
        if not os.path.exists(os.path.join(self.data, "PG_VERSION")):
            self._run([f"{PG_BIN}/initdb", "-D", self.data, "-A", "trust", "-U", "postgres", "-E", "UTF8",
                       "--locale=C.UTF-8"])
        return self

    def start(self):
        settings = {"listen_addresses": "127.0.0.1", "max_connections": "200", "shared_buffers": "128MB"}
        if not self.durable:
            settings.update(fsync="off", synchronous_commit="off", full_page_writes="off")
        settings.update(self.settings)
        options = f"-p {self.port} -k {self.directory} " + " ".join(f"-c {k}={v}" for k, v in settings.items())
        self._run([f"{PG_BIN}/pg_ctl", "-D", self.data, "-o", options, "-l", self.log, "-w", "-t", "60", "start"])
        return self

    def stop(self, mode="fast"):
        with contextlib.suppress(subprocess.CalledProcessError):
            self._run([f"{PG_BIN}/pg_ctl", "-D", self.data, "-m", mode, "-w", "-t", "60", "stop"])

    def create_database(self, name):
        result = self.psql(f"SELECT 1 FROM pg_database WHERE datname = '{name}'", database="postgres")
        if not result.strip():
            self.psql(f"CREATE DATABASE {name}", database="postgres")

    def conninfo(self, database):
        """Over the cluster's unix socket, as a local deployment would (cheaper than TCP loopback)."""
        return f"host={self.directory} port={self.port} dbname={database} user=postgres"

    def psql(self, sql, database="xomify"):
        """Runs SQL and returns psql's unaligned, tuples-only output."""
        result = subprocess.run(["psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1",
                                 "-p", str(self.port), "-U", "postgres", "-d", database, "-c", sql],
                                check=True, capture_output=True, text=True)
        return result.stdout

    def rows(self, sql, database="xomify"):
        """Rows as lists of strings (fields separated by psql's default |)."""
        output = self.psql(sql, database)
        return [line.split("|") for line in output.splitlines() if line]

    @contextlib.contextmanager
    def transaction_holding(self, sql, database="xomify"):
        """A session that has begun a transaction, run `sql` (a lock to hold) and waits, until `commit()` is
        called on what this yields or the block ends (then it is rolled back, or killed)."""
        session = subprocess.Popen(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1",
                                    "-p", str(self.port), "-U", "postgres", "-d", database],
                                   stdin=subprocess.PIPE, text=True)

        class Held:
            @staticmethod
            def commit():
                session.stdin.write("COMMIT;\n")
                session.stdin.close()
                session.wait(30)

        try:
            session.stdin.write(f"BEGIN; {sql};\n")
            session.stdin.flush()
            wait_until(lambda: self.psql(f"""SELECT count(*) FROM pg_stat_activity
                                             WHERE state = 'idle in transaction' AND backend_type = 'client backend'
                                               AND query LIKE {quote_literal(sql + '%')}""").strip() == "1",
                       30, what="the transaction holding its lock")
            yield Held
        finally:
            if session.poll() is None:
                session.kill()
                session.wait()


def quote_literal(text):
    """A SQL string literal of `text`."""
    return "'" + text.replace("'", "''") + "'"


class Sandbox:
    """The Spotify sandbox (Tests/SpotifySandbox/sandbox.py) on a free port."""

    def __init__(self, directory, args=(), port=0, start_timeout=30):
        self.directory = directory
        self.args = list(args)
        self.port = port
        # A large catalogue (thousands of users) takes longer than 30 s to generate on a busy machine.
        self.start_timeout = start_timeout
        self.process = None
        # Calls to endpoints Spotify removed (SPEC §6), over the sandbox's whole life: stats resets included.
        self.gone_calls = 0

    def start(self):
        port_file = os.path.join(self.directory, "sandbox.port")
        with contextlib.suppress(FileNotFoundError):
            os.remove(port_file)
        log = open(os.path.join(self.directory, "sandbox.log"), "ab")
        self.process = subprocess.Popen(
            [sys.executable, os.path.join(REPO, "Tests", "SpotifySandbox", "sandbox.py"), "--port", str(self.port),
             "--port-file", port_file] + self.args, stdout=log, stderr=log)
        wait_until(lambda: os.path.exists(port_file) and open(port_file).read().strip(), self.start_timeout,
                   what="the sandbox")
        self.port = int(open(port_file).read().strip())
        return self

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def get(self, path):
        with urllib.request.urlopen(self.url + path, timeout=30) as response:
            return json.loads(response.read())

    def post(self, path, body=None):
        if path.rstrip("/") in ("/_sandbox/reset-stats", "/_sandbox/reset"):
            self.gone_calls += self.get("/_sandbox/stats")["gone"]
        request = urllib.request.Request(self.url + path, data=json.dumps(body or {}).encode(), method="POST",
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as response:
            data = response.read()
            return json.loads(data) if data else None

    def total_gone_calls(self):
        """Gone-endpoint calls so far (counted before any stats reset)."""
        if self.process and self.process.poll() is None:
            return self.gone_calls + self.get("/_sandbox/stats")["gone"]
        return self.gone_calls

    def stop(self):
        if self.process and self.process.poll() is None:
            with contextlib.suppress(Exception):
                self.gone_calls += self.get("/_sandbox/stats")["gone"]
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def make_jwt(secret, claims, header=None):
    """An HS256 token (or any header the test wants, with an HS256 signature)."""
    def b64(data):
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()
    head = b64(json.dumps(header or {"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    body = b64(json.dumps(claims, separators=(",", ":")).encode())
    signature = hmac.new(secret.encode(), f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{b64(signature)}"


class Rig:
    """The whole system on loopback. `settings` are extra XOMIFY_* settings for the pool and the jobs."""

    def __init__(self, directory=None, keep=False, workers=2, threads=4, settings=None, sandbox=True,
                 sandbox_args=(), https_port=None, postgres_port=None, sandbox_port=0, durable=False,
                 postgres_settings=None, extra_pools=0, upstream_options="", sandbox_start_timeout=30):
        self.owned_directory = directory is None
        self.directory = directory or tempfile.mkdtemp(prefix="xomify-rig-")
        os.chmod(self.directory, 0o755)
        # XOMIFY_KEEP_RIGS=1 keeps every rig's directory (logs, cluster) for a post-mortem.
        self.keep = keep or os.environ.get("XOMIFY_KEEP_RIGS") == "1"
        self.workers = workers
        self.threads = threads
        self.extra_settings = dict(settings or {})
        self.https_port = https_port or free_port()
        self.postgres = Postgres(os.path.join(self.directory, "postgres"), port=postgres_port, durable=durable,
                                 settings=postgres_settings)
        self.sandbox = (Sandbox(self.directory, sandbox_args, port=sandbox_port, start_timeout=sandbox_start_timeout)
                        if sandbox else None)
        self.pool = None
        self.nginx = None
        self.socket = os.path.join(self.directory, "api.sock")
        self.pool_log = os.path.join(self.directory, "pool.log")
        # Further pools behind the same nginx upstream, on sockets of their own: hosts, in a deployment
        # (SPEC §11). `upstream_options` follow every server line (max_fails=..., fail_timeout=...).
        self.extra_sockets = [os.path.join(self.directory, f"api-{n}.sock") for n in range(2, extra_pools + 2)]
        self.extra_pools = [None] * extra_pools
        self.upstream_options = upstream_options
        self.jwt_secret = None
        self.started = []

    # -- secrets and settings ------------------------------------------------------------------------

    def _write_secret(self, name, content):
        path = os.path.join(self.directory, "secrets", name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        if not os.path.exists(path):
            with open(path, "w") as f:
                f.write(content)
            os.chmod(path, 0o600)
        return path

    def _prepare_secrets(self):
        self.jwt_secret_file = self._write_secret("jwt-secret", secrets.token_urlsafe(48) + "\n")
        self.token_key_file = self._write_secret("token-key", base64.b64encode(secrets.token_bytes(32)).decode() + "\n")
        self.client_secret_file = self._write_secret("spotify-client-secret", "sandbox-secret\n")
        self.jwt_secret = open(self.jwt_secret_file).read().strip()

    def settings(self, **overrides):
        """The environment the executables run with (no configuration file)."""
        env = dict(os.environ)
        env.update({
            "XOMIFY_CONFIG": os.path.join(self.directory, "xomify.conf"),
            "XOMIFY_DATABASE_URL": self.postgres.conninfo("xomify"),
            "XOMIFY_LISTEN": self.socket,
            "XOMIFY_WORKERS": str(self.workers),
            "XOMIFY_THREADS": str(self.threads),
            "XOMIFY_JWT_SECRET_FILE": self.jwt_secret_file,
            "XOMIFY_TOKEN_KEY_FILE": self.token_key_file,
            "XOMIFY_SPOTIFY_CLIENT_ID": "sandbox-client",
            "XOMIFY_SPOTIFY_CLIENT_SECRET_FILE": self.client_secret_file,
            "XOMIFY_SQL_DIR": os.path.join(REPO, "sql"),
            "XOMIFY_ASSETS_DIR": os.path.join(REPO, "assets"),
            "XOMIFY_LOG_LEVEL": "info",
            # The answer files as deployed (systemd's CacheDirectory), here in the run directory.
            "XOMIFY_ANSWER_FILES_DIR": os.path.join(self.directory, "answers"),
        })
        if self.sandbox:
            env["XOMIFY_SPOTIFY_API_URL"] = self.sandbox.url
            env["XOMIFY_SPOTIFY_ACCOUNTS_URL"] = self.sandbox.url
        env.update(self.extra_settings)
        env.update({k: str(v) for k, v in overrides.items()})
        return env

    # -- lifecycle -----------------------------------------------------------------------------------

    def start(self, pool=True, nginx=True):
        try:
            self._prepare_secrets()
            with open(os.path.join(self.directory, "xomify.conf"), "w") as f:
                f.write("# Written by the test rig; settings come from the environment.\n")
            self.postgres.init().start()
            self.started.append(self.postgres.stop)
            self.postgres.create_database("xomify")
            if self.sandbox:
                self.sandbox.start()
                self.started.append(self.sandbox.stop)
            self.migrate()
            if pool:
                self.start_pool()
                for index in range(len(self.extra_pools)):
                    self.start_extra_pool(index)
            if nginx:
                self.start_nginx()
            return self
        except BaseException:
            self.close()
            raise

    def migrate(self, **overrides):
        """Migrates over the cluster's own socket, even when `settings` route the pool and the jobs elsewhere
        (a fault-injecting proxy, test_write_outcomes.py); `overrides` may still name another database."""
        direct = {"XOMIFY_DATABASE_URL": self.postgres.conninfo("xomify")}
        direct.update(overrides)
        return subprocess.run([os.path.join(bin_dir(), "xomify-api"), "migrate"], env=self.settings(**direct),
                              check=True, capture_output=True, text=True, timeout=120)

    def start_pool(self, **overrides):
        log = open(self.pool_log, "ab")
        self.pool = subprocess.Popen([os.path.join(bin_dir(), "xomify-api")], env=self.settings(**overrides),
                                     stdout=log, stderr=log)
        self.started.append(self.stop_pool)
        wait_until(lambda: os.path.exists(self.socket) or self.pool.poll() is not None, 30, what="the pool socket")
        if self.pool.poll() is not None:
            raise RuntimeError(f"the pool exited with {self.pool.returncode}; see {self.pool_log}")
        wait_until(lambda: len(self.worker_pids()) >= self.workers, 30, what="the pool's workers")
        return self.pool

    def stop_pool(self, sig=signal.SIGTERM, timeout=30):
        if self.pool and self.pool.poll() is None:
            self.pool.send_signal(sig)
            try:
                self.pool.wait(timeout)
            except subprocess.TimeoutExpired:
                self.pool.kill()
                self.pool.wait()

    def worker_pids(self, pool=None):
        """The worker processes (children of the supervisor) of `pool`, by default this rig's first pool."""
        pool = pool or self.pool
        if not pool:
            return []
        try:
            with open(f"/proc/{pool.pid}/task/{pool.pid}/children") as f:
                return [int(pid) for pid in f.read().split()]
        except FileNotFoundError:
            return []

    def start_extra_pool(self, index, **overrides):
        """Starts the extra pool `index` on its own socket, in a process group of its own (so that a test can
        take the whole "host" away at once: `os.killpg`). A socket file left by a pool that was killed is
        removed first, as a restarted host would start with none."""
        path = self.extra_sockets[index]
        with contextlib.suppress(FileNotFoundError):
            os.remove(path)
        log = open(os.path.join(self.directory, f"pool-{index + 2}.log"), "ab")
        settings = {"XOMIFY_LISTEN": path}
        settings.update(overrides)
        process = subprocess.Popen([os.path.join(bin_dir(), "xomify-api")], env=self.settings(**settings),
                                   stdout=log, stderr=log, start_new_session=True)
        if self.extra_pools[index] is None:
            self.started.append(lambda: self.stop_extra_pool(index))
        self.extra_pools[index] = process
        wait_until(lambda: os.path.exists(path) or process.poll() is not None, 30, what="the extra pool's socket")
        if process.poll() is not None:
            raise RuntimeError(f"the extra pool exited with {process.returncode}; see its log in {self.directory}")
        wait_until(lambda: len(self.worker_pids(process)) >= self.workers, 30, what="the extra pool's workers")
        return process

    def stop_extra_pool(self, index):
        process = self.extra_pools[index]
        if process and process.poll() is None:
            process.terminate()
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()

    def upstream_servers(self):
        """The server lines of nginx's upstream: this rig's pool, then the extra pools."""
        options = f" {self.upstream_options}" if self.upstream_options else ""
        return "".join(f"        server unix:{path}{options};\n" for path in [self.socket] + self.extra_sockets)

    def start_nginx(self):
        tls = os.path.join(self.directory, "tls")
        os.makedirs(tls, exist_ok=True)
        if not os.path.exists(os.path.join(tls, "cert.pem")):
            subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "30",
                            "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
                            "-keyout", os.path.join(tls, "key.pem"), "-out", os.path.join(tls, "cert.pem")],
                           check=True, capture_output=True)
        for sub in ("body", "fastcgi", "proxy", "uwsgi", "scgi"):
            os.makedirs(os.path.join(self.directory, "nginx-temp", sub), exist_ok=True)
        template = open(os.path.join(REPO, "nginx", "xomify-test.conf.template")).read()
        config = (template
                  .replace("{{USER_DIRECTIVE}}", "user root root;" if IS_ROOT else "")
                  .replace("{{RUN_DIR}}", self.directory)
                  .replace("{{NGINX_DIR}}", os.path.join(REPO, "nginx"))
                  .replace("{{HTTPS_PORT}}", str(self.https_port))
                  .replace("{{UPSTREAM_SERVERS}}", self.upstream_servers())
                  .replace("{{ACCESS_LOG}}", os.path.join(self.directory, "nginx-access.log") + " xomify")
                  .replace("{{EXTRA_SERVERS}}", self.extra_nginx_servers()))
        path = os.path.join(self.directory, "nginx.conf")
        with open(path, "w") as f:
            f.write(config)
        log = open(os.path.join(self.directory, "nginx.log"), "ab")
        self.nginx = subprocess.Popen(["nginx", "-c", path, "-p", self.directory], stdout=log, stderr=log)
        self.started.append(self.stop_nginx)
        wait_until(lambda: self._port_open(self.https_port) or self.nginx.poll() is not None, 30, what="nginx")
        if self.nginx.poll() is not None:
            raise RuntimeError(f"nginx exited; see {self.directory}/nginx-error.log")

    def extra_nginx_servers(self):
        """Further server blocks (benchmarks put their C baselines behind the same nginx)."""
        return ""

    def stop_nginx(self):
        if self.nginx and self.nginx.poll() is None:
            self.nginx.send_signal(signal.SIGQUIT)
            try:
                self.nginx.wait(10)
            except subprocess.TimeoutExpired:
                self.nginx.kill()
                self.nginx.wait()

    @staticmethod
    def _port_open(port):
        with socket.socket() as s:
            s.settimeout(0.2)
            return s.connect_ex(("127.0.0.1", port)) == 0

    def close(self):
        for stop in reversed(self.started):
            with contextlib.suppress(Exception):
                stop()
        self.started.clear()
        if self.owned_directory and not self.keep:
            shutil.rmtree(self.directory, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.close()

    # -- helpers -------------------------------------------------------------------------------------

    @property
    def base_url(self):
        return f"https://127.0.0.1:{self.https_port}"

    def token(self, email, user_id="spotify-user", lifetime=3600, **extra):
        now = int(time.time())
        claims = {"email": email, "userId": user_id, "iat": now, "exp": now + lifetime}
        claims.update(extra)
        return make_jwt(self.jwt_secret, claims)

    def run_job(self, name, *args, timeout=600, **overrides):
        """Runs a job executable to completion; returns the CompletedProcess. Its output is also kept in
        jobs.log, with the other logs the secret scan reads."""
        result = subprocess.run([os.path.join(bin_dir(), name)] + list(args), env=self.settings(**overrides),
                                capture_output=True, text=True, timeout=timeout)
        with open(os.path.join(self.directory, "jobs.log"), "a") as log:
            log.write(result.stdout + result.stderr)
        return result

    def job_log(self):
        """A file for the output of a job started in the background (the secret scan reads it)."""
        return open(os.path.join(self.directory, "jobs.log"), "a")

    def logs(self):
        """Everything the pool, nginx and the jobs wrote, for scans (secrets must never appear)."""
        text = ""
        for name in os.listdir(self.directory):
            if name.endswith(".log"):
                with open(os.path.join(self.directory, name), errors="replace") as f:
                    text += f.read()
        return text

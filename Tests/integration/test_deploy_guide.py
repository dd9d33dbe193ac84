"""docs/DEPLOY.md, run as written (SPEC §10).

The guide's commands are kept in scripts/deploy-steps.sh, one function per numbered step, and the guide shows
each function's body verbatim after a `<!-- deploy-steps.sh: step_NN_name -->` marker: the first test fails
when the guide and the script differ in any step, its order or its text.

The rest run the steps, in order and in one root shell (so a `cd` or a `umask` a step leaves behind is seen
by the steps after it), on a scratch root: a temporary directory standing for / of a fresh Debian 12 host,
entered with private mount and network namespaces (deploy_guide/enter.sh). There /usr is the CI machine's,
read-only, and /etc a copy of its own without any cluster or Xomify file; /usr/local, /var, /run are empty;
the host has its own loopback and one "public" address (192.0.2.10), so nginx binds ports 80 and 443 and
PostgreSQL 5432 without meeting anything else on the machine. Where a fresh host has systemd as PID 1, this
one has a stand-in (deploy_guide/emulator.py: the socket on fd 0, LoadCredential= through a credentials
directory, EnvironmentFile=, User=, ExecStartPre=/ExecReload=, journalctl, systemd-run --pipe), and where it
would download (apt-get, the Swift toolchain) or compile for minutes (`swift build -c release`), stand-ins
record the packages named and copy the executables scripts/test built (deploy_guide/shim.py). The only
configuration the test adds is /etc/xomify/xomify.env, the override file the guide describes, pointing the
services at the Spotify sandbox (Tests/SpotifySandbox), which runs inside the same network namespace.

Then it checks what an operator would, and what the issue's eleven points were about: HTTPS /ping and
/health with the self-signed certificate before DNS; an authenticated /wrapped/data with a token from
`xomify-api mint-token`, and its 304; /status refused from the host's public address; `systemd-analyze
verify` on every installed unit; the executables installed being those the units start; files and modes;
the shell left as found after every step; every command run coming from a package the guide installs; one run
of each job against the sandbox; a reload checked first (and refused for a replaced binary); an upgrade that
brings a migration, an asset and nginx changes; the three secret rotations; a backup restored into a fresh
cluster answering the same ETags; and the removal."""

import base64
import glob
import grp
import json
import os
import pwd
import queue
import re
import shlex
import shutil
import signal
import stat
import subprocess
import tempfile
import threading
import time

import pytest

from xomify_rig import IS_ROOT, REPO, bin_dir, make_jwt, wait_until

GUIDE = os.path.join(REPO, "docs", "DEPLOY.md")
STEPS = os.path.join(REPO, "scripts", "deploy-steps.sh")
HERE = os.path.join(REPO, "Tests", "integration", "deploy_guide")
ENTER = os.path.join(HERE, "enter.sh")
SHIM = os.path.join(HERE, "shim.py")
PROBE = os.path.join(HERE, "probe.py")
BASE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
PROGRAMS = sorted(["xomify-api", "xomify-wrapped", "xomify-release-radar"])
API_HOST = "api.example.com"
PUBLIC_ADDRESS = "192.0.2.10"
SANDBOX_SECRET = "sandbox-secret"
# The three values of step 0, for this host (API_HOST is kept: --resolve makes any name work before DNS).
SETTINGS = {"SOURCE_URL": "/srv/xomify-origin", "SPOTIFY_CLIENT_ID": "sandbox-client"}
MARKER = re.compile(r"<!-- deploy-steps\.sh: (step_\w+) -->\n```sh\n(.*?)\n```", re.S)


# ---- the guide and the script ------------------------------------------------------------------------------

def script_steps():
    text = open(STEPS).read()
    return re.findall(r"(?ms)^(step_\w+)\(\) \{\n(.*?)\n\}$", text)


def guide_steps():
    return MARKER.findall(open(GUIDE).read())


def test_the_guide_shows_every_step_of_the_script_verbatim():
    script, guide = script_steps(), guide_steps()
    assert [name for name, _ in script], "no step in scripts/deploy-steps.sh"
    assert [name for name, _ in guide] == [name for name, _ in script], \
        "docs/DEPLOY.md must show every step of scripts/deploy-steps.sh once, in the script's order"
    for (name, shown), (_, kept) in zip(guide, script):
        assert shown == kept, f"{name}: the guide's block differs from scripts/deploy-steps.sh"
    assert "scripts/deploy-steps.sh" in open(GUIDE).read()
    check = subprocess.run(["bash", "-n", STEPS], capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
    listed = subprocess.run(["bash", STEPS, "list"], capture_output=True, text=True)
    assert listed.stdout.split() == [name for name, _ in script]


def test_the_guide_never_sends_the_reader_to_sudo_or_an_editor():
    """Every step runs as written in a root shell: `sudo cd` and `sudo cmd > file` cannot work (issue point 4),
    and an editor session is not a command that runs as written."""
    text = open(GUIDE).read()
    assert "prefix it with `sudo`" not in text and "or prefix it with sudo" not in text
    for name, block in guide_steps():
        assert not re.search(r"(?m)^\s*(sudo|editor|nano|vi|vim)\b", block), name


# ---- the scratch host ----------------------------------------------------------------------------------------

class ScratchHost:
    """A fresh Debian 12 host in a temporary directory, entered through namespaces (see the module's text)."""

    def __init__(self):
        self.root = tempfile.mkdtemp(prefix="xomify-host-")
        os.chmod(self.root, 0o755)
        self.holder = None
        self.pid = None
        self.shell = None
        self.output = queue.Queue()
        self.transcript = []
        self.steps = {}
        self.sandbox = None
        self.namespace = None

    def path(self, *parts):
        """A path inside the host, as seen from outside (real directories, not the namespace's mounts)."""
        joined = os.path.join(*parts).lstrip("/")
        if joined.startswith("usr/local"):
            joined = ".usr-local" + joined[len("usr/local"):]
        return os.path.join(self.root, joined)

    # -- making it ---------------------------------------------------------------------------------------

    def prepare(self):
        root = self.root
        for name in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
            if os.path.islink(f"/{name}"):
                os.symlink(os.readlink(f"/{name}"), os.path.join(root, name))
            elif os.path.isdir(f"/{name}"):
                pytest.fail(f"/{name} is a directory: this test expects Debian 12's merged /usr")
        for name in ("usr", "proc", "dev", "sys", "home", "srv", "mnt", "media", "var/lib/dpkg", "var/lib/apt",
                     "var/cache/apt", "var/lib/nginx", "var/log/nginx", "var/www/html", "var/backups",
                     "var/cache", "var/spool", "var/lib/misc", "opt/swift/usr/lib", "opt/swift/usr/bin",
                     "run/xomify-test", "run/systemd-emulated"):
            os.makedirs(os.path.join(root, name), exist_ok=True)
        for name, mode in (("tmp", 0o1777), ("var/tmp", 0o1777), ("run/lock", 0o1777), ("root", 0o700)):
            os.makedirs(os.path.join(root, name), exist_ok=True)
            os.chmod(os.path.join(root, name), mode)
        os.symlink("../run", os.path.join(root, "var/run"))
        os.symlink("../run/lock", os.path.join(root, "var/lock"))
        local = os.path.join(root, ".usr-local")
        for name in ("bin", "etc", "games", "include", "lib", "sbin", "share", "src"):
            os.makedirs(os.path.join(local, name))
        os.symlink("share/man", os.path.join(local, "man"))
        # /etc: the CI machine's, without what a fresh host does not have yet.
        shutil.copytree("/etc", os.path.join(root, "etc"), symlinks=True)
        for leftover in glob_paths(root, "etc/postgresql/*", "etc/xomify", "etc/systemd/system/xomify-*",
                                   "etc/nginx/sites-*/xomify", "etc/nginx/xomify", "etc/ssl/xomify"):
            shutil.rmtree(leftover) if os.path.isdir(leftover) and not os.path.islink(leftover) else os.remove(leftover)
        postgres = pwd.getpwnam("postgres")
        for name, owner, group, mode in (("var/lib/postgresql", postgres.pw_uid, postgres.pw_gid, 0o755),
                                         ("var/log/postgresql", 0, postgres.pw_gid, 0o1775),
                                         ("run/postgresql", postgres.pw_uid, postgres.pw_gid, 0o2775)):
            os.makedirs(os.path.join(root, name), exist_ok=True)
            os.chown(os.path.join(root, name), owner, group)
            os.chmod(os.path.join(root, name), mode)
        os.chown(os.path.join(root, "var/log/nginx"), 0, grp.getgrnam("adm").gr_gid)
        os.symlink(SHIM, os.path.join(root, "opt/swift/usr/bin/swift"))
        os.makedirs(root + REPO, exist_ok=True)
        if not os.path.realpath(bin_dir()).startswith(REPO + "/"):
            os.makedirs(root + bin_dir(), exist_ok=True)
        version = subprocess.run(["/opt/swift/usr/bin/swift", "--version"], capture_output=True, text=True)
        with open(os.path.join(root, "run/xomify-test/config.json"), "w") as f:
            json.dump({"bin_dir": os.path.realpath(bin_dir()),
                       "swift_version": (version.stdout + version.stderr).strip()}, f)
        self.make_origin()
        return self

    def make_origin(self):
        """The repository the guide clones (SOURCE_URL): the working tree as it is, committed."""
        origin = os.path.join(self.root, "srv", "xomify-origin")
        files = subprocess.run(["git", "-C", REPO, "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                               capture_output=True, check=True).stdout.decode().split("\0")
        for name in filter(None, files):
            source = os.path.join(REPO, name)
            if os.path.isfile(source):
                os.makedirs(os.path.dirname(os.path.join(origin, name)), exist_ok=True)
                shutil.copy2(source, os.path.join(origin, name))
        self.git("init", "-q", "-b", "main")
        self.commit("the code to deploy")

    def git(self, *args):
        return subprocess.run(["git", "-C", os.path.join(self.root, "srv", "xomify-origin"),
                               "-c", "user.name=Deploy Test", "-c", "user.email=deploy@xomify.test"] + list(args),
                              capture_output=True, text=True, check=True)

    def commit(self, message):
        self.git("add", "-A")
        self.git("commit", "-q", "-m", message)

    def boot(self):
        self.holder = subprocess.Popen(["unshare", "--mount", "--net", "--propagation", "private", "--fork", "--",
                                        "/bin/sh", ENTER, self.root, REPO, os.path.realpath(bin_dir())],
                                       stdout=open(os.path.join(self.root, "run/xomify-test/enter.log"), "ab"),
                                       stderr=subprocess.STDOUT)
        pid_file = os.path.join(self.root, "run/xomify-test/emulator.pid")
        control = os.path.join(self.root, "run/xomify-test/emulator.sock")
        wait_until(lambda: (os.path.exists(pid_file) and os.path.exists(control)) or self.holder.poll() is not None,
                   30, what="the scratch host's systemd stand-in")
        if self.holder.poll() is not None:
            pytest.fail("the scratch host did not start (needs root and mount/network namespaces): "
                        + open(os.path.join(self.root, "run/xomify-test/enter.log")).read())
        self.pid = int(open(pid_file).read())
        self.namespace = os.readlink(f"/proc/{self.pid}/ns/mnt")
        return self

    def inside(self, argv, input=None, timeout=120, check=True, env=None):
        """Runs a command inside the host, as root, with a clean environment."""
        environment = [f"PATH={BASE_PATH}", "HOME=/root"] + [f"{k}={v}" for k, v in (env or {}).items()]
        result = subprocess.run(["nsenter", "-t", str(self.pid), "-m", "-n", "-r", "-w", "--",
                                 "/usr/bin/env", "-i"] + environment + list(argv),
                                input=input, capture_output=True, text=True, timeout=timeout)
        if check and result.returncode != 0:
            raise AssertionError(f"{argv} exited {result.returncode}:\n{result.stdout}\n{result.stderr}")
        return result

    def spawn_inside(self, argv, log):
        return subprocess.Popen(["nsenter", "-t", str(self.pid), "-m", "-n", "-r", "-w", "--",
                                 "/usr/bin/env", "-i", f"PATH={BASE_PATH}"] + list(argv),
                                stdout=open(log, "ab"), stderr=subprocess.STDOUT)

    # -- the operator's shell --------------------------------------------------------------------------------

    def open_shell(self):
        """A root login shell on the host (bash, HOME=/root, umask 022, in /root), in which every step runs.
        `set -e` makes a failing command end the run; the DEBUG trap records every command run, for the check
        that each comes from a package the guide installs."""
        self.shell = subprocess.Popen(
            ["nsenter", "-t", str(self.pid), "-m", "-n", "-r", "-w", "--", "/usr/bin/env", "-i", "HOME=/root",
             "USER=root", "LOGNAME=root", "SHELL=/bin/bash", f"PATH={BASE_PATH}", "TERM=dumb",
             "/bin/bash", "--noprofile", "--norc"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)

        def pump():
            for raw in iter(self.shell.stdout.readline, b""):
                self.output.put(raw.decode("utf-8", "replace"))
            self.output.put(None)
        threading.Thread(target=pump, daemon=True).start()
        self.send("exec 2>&1; cd /root; umask 0022; set -eT\n"
                  "trap 'printf \"%s\\0\" \"$BASH_COMMAND\" >> /run/xomify-test/commands.log' DEBUG\n"
                  f"source {shlex.quote(STEPS)}\n"
                  "echo @@ready\n")
        self.collect("@@ready", 30, "the shell")

    def send(self, text):
        self.shell.stdin.write(text.encode())
        self.shell.stdin.flush()

    def collect(self, marker, timeout, what):
        lines, deadline = [], time.monotonic() + timeout
        while True:
            try:
                line = self.output.get(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"{what}: no end after {timeout} s; output:\n{''.join(lines)}") from None
            if line is None:
                raise AssertionError(f"{what}: the shell ended (a command failed under set -e); output:\n"
                                     + "".join(lines))
            if line.startswith(marker):
                return lines, line
            lines.append(line)

    def step(self, name, typed=None, timeout=180):
        """Runs one step of the guide in the shell; `typed` is what the operator types at its prompt. Returns
        its output; records where the shell was left (directory, umask)."""
        redirect = f" <<< {shlex.quote(typed)}" if typed is not None else " < /dev/null"
        self.send(f"{name}{redirect}\nprintf '@@done %s %s %s\\n' \"$?\" \"$PWD\" \"$(umask)\"\n")
        lines, end = self.collect("@@done", timeout, name)
        status, directory, umask = end.split()[1:]
        output = "".join(lines)
        self.steps[name] = {"status": int(status), "directory": directory, "umask": umask, "output": output}
        self.transcript.append(f"==> {name}\n{output}")
        assert int(status) == 0, f"{name} exited {status}:\n{output}"
        return output

    def set_variables(self, values):
        self.send("".join(f"{k}={shlex.quote(v)}\n" for k, v in values.items()) + "echo @@set\n")
        self.collect("@@set", 10, "setting variables")

    # -- helpers -----------------------------------------------------------------------------------------------

    def https(self, path, token=None, headers=None, method="GET", body=None, source=None, address="127.0.0.1"):
        headers = dict(headers or {})
        if token:
            headers["Authorization"] = f"Bearer {token}"
        request = {"method": method, "url": f"https://{API_HOST}{path}", "headers": headers, "body": body,
                   "cacert": "/etc/ssl/xomify/fullchain.pem", "connect": address, "source": source}
        answer = json.loads(self.inside(["/usr/bin/python3", PROBE, json.dumps(request)]).stdout)
        return answer["status"], answer["headers"], answer["body"]

    def sandbox_call(self, method, path, body=None):
        request = {"method": method, "url": f"http://127.0.0.1:{self.sandbox_port}{path}", "headers":
                   {"Content-Type": "application/json"}, "body": json.dumps(body) if body is not None else None}
        answer = json.loads(self.inside(["/usr/bin/python3", PROBE, json.dumps(request)]).stdout)
        assert answer["status"] == 200, answer
        return json.loads(answer["body"]) if answer["body"] else None

    def mint(self, email, ttl="10m"):
        """A token from `xomify-api mint-token`, run as the guide runs it (step 12)."""
        result = self.inside(["systemd-run", "--quiet", "--wait", "--pipe", "--uid=xomify",
                              "-p", "EnvironmentFile=-/etc/xomify/xomify.env",
                              "-p", "LoadCredential=jwt-secret:/etc/xomify/credentials/jwt-secret",
                              "/usr/local/bin/xomify-api", "mint-token", email, "--ttl", ttl])
        return result.stdout.strip()

    def psql(self, sql):
        return self.inside(["runuser", "-u", "postgres", "--", "psql", "-X", "-q", "-A", "-t", "-d", "xomify",
                            "-v", "ON_ERROR_STOP=1", "-c", sql]).stdout.strip()

    def systemctl(self, *args, check=True):
        return self.inside(["systemctl"] + list(args), check=check)

    def exec_service(self, unit, *args):
        """The test's own run of a job's service with extra arguments (a period of its choice)."""
        return self.inside(["/usr/bin/python3", SHIM, "exec-service", unit] + list(args), check=False, timeout=300)

    def journal(self, *units):
        args = ["journalctl", "--no-pager"]
        for unit in units:
            args += ["-u", unit]
        return self.inside(args).stdout

    def supervisor_pid(self):
        status = self.systemctl("status", "--no-pager", "xomify-api.service").stdout
        return int(re.search(r"Main PID: (\d+)", status).group(1))

    # -- the end ------------------------------------------------------------------------------------------------

    def close(self):
        if self.pid:
            quietly(lambda: self.inside(["/usr/bin/python3", SHIM, "shutdown"], check=False, timeout=120))
        for process in (self.shell, self.sandbox):
            if process and process.poll() is None:
                process.kill()
                process.wait()
        if self.namespace:
            # Whatever is left in the host's namespaces (nothing, normally) goes with them.
            for entry in os.listdir("/proc"):
                if entry.isdigit():
                    try:
                        if os.readlink(f"/proc/{entry}/ns/mnt") == self.namespace:
                            os.kill(int(entry), signal.SIGKILL)
                    except OSError:
                        pass
        if self.holder and self.holder.poll() is None:
            self.holder.kill()
        if self.holder:
            self.holder.wait(30)
        with open(os.path.join(self.root, "run/xomify-test/transcript.log"), "w") as f:
            f.write("".join(self.transcript))
        if os.environ.get("XOMIFY_KEEP_HOST"):
            print(f"scratch host kept in {self.root}")
        else:
            shutil.rmtree(self.root, ignore_errors=True)


def glob_paths(root, *patterns):
    found = []
    for pattern in patterns:
        found += glob.glob(os.path.join(root, pattern))
    return found


def quietly(action):
    try:
        action()
    except Exception:  # noqa: BLE001 - teardown goes on
        pass


def users_of(host):
    return host.sandbox_call("GET", "/_sandbox/users")["users"]


def enrol_sandbox_users(host):
    """The sandbox's users sign up as the apps would: POST /user/update with a user token and their refresh
    token, enrolled in both jobs (the token is signed with the host's JWT secret, as /auth/login's are)."""
    secret = open(host.path("etc/xomify/credentials/jwt-secret")).read().strip()
    users = users_of(host)
    for user in users:
        now = int(time.time())
        token = make_jwt(secret, {"email": user["email"], "userId": user["id"], "iat": now, "exp": now + 600})
        status, _, body = host.https("/user/update", token=token, method="POST",
                                     headers={"Content-Type": "application/json"},
                                     body=json.dumps({"userId": user["id"], "refreshToken": user["refreshToken"],
                                                      "wrappedEnrolled": True, "releaseRadarEnrolled": True}))
        assert status == 200, body
    return users


@pytest.fixture(scope="module")
def host():
    """The host after steps 0 to 13: deployed, verified, the sandbox's users enrolled, each job run once."""
    if not IS_ROOT:
        pytest.fail("the deployment guide's test runs the guide as root on a scratch root: run scripts/test as root")
    for tool in ("unshare", "nsenter", "chroot", "ip", "git", "nginx", "pg_createcluster"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} is required (scripts/test installs it)")
    if not all(os.access(os.path.join(bin_dir(), p), os.X_OK) for p in PROGRAMS):
        pytest.fail(f"the executables are not built in {bin_dir()} (scripts/test builds them first)")
    machine = ScratchHost()
    started = time.monotonic()
    try:
        machine.prepare().boot()
        machine.sandbox = machine.spawn_inside(
            ["/usr/bin/python3", os.path.join(REPO, "Tests", "SpotifySandbox", "sandbox.py"), "--port", "0",
             "--port-file", "/run/xomify-test/sandbox.port", "--users", "3", "--artists", "60"],
            machine.path("run/xomify-test/sandbox.log"))
        port_file = machine.path("run/xomify-test/sandbox.port")
        wait_until(lambda: os.path.exists(port_file) and open(port_file).read().strip(), 30, what="the sandbox")
        machine.sandbox_port = int(open(port_file).read())
        machine.open_shell()

        machine.step("step_00_settings")
        machine.set_variables(SETTINGS)
        for name in ("step_01_packages", "step_02_user_and_directories", "step_03_build_and_install",
                     "step_04_database_and_role", "step_05_configuration"):
            machine.step(name)
        machine.step("step_06_secrets", typed=SANDBOX_SECRET)
        # The test's one addition: the services talk to the sandbox, quickly (the override file of step 5's text).
        env_file = machine.path("etc/xomify/xomify.env")
        with open(env_file, "w") as f:
            f.write(f"XOMIFY_SPOTIFY_API_URL=http://127.0.0.1:{machine.sandbox_port}\n"
                    f"XOMIFY_SPOTIFY_ACCOUNTS_URL=http://127.0.0.1:{machine.sandbox_port}\n"
                    "XOMIFY_SPOTIFY_MAX_RPS=200\nXOMIFY_SPOTIFY_CONCURRENCY=16\n")
        os.chown(env_file, 0, scratch_gid(machine, "xomify"))
        os.chmod(env_file, 0o640)
        for name in ("step_07_migrations", "step_08_units", "step_09_certificate", "step_10_nginx_site",
                     "step_11_start", "step_12_verify"):
            machine.step(name)
        machine.users = enrol_sandbox_users(machine)
        machine.step("step_13_jobs", timeout=300)
        machine.setup_seconds = time.monotonic() - started
        yield machine
    finally:
        machine.close()


def scratch_gid(host, name):
    for line in open(host.path("etc/group")):
        fields = line.split(":")
        if fields[0] == name:
            return int(fields[2])
    raise AssertionError(f"no group {name} on the scratch host")


def scratch_uid(host, name):
    for line in open(host.path("etc/passwd")):
        fields = line.split(":")
        if fields[0] == name:
            return int(fields[2])
    return None


def mode_owner(host, path):
    info = os.lstat(host.path(path))
    return stat.S_IMODE(info.st_mode), info.st_uid, info.st_gid


# ---- the first thirteen steps ----------------------------------------------------------------------------------

def test_every_step_leaves_the_shell_as_it_found_it(host):
    """Point 3 of the issue: a `cd` and a `umask 077` of the secrets step leaked into the steps after it."""
    for name, result in host.steps.items():
        assert (result["directory"], result["umask"]) == ("/root", "0022"), (name, result)


def test_the_executables_installed_are_those_the_units_start(host):
    """Point 1: every executable a unit starts is installed, and nothing the build did not make."""
    installed = sorted(os.listdir(host.path("usr/local/bin")))
    started = set()
    for unit in os.listdir(host.path("etc/systemd/system")):
        if unit.startswith("xomify-"):
            for line in open(host.path("etc/systemd/system", unit)):
                match = re.match(r"Exec\w+=[-@+!:]*(/usr/local/bin/\S+)", line.strip())
                if match:
                    started.add(os.path.basename(match.group(1)))
    assert installed == sorted(started) == PROGRAMS
    for program in PROGRAMS:
        built = host.path("usr/local/src/xomify/.build/release", program)
        assert open(built, "rb").read() == open(host.path("usr/local/bin", program), "rb").read()
        assert mode_owner(host, f"usr/local/bin/{program}") == (0o755, 0, 0)
    migrations = sorted(os.listdir(host.path("usr/local/share/xomify/sql")))
    assert migrations == sorted(f for f in os.listdir(os.path.join(REPO, "sql")) if f.endswith(".sql"))
    assert sorted(os.listdir(host.path("usr/local/share/xomify/assets/covers"))) == \
        sorted(os.listdir(os.path.join(REPO, "assets", "covers")))


def test_nginx_checked_its_configuration_before_each_reload(host):
    assert "test is successful" in host.steps["step_10_nginx_site"]["output"]
    assert "configuration OK" in host.steps["step_07_migrations"]["output"]


def test_files_and_modes(host):
    xomify = scratch_gid(host, "xomify")
    assert mode_owner(host, "etc/xomify") == (0o750, 0, xomify)
    assert mode_owner(host, "etc/xomify/xomify.conf") == (0o640, 0, xomify)
    assert mode_owner(host, "etc/xomify/credentials") == (0o700, 0, 0)
    for secret in ("jwt-secret", "token-key", "spotify-client-secret"):
        assert mode_owner(host, f"etc/xomify/credentials/{secret}") == (0o600, 0, 0)
    assert open(host.path("etc/xomify/credentials/spotify-client-secret")).read() == SANDBOX_SECRET + "\n"
    assert len(base64.b64decode(open(host.path("etc/xomify/credentials/token-key")).read())) == 32
    assert mode_owner(host, "etc/ssl/xomify/fullchain.pem") == (0o644, 0, 0)
    assert mode_owner(host, "etc/ssl/xomify/privkey.pem") == (0o600, 0, 0)
    assert mode_owner(host, "etc/nginx/sites-available/xomify")[0] == 0o644
    assert os.readlink(host.path("etc/nginx/sites-enabled/xomify")) == "/etc/nginx/sites-available/xomify"
    assert not os.path.lexists(host.path("etc/nginx/sites-enabled/default"))
    assert mode_owner(host, "run/xomify/api.sock") == (0o660, scratch_uid(host, "xomify"),
                                                       grp.getgrnam("www-data").gr_gid)
    assert mode_owner(host, "var/backups/xomify") == (0o700, 0, 0)
    # The site is the repository's, for this host name.
    site = open(host.path("etc/nginx/sites-available/xomify")).read()
    assert site == open(os.path.join(REPO, "nginx", "xomify.conf")).read().replace("api.example.com", API_HOST)
    # The configuration names only settings the executables read (README's table, their --help).
    names = re.findall(r"(?m)^(XOMIFY_\w+)=", open(host.path("etc/xomify/xomify.conf")).read())
    readme = open(os.path.join(REPO, "README.md")).read()
    for name in names:
        assert f"`{name}`" in readme, name


def test_every_command_run_comes_from_a_package_the_guide_installs(host):
    """Point 5: rsync was used and never installed. Every command the steps ran (recorded by the shell) is a
    builtin, a Xomify or Swift executable, or belongs to a package that step 1 names, that one of those
    depends on, or that every Debian system has (priority required or important); and every package named
    exists in Debian 12."""
    named = open(host.path("run/xomify-test/apt-packages")).read().split()
    installed = {line.split()[0] for line in subprocess.run(
        ["dpkg-query", "-W", "-f=${Package} ${Status}\\n"] + named, capture_output=True, text=True).stdout.splitlines()
        if line.endswith("install ok installed")}
    policy = subprocess.run(["apt-cache", "policy"] + named, capture_output=True, text=True).stdout
    candidates = {name for name, candidate in re.findall(r"(?m)^(\S+):\n\s+Installed: .*\n\s+Candidate: (.*)$", policy)
                  if candidate != "(none)"}
    for package in named:
        assert package in installed or package in candidates, \
            f"step 1 installs {package}, which is not a Debian 12 package"
    closure = subprocess.run(["apt-cache", "depends", "--recurse", "--installed", "--no-recommends",
                              "--no-suggests", "--no-conflicts", "--no-breaks", "--no-replaces", "--no-enhances"]
                             + named, capture_output=True, text=True).stdout
    allowed = set(named) | {line.strip() for line in closure.splitlines() if line and not line.startswith(" ")}
    for line in subprocess.run(["dpkg-query", "-W", "-f=${Package} ${Priority}\\n"], capture_output=True,
                               text=True).stdout.splitlines():
        package, _, priority = line.partition(" ")
        if priority in ("required", "important"):
            allowed.add(package)
    builtins = set(subprocess.run(["bash", "-c", "compgen -b; compgen -k"], capture_output=True,
                                  text=True).stdout.split())
    commands = set()
    for record in open(host.path("run/xomify-test/commands.log")).read().split("\0"):
        # One simple command (with its here-document, if any); its first line names the program.
        line = record.split("\n", 1)[0].rstrip("\\")
        try:
            words = shlex.split(line, comments=True)
        except ValueError:
            words = line.split()
        if words and re.match(r"^\w+=.*(\$\(|`)", words[0]):
            continue   # x=$(command ...): the command inside is a record of its own
        while words and re.match(r"^\w+=", words[0]):
            words.pop(0)
        if not words:
            continue
        if words[0] == "runuser" and "--" in words:
            commands.add("runuser")
            words = words[words.index("--") + 1:]
        if words[0] == "systemd-run":
            commands.add("systemd-run")
            rest = [w for w in words[1:] if not w.startswith("-") and "=" not in w]
            words = rest[:1]
        if words:
            commands.add(words[0])
    problems, paths = [], {}
    for command in sorted(commands):
        if command in builtins or command.startswith(("step_", "/usr/local/", "/opt/swift/")):
            continue
        path = command if command.startswith("/") else shutil.which(command, path="/usr/sbin:/usr/bin:/sbin:/bin")
        if path is None:
            problems.append(f"{command}: not found on this machine")
            continue
        paths[command] = [path, os.path.realpath(path), path.replace("/usr/", "/", 1)]
    # Which package owns each path, in one query (merged /usr: dpkg may know /bin/x rather than /usr/bin/x).
    owners = {}
    listing = subprocess.run(["dpkg", "-S"] + sorted({p for ps in paths.values() for p in ps}),
                             capture_output=True, text=True).stdout
    for line in listing.splitlines():
        packages, _, owned = line.partition(": ")
        owners.setdefault(owned.strip(), packages.split(",")[0].strip())
    for command, candidates in paths.items():
        path = candidates[0]
        owner = next((owners[p] for p in candidates if p in owners), None)
        if owner is None:
            problems.append(f"{command} ({path}): no package owns it")
        elif owner not in allowed:
            problems.append(f"{command}: from {owner}, which the guide does not install")
    assert not problems, problems
    assert "rsync" in commands and "rsync" in named


def test_https_ping_and_health_with_the_self_signed_certificate(host):
    verify = host.steps["step_12_verify"]["output"]
    assert verify.startswith("pong\n{\"status\":\"ok\"}\n"), verify
    assert f"301 https://{API_HOST}/ping" in verify
    status, headers, body = host.https("/ping")
    assert (status, body) == (200, "pong")
    assert headers["strict-transport-security"] == "max-age=63072000"
    status, _, body = host.https("/health")
    assert status == 200 and json.loads(body) == {"status": "ok"}
    status, headers, body = host.https("/wrapped/data")
    assert status == 401 and headers["www-authenticate"] == 'Bearer error="invalid_token"'


def test_status_page_from_the_host_only(host):
    verify = host.steps["step_12_verify"]["output"]
    assert '"liveWorkers":2' in verify
    assert "\n403\n" in verify, verify   # the guide's own request from the host's public address
    status, _, body = host.https("/status")
    assert status == 200 and json.loads(body)["pool"]["liveWorkers"] == 2
    status, headers, body = host.https("/status", address=PUBLIC_ADDRESS, source=PUBLIC_ADDRESS)
    assert status == 403 and json.loads(body)["error"]["code"] == "forbidden"
    assert headers["strict-transport-security"] == "max-age=63072000"   # point 11: nginx's own answers too


def test_authenticated_wrapped_data_with_a_minted_token_and_its_304(host):
    verify = host.steps["step_12_verify"]["output"]
    assert '{"active":false,"activeWrapped":false,"activeReleaseRadar":false,"wraps":[]}' in verify
    assert re.search(r'ETag: "[0-9a-f]{16}"\n304\n', verify), verify
    # The check user of step 12 is gone again; mint-token refuses an email that is not in the database.
    assert host.psql("SELECT count(*) FROM users WHERE email = 'deploy-check@example.invalid'") == "0"
    refused = host.inside(["systemd-run", "--quiet", "--wait", "--pipe", "--uid=xomify",
                           "-p", "LoadCredential=jwt-secret:/etc/xomify/credentials/jwt-secret",
                           "/usr/local/bin/xomify-api", "mint-token", "deploy-check@example.invalid"], check=False)
    assert refused.returncode == 67 and refused.stdout == ""
    # A real user after the jobs: the wraps, the ETag, the 304.
    user = next(u for u in host.users if not u["revoked"])
    token = host.mint(user["email"])
    status, headers, body = host.https("/wrapped/data", token=token)
    assert status == 200 and len(json.loads(body)["wraps"]) == 1
    status, _, body = host.https("/wrapped/data", token=token, headers={"If-None-Match": headers["etag"]})
    assert (status, body) == (304, "")


def test_systemd_analyze_verify_passes_on_every_installed_unit(host):
    units = sorted(u for u in os.listdir(host.path("etc/systemd/system")) if u.startswith("xomify-"))
    assert units == sorted(os.listdir(os.path.join(REPO, "systemd")))
    result = host.inside(["systemd-analyze", "verify", "--man=no"] + [f"/etc/systemd/system/{u}" for u in units],
                         check=False)
    assert result.returncode == 0 and not (result.stdout + result.stderr).strip(), result.stdout + result.stderr
    assert not host.steps["step_08_units"]["output"].strip()


def test_each_job_ran_once_against_the_sandbox(host):
    runs = host.psql("SELECT job || ' ' || status || ' ' || users_done FROM job_runs ORDER BY id").splitlines()
    enrolled_ok = len([u for u in host.users if not u["revoked"]])
    assert runs == [f"wrapped succeeded {enrolled_ok}", f"release_radar succeeded {enrolled_ok}"], runs
    for user in host.users:
        names = {p["name"] for p in host.sandbox_call("GET", f"/_sandbox/playlists?user={user['id']}")["playlists"]
                 if not p.get("deleted")}
        if user["revoked"]:
            continue
        assert "Xomify Weekly Release Radar" in names and any(n.startswith("Xomify ") and "'" in n for n in names)
    journal = host.journal("xomify-wrapped", "xomify-release-radar")
    assert "finished with status 0" in journal, journal


# ---- operating it -----------------------------------------------------------------------------------------------

def test_a_reload_checks_the_configuration_first(host):
    """`systemctl reload xomify-api` runs check-config before the SIGHUP: a bad setting fails the reload with
    one journal line naming it and the pool keeps serving; a good one replaces the workers."""
    conf = host.path("etc/xomify/xomify.conf")
    original = open(conf).read()
    supervisor = host.supervisor_pid()
    try:
        with open(conf, "w") as f:
            f.write(original.replace("XOMIFY_THREADS=4", "XOMIFY_THREADS=four"))
        refused = host.systemctl("reload", "xomify-api", check=False)
        assert refused.returncode != 0
        complaints = [line for line in host.journal("xomify-api").splitlines() if "XOMIFY_THREADS: expected" in line]
        assert len(complaints) == 1, host.journal("xomify-api")
        assert host.https("/ping")[2] == "pong"
    finally:
        with open(conf, "w") as f:
            f.write(original)
    workers = host.inside(["cat", f"/proc/{supervisor}/task/{supervisor}/children"]).stdout.split()
    host.systemctl("reload", "xomify-api")
    wait_until(lambda: not set(workers) & set(host.inside(["cat", f"/proc/{supervisor}/task/{supervisor}/children"])
                                               .stdout.split()), 30, what="the reloaded workers")
    assert host.supervisor_pid() == supervisor
    assert host.https("/health")[0] == 200


def test_a_reload_after_a_new_binary_is_refused_with_a_restart_advice(host):
    """Point 9: a binary installed over the running one (install(1) replaces the file): a reload would keep the
    old executable (workers run their supervisor's), so it is refused and says to restart; a restart runs it."""
    host.inside(["install", "-m", "0755", "/usr/local/src/xomify/.build/release/xomify-api", "/usr/local/bin/"])
    refused = host.systemctl("reload", "xomify-api", check=False)
    assert refused.returncode != 0
    lines = [line for line in host.journal("xomify-api").splitlines() if "(deleted)" in line]
    assert len(lines) == 1 and "systemctl restart xomify-api" in lines[0], host.journal("xomify-api")
    before = host.supervisor_pid()
    host.systemctl("restart", "xomify-api")
    assert host.supervisor_pid() != before
    assert host.systemctl("reload", "xomify-api").returncode == 0
    assert host.https("/ping")[2] == "pong"


def test_upgrade_brings_code_migrations_assets_units_and_the_nginx_site(host):
    """Point 8 (assets and the nginx site), point 9 (a restart), a new migration, as step 15 does them."""
    origin = host.path("srv/xomify-origin")
    with open(os.path.join(origin, "sql", "9999_deploy_guide_upgrade.sql"), "w") as f:
        f.write("CREATE TABLE deploy_guide_upgrade (id integer PRIMARY KEY);\n")
    shutil.copy(os.path.join(origin, "assets", "covers", "year.jpg"),
                os.path.join(origin, "assets", "covers", "upgrade-check.jpg"))
    with open(os.path.join(origin, "nginx", "xomify-server.conf"), "a") as f:
        f.write("# upgraded by the deployment guide's test\n")
    with open(os.path.join(origin, "nginx", "xomify.conf"), "a") as f:
        f.write("# the site, upgraded by the deployment guide's test\n")
    host.commit("an upgrade")
    # An operator's own CORS origin survives the upgrade.
    with open(host.path("etc/nginx/xomify/xomify-cors-origins.conf"), "a") as f:
        f.write("https://staging.example.com    1;\n")
    before = host.supervisor_pid()

    output = host.step("step_15_upgrade")

    assert "+# the site, upgraded by the deployment guide's test" in output   # the diff shown
    assert "test is successful" in output and "configuration OK" in output and "applied migration" in output
    assert host.psql("SELECT max(version) FROM schema_migrations") == "9999"
    assert host.psql("SELECT count(*) FROM deploy_guide_upgrade") == "0"
    assert os.path.exists(host.path("usr/local/share/xomify/assets/covers/upgrade-check.jpg"))
    assert open(host.path("etc/nginx/xomify/xomify-server.conf")).read().endswith("test\n")
    assert "https://staging.example.com" in open(host.path("etc/nginx/xomify/xomify-cors-origins.conf")).read()
    assert open(host.path("etc/nginx/sites-available/xomify")).read().endswith("test\n")
    assert not os.path.exists(host.path("etc/nginx/sites-available/xomify.new"))
    assert host.supervisor_pid() != before
    assert sorted(os.listdir(host.path("usr/local/bin"))) == PROGRAMS
    status, headers, _ = host.https("/ping", headers={"Origin": "https://staging.example.com"})
    assert status == 200 and headers["access-control-allow-origin"] == "https://staging.example.com"
    # A new run after the upgrade (the installed migrations and covers are what the jobs use).
    result = host.exec_service("xomify-wrapped", "--period", "2026-02")
    assert result.returncode == 0, result.stdout + result.stderr


def test_rotating_the_jwt_secret(host):
    user = next(u for u in host.users if not u["revoked"])
    old = host.mint(user["email"])
    assert host.https("/wrapped/data", token=old)[0] == 200
    host.step("step_16a_rotate_jwt_secret")
    assert host.https("/wrapped/data", token=old)[0] == 401
    assert host.https("/wrapped/data", token=host.mint(user["email"]))[0] == 200


def test_rotating_the_token_key(host):
    """A second key line: the API and the jobs still open every stored token (sealed with key 1), and what is
    stored from now on is sealed with key 2."""
    before = host.psql("SELECT count(*) FROM users WHERE get_byte(refresh_token_ciphertext, 0) = 1")
    host.step("step_16b_rotate_token_key")
    lines = [line for line in open(host.path("etc/xomify/credentials/token-key")).read().splitlines() if line]
    assert len(lines) == 2 and lines[1].startswith("2:") and len(base64.b64decode(lines[1][2:])) == 32
    assert mode_owner(host, "etc/xomify/credentials/token-key") == (0o600, 0, 0)
    # Spotify hands out new refresh tokens at the next refresh: stored under key 2; the old ones open with key 1.
    host.sandbox_call("POST", "/_sandbox/config", {"rotateRefreshTokens": True})
    try:
        result = host.exec_service("xomify-wrapped", "--period", "2026-03")
    finally:
        host.sandbox_call("POST", "/_sandbox/config", {"rotateRefreshTokens": False})
    assert result.returncode == 0, result.stdout + result.stderr
    assert int(before) > 0
    assert host.psql("SELECT count(*) FROM users WHERE get_byte(refresh_token_ciphertext, 0) = 1") == "0"
    assert host.psql("SELECT count(*) FROM users WHERE get_byte(refresh_token_ciphertext, 0) = 2") == before
    # A token the API stores now is sealed with key 2 as well.
    user = next(u for u in host.users if not u["revoked"])
    status, _, _ = host.https("/user/update", token=host.mint(user["email"]), method="POST",
                              headers={"Content-Type": "application/json"},
                              body=json.dumps({"userId": user["id"], "refreshToken": "r" * 30}))
    assert status == 200
    email = user["email"].lower()
    assert host.psql(f"SELECT get_byte(refresh_token_ciphertext, 0) FROM users WHERE email = '{email}'") == "2"
    # (Put the user's real refresh token back, for the runs of the tests after this one.)
    status, _, _ = host.https("/user/update", token=host.mint(user["email"]), method="POST",
                              headers={"Content-Type": "application/json"},
                              body=json.dumps({"userId": user["id"], "refreshToken": current_refresh_token(host, user)}))
    assert status == 200


def current_refresh_token(host, user):
    return next(u for u in users_of(host) if u["id"] == user["id"])["refreshToken"]


def test_rotating_the_spotify_client_secret(host):
    """No restart: the next job run reads the new file. A wrong secret stops the run with 78 (invalid_client),
    which systemd does not retry; the right one works."""
    host.step("step_16c_rotate_spotify_client_secret", typed="not-the-secret")
    assert mode_owner(host, "etc/xomify/credentials/spotify-client-secret") == (0o600, 0, 0)
    wrong = host.exec_service("xomify-wrapped", "--period", "2026-04")
    assert wrong.returncode == 78, wrong.stdout + wrong.stderr
    host.step("step_16c_rotate_spotify_client_secret", typed=SANDBOX_SECRET)
    assert open(host.path("etc/xomify/credentials/spotify-client-secret")).read() == SANDBOX_SECRET + "\n"
    right = host.exec_service("xomify-wrapped", "--period", "2026-04")
    assert right.returncode == 0, right.stdout + right.stderr


def test_backup_restored_into_a_fresh_cluster_answers_the_same_etags(host):
    users = [u for u in host.users if not u["revoked"]]
    tokens = {u["email"]: host.mint(u["email"]) for u in users}

    def answers():
        result = {}
        for email, token in tokens.items():
            for path in ("/wrapped/data", "/user/data", "/release-radar/history"):
                status, headers, body = host.https(path, token=token)
                assert status == 200, (path, body)
                result[(email, path)] = (headers["etag"], body)
        return result
    before = answers()
    counts = host.psql("SELECT (SELECT count(*) FROM users) || ' ' || (SELECT count(*) FROM wrapped_months) || ' ' "
                       "|| (SELECT count(*) FROM release_radar_weeks) || ' ' || (SELECT count(*) FROM job_runs)")

    host.step("step_17a_backup")
    dumps = [n for n in os.listdir(host.path("var/backups/xomify")) if n.endswith(".dump")]
    assert len(dumps) == 1

    # A fresh cluster: what a new host has after steps 1 and 4.
    host.systemctl("stop", "xomify-api.socket", "xomify-api.service")
    host.inside(["pg_dropcluster", "--stop", "15", "main"])
    host.inside(["pg_createcluster", "15", "main", "--start"])
    host.step("step_04_database_and_role")
    host.step("step_17b_restore")

    assert host.psql("SELECT (SELECT count(*) FROM users) || ' ' || (SELECT count(*) FROM wrapped_months) || ' ' "
                     "|| (SELECT count(*) FROM release_radar_weeks) || ' ' || (SELECT count(*) FROM job_runs)") == counts
    assert host.psql("SELECT tableowner FROM pg_tables WHERE tablename = 'users'") == "xomify"
    assert answers() == before
    for email, token in tokens.items():
        etag = before[(email, "/wrapped/data")][0]
        assert host.https("/wrapped/data", token=token, headers={"If-None-Match": etag})[0] == 304
    # The jobs work on the restored database (the stored tokens open with the same key ring).
    result = host.exec_service("xomify-release-radar")
    assert result.returncode == 0, result.stdout + result.stderr


def test_removal_leaves_nothing_behind(host):
    assert "test is successful" in host.step("step_22_removal")
    for path in ("etc/xomify", "etc/ssl/xomify", "etc/nginx/xomify", "etc/nginx/sites-enabled/xomify",
                 "etc/nginx/sites-available/xomify", "usr/local/share/xomify", "usr/local/src/xomify",
                 "run/xomify/api.sock", "var/www/acme", "var/cache/xomify-api"):
        assert not os.path.lexists(host.path(path)), path
    assert os.listdir(host.path("usr/local/bin")) == []
    assert [u for u in os.listdir(host.path("etc/systemd/system")) if u.startswith("xomify")] == []
    assert scratch_uid(host, "xomify") is None
    assert host.inside(["runuser", "-u", "postgres", "--", "psql", "-X", "-A", "-t", "-d", "postgres", "-c",
                        "SELECT count(*) FROM pg_database WHERE datname = 'xomify'"]).stdout.strip() == "0"
    assert host.systemctl("is-active", "nginx").returncode == 0
    # The backups stay (the guide says so), for whoever removes the host to keep or delete.
    assert os.listdir(host.path("var/backups/xomify"))


def test_the_guide_runs_in_a_few_minutes(host):
    """Recorded for the report: the first thirteen steps and the sandbox's jobs."""
    assert host.setup_seconds < 240, host.setup_seconds


def test_every_step_of_the_guide_was_run(host):
    """A step added to the guide and the script is run by this test too (or this fails until it is)."""
    assert set(host.steps) == {name for name, _ in script_steps()}

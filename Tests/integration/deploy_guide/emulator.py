#!/usr/bin/python3
"""A stand-in for systemd (PID 1) inside the deployment guide's scratch root, where PID 1 is not systemd.

It runs as root inside the chroot and private mount and network namespaces that test_deploy_guide.py makes,
and serves the guide's `systemctl`, `journalctl` and `systemd-run` (shim.py, bound over those commands, passes
its argument vector and its standard descriptors over a unix socket). What it does with the installed units is
what systemd does with them, as far as the guide relies on it:

- a .socket unit's ListenStream= is bound, owned (SocketUser=, SocketGroup=, SocketMode=, DirectoryMode=) and
  held here across restarts of its service, which receives it on fd 0 (StandardInput=socket);
- a service runs as User=/Group= (with the user's groups), with UMask=, a clean environment (systemd's base
  variables, JOURNAL_STREAM, Environment=, then EnvironmentFile= read at each start), LoadCredential= copied
  at start into /run/credentials/<unit>/ ($CREDENTIALS_DIRECTORY), CacheDirectory= made under /var/cache and
  owned by the service's user; ExecStartPre= first, then ExecStart=
  (Type=oneshot: waited for, its exit status is `systemctl start`'s); ExecReload= lines in order with $MAINPID
  (a failing one fails the reload and stops there); stop sends KillSignal= to the main process (KillMode=mixed),
  waits TimeoutStopSec=, then kills what is left; output goes to a journal `journalctl -u` reads;
- Debian's nginx.service and postgresql.service are run the way their units run nginx and pg_ctlcluster;
- `systemd-run --wait --pipe` runs a transient service with -p User=/LoadCredential=/EnvironmentFile= and the
  caller's descriptors.

Timers are recorded as enabled and active but never fire (the guide starts each job by hand once). Hardening
directives are systemd's business and are checked by `systemd-analyze verify`, not here."""

import array
import fnmatch
import glob
import grp
import json
import os
import pwd
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time

RUNTIME = "/run/xomify-test"
CONTROL = os.path.join(RUNTIME, "emulator.sock")
UNIT_DIR = "/etc/systemd/system"
BASE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
NGINX_GLOBALS = "daemon on; master_process on;"


class Failure(Exception):
    """A job that failed: the message is what systemctl prints."""


def parse_unit(path):
    sections, current, pending = {}, None, ""
    for raw in open(path):
        line = raw.rstrip("\n")
        if pending:
            line = pending + line.lstrip()
            pending = ""
        if line.endswith("\\"):
            pending = line[:-1] + " "
            continue
        stripped = line.strip()
        if not stripped or stripped[0] in "#;":
            continue
        if stripped.startswith("[") and stripped.endswith("]"):
            current = sections.setdefault(stripped[1:-1], [])
            continue
        key, _, value = stripped.partition("=")
        current.append((key.strip(), value.strip()))
    return sections


def timespan(text, default):
    """Seconds of a systemd time span ("40", "5s", "5min", "1h", "2d", "1min 30s")."""
    if not text:
        return default
    if text == "infinity":
        return None
    units = {"": 1, "s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "hr": 3600, "d": 86400, "ms": 0.001}
    total = 0.0
    for number, unit in re.findall(r"(\d+(?:\.\d+)?)\s*([a-z]*)", text):
        total += float(number) * units[unit]
    return total


class Unit:
    def __init__(self, name, sections, path=None):
        self.name = name
        self.sections = sections
        self.path = path

    @property
    def kind(self):
        return self.name.rsplit(".", 1)[1]

    def values(self, section, key):
        result = []
        for k, v in self.sections.get(section, []):
            if k == key:
                if v == "" and key not in ("Environment",):
                    result = []   # an empty assignment resets a list setting
                else:
                    result.append(v)
        return result

    def value(self, section, key, default=None):
        found = self.values(section, key)
        return found[-1] if found else default


class Journal:
    """Lines of every unit's output, with the time they arrived."""

    def __init__(self, path):
        self.lock = threading.Lock()
        self.entries = []
        self.file = open(path, "a", buffering=1)

    def add(self, unit, pid, text):
        with self.lock:
            self.entries.append((time.time(), unit, pid, text))
            self.file.write(f"{time.strftime('%b %d %H:%M:%S')} {unit}[{pid}]: {text}\n")

    def reader(self, unit, pid, stream):
        def pump():
            with stream:
                for raw in iter(stream.readline, b""):
                    self.add(unit, pid, raw.decode("utf-8", "replace").rstrip("\n"))
        thread = threading.Thread(target=pump, daemon=True)
        thread.start()
        return thread

    def lines(self, units, count):
        with self.lock:
            chosen = [e for e in self.entries if not units or e[1] in units]
        if count is not None:
            chosen = chosen[-count:] if count else []
        return [f"{time.strftime('%b %d %H:%M:%S', time.localtime(t))} {u}[{p}]: {text}" for t, u, p, text in chosen]


class Emulator:
    def __init__(self):
        self.lock = threading.RLock()
        self.units = {}
        self.enabled = set()
        self.active_timers = set()
        self.sockets = {}     # socket unit -> socket object
        self.mains = {}       # service unit -> Popen of its main process
        self.journal = Journal(os.path.join(RUNTIME, "journal.log"))
        self.load_units()

    # ---- units ------------------------------------------------------------------------------------------

    def load_units(self):
        units = {}
        for path in sorted(glob.glob(os.path.join(UNIT_DIR, "*"))):
            name = os.path.basename(path)
            if os.path.isfile(path) and name.rsplit(".", 1)[-1] in ("service", "socket", "timer"):
                units[name] = Unit(name, parse_unit(path), path)
        self.units = units

    @staticmethod
    def normalise(name):
        if name.endswith((".service", ".socket", ".timer", ".target")):
            return name
        return name + ".service"

    def unit(self, name):
        if name not in self.units:
            raise Failure(f"Unit {name} not found.")
        return self.units[name]

    # ---- processes --------------------------------------------------------------------------------------

    def identity(self, service):
        user = service.get("User")
        if not user:
            return None, None, None, "/root", "root"
        entry = pwd.getpwnam(user)
        group = service.get("Group")
        gid = grp.getgrnam(group).gr_gid if group else entry.pw_gid
        return entry.pw_uid, gid, os.getgrouplist(user, gid), entry.pw_dir, user

    def environment(self, unit_name, service, credentials):
        uid, _, _, home, user = self.identity(service)
        env = {"PATH": BASE_PATH, "INVOCATION_ID": os.urandom(16).hex(), "JOURNAL_STREAM": "8:1"}
        if uid is not None:
            env.update({"USER": user, "LOGNAME": user, "HOME": home, "SHELL": "/usr/sbin/nologin"})
        if credentials:
            env["CREDENTIALS_DIRECTORY"] = credentials
        for assignment in service.get("Environment", []):
            for word in shlex.split(assignment):
                key, _, value = word.partition("=")
                env[key] = value
        for entry in service.get("EnvironmentFile", []):
            optional = entry.startswith("-")
            path = entry.lstrip("-")
            if not os.path.exists(path):
                if optional:
                    continue
                raise Failure(f"{unit_name}: EnvironmentFile {path} does not exist")
            for line in open(path):
                line = line.strip()
                if not line or line[0] in "#;":
                    continue
                key, _, value = line.partition("=")
                value = value.strip()
                if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
                    value = value[1:-1]
                env[key.strip()] = value
        return env

    def credentials(self, unit_name, service):
        entries = service.get("LoadCredential", [])
        if not entries:
            return None
        uid, gid, _, _, _ = self.identity(service)
        directory = os.path.join("/run/credentials", unit_name)
        shutil.rmtree(directory, ignore_errors=True)
        os.makedirs(directory, mode=0o700)
        for entry in entries:
            name, _, source = entry.partition(":")
            if not os.path.isfile(source):
                shutil.rmtree(directory, ignore_errors=True)
                raise Failure(f"{unit_name}: LoadCredential {name}: {source} does not exist")
            target = os.path.join(directory, name)
            shutil.copyfile(source, target)
            os.chmod(target, 0o400)
            if uid is not None:
                os.chown(target, uid, gid)
        os.chmod(directory, 0o500)
        if uid is not None:
            os.chown(directory, uid, gid)
        return directory

    def cache_directories(self, service):
        """CacheDirectory=: /var/cache/<name> made (kept across starts) and owned by the service's user, with
        CacheDirectoryMode= (0755 by default)."""
        uid, gid, _, _, _ = self.identity(service)
        mode = int(service.get("CacheDirectoryMode", "0755"), 8)
        for name in " ".join(service.get("CacheDirectory", [])).split():
            path = os.path.join("/var/cache", name)
            os.makedirs(path, exist_ok=True)
            os.chmod(path, mode)
            if uid is not None:
                os.chown(path, uid, gid)

    @staticmethod
    def command(line, env, mainpid=None):
        """(argv, ignore failure) of an Exec*= line."""
        ignore = False
        while line and line[0] in "-@+!:":
            ignore = ignore or line[0] == "-"
            line = line[1:]
        words = shlex.split(line)

        def substitute(word):
            if mainpid is not None:
                word = word.replace("${MAINPID}", str(mainpid)).replace("$MAINPID", str(mainpid))
            return re.sub(r"\$\{(\w+)\}", lambda m: env.get(m.group(1), ""), word)
        return [substitute(w) for w in words], ignore

    def spawn(self, unit_name, service, argv, env, stdin=subprocess.DEVNULL, stdout=None, stderr=None):
        uid, gid, groups, _, _ = self.identity(service)
        umask = int(service.get("UMask", "0022"), 8)
        piped = stdout is None
        process = subprocess.Popen(
            argv, stdin=stdin, stdout=subprocess.PIPE if piped else stdout,
            stderr=subprocess.STDOUT if piped else stderr, env=env, cwd="/", start_new_session=True,
            user=uid, group=gid, extra_groups=groups, umask=umask, close_fds=True)
        process.journal_reader = self.journal.reader(unit_name, process.pid, process.stdout) if piped else None
        return process

    def run_control(self, unit_name, service, line, env, mainpid=None, timeout=300):
        argv, ignore = self.command(line, env, mainpid)
        process = self.spawn(unit_name, service, argv, env)
        try:
            status = process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            status = -9
        # Its output is in the journal before systemctl answers (unless something it started keeps the pipe).
        process.journal_reader.join(5)
        return 0 if ignore else status

    # ---- services as the units describe them --------------------------------------------------------------

    @staticmethod
    def service_settings(unit):
        settings = {}
        for key in ("User", "Group", "UMask", "Type", "StandardInput", "KillSignal", "KillMode", "TimeoutStopSec",
                    "TimeoutStartSec", "CacheDirectoryMode"):
            value = unit.value("Service", key)
            if value is not None:
                settings[key] = value
        for key in ("Environment", "EnvironmentFile", "LoadCredential", "CacheDirectory", "ExecStartPre", "ExecStart",
                    "ExecReload"):
            settings[key] = unit.values("Service", key)
        return settings

    def active(self, name):
        if name.endswith(".socket"):
            return name in self.sockets
        if name.endswith(".timer"):
            return name in self.active_timers
        if name in ("nginx.service",):
            return self.nginx_pid() is not None
        if name.startswith("postgresql"):
            return any(c["status"] == "online" for c in self.clusters())
        process = self.mains.get(name)
        return process is not None and process.poll() is None

    def start(self, name):
        if name == "nginx.service":
            return self.nginx("start")
        if name.startswith("postgresql"):
            return self.postgresql("start")
        unit = self.unit(name)
        if unit.kind == "socket":
            return self.start_socket(unit)
        if unit.kind == "timer":
            self.active_timers.add(name)
            return
        for required in " ".join(unit.values("Unit", "Requires")).split():
            if not self.active(required):
                self.start(required)
        if self.active(name):
            return
        service = self.service_settings(unit)
        credentials = self.credentials(name, service)
        self.cache_directories(service)
        env = self.environment(name, service, credentials)
        start_timeout = timespan(service.get("TimeoutStartSec"), 90)
        for line in service["ExecStartPre"]:
            status = self.run_control(name, service, line, env, timeout=start_timeout)
            if status != 0:
                raise Failure(f"Job for {name} failed because the control process exited with error code.")
        if service.get("Type") == "oneshot":
            for line in service["ExecStart"]:
                status = self.run_control(name, service, line, env, timeout=start_timeout)
                if status != 0:
                    raise Failure(f"Job for {name} failed because the control process exited with error code.")
            return
        stdin = subprocess.DEVNULL
        if service.get("StandardInput") == "socket":
            socket_unit = name[:-len(".service")] + ".socket"
            if socket_unit not in self.sockets:
                self.start(socket_unit)
            stdin = self.sockets[socket_unit].fileno()
        argv, _ = self.command(service["ExecStart"][-1], env)
        self.mains[name] = self.spawn(name, service, argv, env, stdin=stdin)

    def start_socket(self, unit):
        if unit.name in self.sockets:
            return
        path = unit.value("Socket", "ListenStream")
        if not path.startswith("/"):
            raise Failure(f"{unit.name}: only unix ListenStream= paths are emulated")
        directory_mode = int(unit.value("Socket", "DirectoryMode", "0755"), 8)
        os.makedirs(os.path.dirname(path), mode=directory_mode, exist_ok=True)
        if os.path.exists(path):
            os.remove(path)
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(path)
        os.chmod(path, int(unit.value("Socket", "SocketMode", "0666"), 8))
        user, group = unit.value("Socket", "SocketUser"), unit.value("Socket", "SocketGroup")
        os.chown(path, pwd.getpwnam(user).pw_uid if user else -1, grp.getgrnam(group).gr_gid if group else -1)
        listener.listen(socket.SOMAXCONN)
        self.sockets[unit.name] = listener

    def stop(self, name):
        if name == "nginx.service":
            return self.nginx("stop")
        if name.startswith("postgresql"):
            return self.postgresql("stop")
        unit = self.units.get(name)
        if name.endswith(".timer"):
            self.active_timers.discard(name)
            return
        if name.endswith(".socket"):
            listener = self.sockets.pop(name, None)
            if listener:
                listener.close()
                path = unit.value("Socket", "ListenStream") if unit else None
                if path and (unit.value("Socket", "RemoveOnStop", "no") in ("yes", "true")) and os.path.exists(path):
                    os.remove(path)
            return
        process = self.mains.pop(name, None)
        if process is None or process.poll() is not None:
            return
        service = self.service_settings(unit) if unit else {}
        signal_name = service.get("KillSignal", "SIGTERM")
        os.kill(process.pid, getattr(signal, signal_name))
        try:
            process.wait(timespan(service.get("TimeoutStopSec"), 90))
        except subprocess.TimeoutExpired:
            pass
        # KillMode=mixed (and control-group): whatever is left of the unit gets SIGKILL.
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        process.wait()

    def reload(self, name):
        if name == "nginx.service":
            return self.nginx("reload")
        if name.startswith("postgresql"):
            return self.postgresql("reload")
        unit = self.unit(name)
        if not self.active(name):
            raise Failure(f"{name} is not active, cannot reload.")
        service = self.service_settings(unit)
        if not service["ExecReload"]:
            raise Failure(f"Failed to reload {name}: Job type reload is not applicable for unit {name}.")
        env = self.environment(name, service, os.path.join("/run/credentials", name)
                               if service["LoadCredential"] else None)
        mainpid = self.mains[name].pid
        env["MAINPID"] = str(mainpid)
        for line in service["ExecReload"]:
            if self.run_control(name, service, line, env, mainpid=mainpid, timeout=90) != 0:
                raise Failure(f"Job for {name} failed because the control process exited with error code.")

    # ---- Debian's own units -----------------------------------------------------------------------------------

    def run_logged(self, unit_name, argv):
        """Runs a command to its end with its output in a file (a daemon it starts may keep a pipe open)."""
        with open(os.path.join(RUNTIME, "control.out"), "w+") as output:
            status = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT,
                                    env={"PATH": BASE_PATH}).returncode
            output.seek(0)
            text = output.read()
        for line in text.splitlines():
            self.journal.add(unit_name, 0, line)
        return status, text

    @staticmethod
    def nginx_pid():
        try:
            pid = int(open("/run/nginx.pid").read().strip())
            os.kill(pid, 0)
            return pid
        except (OSError, ValueError):
            return None

    @staticmethod
    def children(pid):
        try:
            return set(open(f"/proc/{pid}/task/{pid}/children").read().split())
        except OSError:
            return set()

    def nginx(self, action):
        def run(*args):
            status, output = self.run_logged("nginx.service", ["/usr/sbin/nginx", "-g", NGINX_GLOBALS] + list(args))
            if status != 0:
                raise Failure(f"Job for nginx.service failed: {output.strip()}")
        pid = self.nginx_pid()
        if action == "start":
            if pid is None:
                run("-t", "-q")
                run()
                deadline = time.time() + 10
                while self.nginx_pid() is None and time.time() < deadline:
                    time.sleep(0.05)
        elif action == "reload":
            if pid is None:
                raise Failure("nginx.service is not active, cannot reload.")
            old = self.children(pid)
            run("-s", "reload")
            # The reload is done when none of the old workers is left (as systemd's is, near enough).
            deadline = time.time() + 10
            while self.children(pid) & old and time.time() < deadline:
                time.sleep(0.05)
        elif action == "stop":
            if pid is not None:
                os.kill(pid, signal.SIGQUIT)
                deadline = time.time() + 10
                while self.nginx_pid() is not None and time.time() < deadline:
                    time.sleep(0.05)
        elif action == "restart":
            self.nginx("stop")
            self.nginx("start")

    @staticmethod
    def clusters():
        result = subprocess.run(["pg_lsclusters", "--no-header"], capture_output=True, text=True,
                                env={"PATH": BASE_PATH})
        found = []
        for line in result.stdout.splitlines():
            fields = line.split()
            if len(fields) >= 4:
                found.append({"version": fields[0], "name": fields[1], "status": fields[3]})
        return found

    def postgresql(self, action):
        for cluster in self.clusters():
            if action == "start" and cluster["status"] == "online":
                continue
            if action in ("stop", "reload") and cluster["status"] != "online":
                continue
            status, output = self.run_logged("postgresql.service",
                                             ["pg_ctlcluster", cluster["version"], cluster["name"], action])
            if status != 0:
                raise Failure(f"Job for postgresql.service failed: {output.strip()}")

    # ---- commands ---------------------------------------------------------------------------------------------

    def systemctl(self, args, out, err):
        options = {a for a in args if a.startswith("-")}
        words = [a for a in args if not a.startswith("-")]
        if not words:
            raise Failure("systemctl (emulated): no verb")
        verb, names = words[0], words[1:]
        unknown = options - {"--now", "--no-pager", "--quiet", "-q", "--no-block", "--all"}
        if unknown:
            raise Failure(f"systemctl (emulated): unsupported options {sorted(unknown)}")
        if verb == "daemon-reload":
            self.load_units()
            return 0
        if verb == "list-timers":
            patterns = names or ["*"]
            out.write("NEXT (OnCalendar)                  UNIT                         ACTIVATES\n")
            shown = 0
            for name, unit in sorted(self.units.items()):
                if unit.kind == "timer" and name in self.active_timers and \
                        any(fnmatch.fnmatch(name, p) or fnmatch.fnmatch(name, p + ".timer") for p in patterns):
                    out.write(f"{unit.value('Timer', 'OnCalendar', ''):34} {name:28} {unit.value('Timer', 'Unit', '')}\n")
                    shown += 1
            out.write(f"\n{shown} timers listed.\n")
            return 0
        names = [self.normalise(n) for n in names]
        if verb in ("start", "stop", "restart", "reload", "enable", "disable", "status", "is-active", "is-enabled") \
                and not names:
            raise Failure(f"systemctl (emulated): {verb} needs a unit")
        if verb == "start":
            for name in names:
                self.start(name)
        elif verb == "stop":
            for name in names:
                self.stop(name)
        elif verb == "restart":
            for name in names:
                self.stop(name)
                self.start(name)
        elif verb == "reload":
            for name in names:
                self.reload(name)
        elif verb in ("enable", "disable"):
            for name in names:
                unit = self.unit(name)
                if verb == "enable":
                    if not unit.values("Install", "WantedBy"):
                        err.write(f"The unit files have no installation config (WantedBy=, ...): {name}\n")
                    self.enabled.add(name)
                else:
                    self.enabled.discard(name)
            if "--now" in options:
                for name in names:
                    (self.start if verb == "enable" else self.stop)(name)
        elif verb == "is-active":
            states = [self.active(n) for n in names]
            if "--quiet" not in options and "-q" not in options:
                for state in states:
                    out.write("active\n" if state else "inactive\n")
            return 0 if all(states) else 3
        elif verb == "is-enabled":
            states = [n in self.enabled for n in names]
            for state in states:
                out.write("enabled\n" if state else "disabled\n")
            return 0 if all(states) else 1
        elif verb == "status":
            all_active = True
            for name in names:
                unit = self.units.get(name)
                state = self.active(name)
                all_active = all_active and state
                description = unit.value("Unit", "Description", "") if unit else ""
                out.write(f"{'●' if state else '○'} {name} - {description}\n")
                out.write(f"     Loaded: loaded ({unit.path if unit else '(Debian)'}; "
                          f"{'enabled' if name in self.enabled else 'disabled'})\n")
                running = "running" if name.endswith(".service") else ("listening" if name.endswith(".socket")
                                                                       else "waiting")
                out.write(f"     Active: {'active (' + running + ')' if state else 'inactive (dead)'}\n")
                if name in self.mains and state:
                    pid = self.mains[name].pid
                    out.write(f"   Main PID: {pid}\n")
                    for child in sorted(self.children(pid)):
                        out.write(f"             └─{child} (worker)\n")
                for line in self.journal.lines({name}, 3):
                    out.write(line + "\n")
                out.write("\n")
            return 0 if all_active else 3
        else:
            raise Failure(f"systemctl (emulated): unsupported verb {verb}")
        return 0

    def journalctl(self, args, out):
        units, count, index = set(), None, 0
        while index < len(args):
            arg = args[index]
            if arg in ("-u", "--unit"):
                units.add(self.normalise(args[index + 1]))
                index += 2
                continue
            if arg.startswith("--unit="):
                units.add(self.normalise(arg.split("=", 1)[1]))
            elif arg == "-n":
                count = int(args[index + 1])
                index += 2
                continue
            elif arg.startswith("--lines="):
                count = int(arg.split("=", 1)[1])
            elif arg in ("--no-pager", "-q", "--quiet"):
                pass
            else:
                raise Failure(f"journalctl (emulated): unsupported argument {arg}")
            index += 1
        for line in self.journal.lines(units, count):
            out.write(line + "\n")
        return 0

    def systemd_run(self, args, fds):
        service = {"Environment": [], "EnvironmentFile": [], "LoadCredential": [], "ExecStartPre": [],
                   "ExecStart": [], "ExecReload": []}
        flags = set()
        index = 0
        while index < len(args) and args[index].startswith("-"):
            arg = args[index]
            if arg in ("-p", "--property"):
                key, _, value = args[index + 1].partition("=")
                index += 2
            elif arg.startswith("--property="):
                key, _, value = arg.split("=", 1)[1].partition("=")
                index += 1
            elif arg.startswith("--uid="):
                key, value = "User", arg.split("=", 1)[1]
                index += 1
            elif arg.startswith("--gid="):
                key, value = "Group", arg.split("=", 1)[1]
                index += 1
            elif arg in ("--quiet", "-q", "--wait", "--pipe", "-P", "--collect", "-G"):
                flags.add(arg)
                index += 1
                continue
            else:
                raise Failure(f"systemd-run (emulated): unsupported option {arg}")
            if key in service and isinstance(service[key], list):
                service[key].append(value)
            elif key in ("User", "Group", "UMask"):
                service[key] = value
            else:
                raise Failure(f"systemd-run (emulated): unsupported property {key}")
        command = args[index:]
        if not command or "--wait" not in flags or not ({"--pipe", "-P"} & flags):
            raise Failure("systemd-run (emulated): only --wait --pipe COMMAND is emulated")
        name = f"run-u{os.getpid()}{int(time.time() * 1000) % 100000}.service"
        credentials = self.credentials(name, service)
        try:
            env = self.environment(name, service, credentials)
            process = self.spawn(name, service, command, env, stdin=fds[0], stdout=fds[1], stderr=fds[2])
            return process.wait()
        finally:
            if credentials:
                shutil.rmtree(credentials, ignore_errors=True)

    def exec_service(self, args, fds):
        """Harness only: a oneshot service's ExecStart with extra arguments, in the service's context."""
        name, extra = self.normalise(args[0]), args[1:]
        unit = self.unit(name)
        service = self.service_settings(unit)
        credentials = self.credentials(name, service)
        env = self.environment(name, service, credentials)
        argv, _ = self.command(service["ExecStart"][-1], env)
        process = self.spawn(name, service, argv + extra, env, stdout=fds[1], stderr=fds[2])
        return process.wait()

    def shutdown(self):
        for name in list(self.mains):
            self.stop(name)
        for name in list(self.sockets):
            self.stop(name)
        for action in (lambda: self.nginx("stop"), lambda: self.postgresql("stop")):
            try:
                action()
            except Exception as error:  # noqa: BLE001 - best effort on the way out
                self.journal.add("emulator", os.getpid(), f"shutdown: {error}")

    def handle(self, connection):
        with connection:
            message, fds, _, _ = socket.recv_fds(connection, 1 << 20, 3)
            request = json.loads(message.decode())
            program, args = request["program"], request["args"]
            out = os.fdopen(os.dup(fds[1]), "w", buffering=1)
            err = os.fdopen(os.dup(fds[2]), "w", buffering=1)
            status = 0
            try:
                with self.lock:
                    if program == "systemctl":
                        status = self.systemctl(args, out, err)
                    elif program == "journalctl":
                        status = self.journalctl(args, out)
                    elif program == "systemd-run":
                        status = self.systemd_run(args, fds)
                    elif program == "exec-service":
                        status = self.exec_service(args, fds)
                    elif program == "shutdown":
                        self.shutdown()
                    else:
                        raise Failure(f"emulator: unknown program {program}")
            except Failure as failure:
                err.write(f"{failure}\n")
                status = 1
            except Exception as error:  # noqa: BLE001 - reported to the caller, the emulator goes on
                err.write(f"emulator: {type(error).__name__}: {error}\n")
                status = 1
            finally:
                out.close()
                err.close()
                for fd in fds:
                    os.close(fd)
            connection.sendall(json.dumps({"status": status}).encode())
            if program == "shutdown":
                os._exit(0)

    def serve(self):
        if os.path.exists(CONTROL):
            os.remove(CONTROL)
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(CONTROL)
        listener.listen(64)
        with open(os.path.join(RUNTIME, "emulator.pid"), "w") as f:
            f.write(str(os.getpid()))
        while True:
            connection, _ = listener.accept()
            threading.Thread(target=self.handle, args=(connection,), daemon=True).start()


if __name__ == "__main__":
    os.chdir("/")
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    sys.stdout.flush()
    Emulator().serve()

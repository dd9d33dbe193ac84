#!/usr/bin/python3
"""The commands of a fresh Debian 12 host that the deployment guide's scratch root cannot run for real, bound
over them inside it (test_deploy_guide.py): which one is meant is the name it is called by.

- systemctl, journalctl, systemd-run: passed to the systemd stand-in (emulator.py) with this process's
  standard descriptors; their exit status is the emulator's answer.
- apt-get: `update` does nothing (the CI machine has its package lists); `install -y PACKAGE...` records the
  packages, for the test to check that each is a real Debian package and that every command the guide runs
  comes from one of them, and does what the packages' own scripts do on a fresh host: the postgresql package
  creates and starts the cluster 15/main, the nginx package starts nginx with Debian's default site.
- swift (/opt/swift/usr/bin/swift): `--version`, and `build --package-path P -c release --static-swift-stdlib`,
  which puts into P/.build/release/ every executable target of P/Package.swift, copied from the executables
  scripts/test built (a release build takes longer than this test may).
- `shim.py exec-service UNIT ARGS...` and `shim.py shutdown`: the test's own requests to the emulator."""

import json
import os
import re
import shutil
import socket
import subprocess
import sys

RUNTIME = "/run/xomify-test"
CONTROL = os.path.join(RUNTIME, "emulator.sock")


def config():
    with open(os.path.join(RUNTIME, "config.json")) as f:
        return json.load(f)


def emulator(program, args):
    sys.stdout.flush()
    sys.stderr.flush()
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
        connection.connect(CONTROL)
        socket.send_fds(connection, [json.dumps({"program": program, "args": args}).encode()], [0, 1, 2])
        answer = b""
        while True:
            chunk = connection.recv(4096)
            if not chunk:
                break
            answer += chunk
    return json.loads(answer.decode())["status"]


def apt_get(args):
    words = [a for a in args if not a.startswith("-")]
    if words == ["update"]:
        print("(apt-get update: the package lists of the CI machine are used)")
        return 0
    if not words or words[0] != "install" or "-y" not in args:
        print(f"apt-get (emulated): only `update` and `install -y PACKAGE...` are emulated, not {args}", file=sys.stderr)
        return 100
    packages = words[1:]
    with open(os.path.join(RUNTIME, "apt-packages"), "a") as f:
        for package in packages:
            f.write(package + "\n")
    env = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
    if "postgresql" in packages or "postgresql-15" in packages:
        clusters = subprocess.run(["pg_lsclusters", "--no-header"], capture_output=True, text=True, env=env)
        if not clusters.stdout.strip():
            # As postgresql-15's postinst: the default cluster, started. With the C locale of a host that has
            # none configured, so that the guide must ask for UTF-8 itself.
            subprocess.run(["pg_createcluster", "15", "main", "--start"], check=True, env=env,
                           stdin=subprocess.DEVNULL)
    if "nginx" in packages:
        status = emulator("systemctl", ["start", "nginx.service"])
        if status != 0:
            return status
    print(f"(apt-get install: {' '.join(packages)})")
    return 0


def swift(args):
    if args == ["--version"]:
        print(config()["swift_version"])
        return 0
    options = list(args)
    if not options or options[0] != "build":
        print(f"swift (emulated): only `--version` and `build` are emulated, not {args}", file=sys.stderr)
        return 1
    package, rest, index = os.getcwd(), [], 1
    while index < len(options):
        if options[index] == "--package-path":
            package = options[index + 1]
            index += 2
            continue
        rest.append(options[index])
        index += 1
    if sorted(rest) != sorted(["-c", "release", "--static-swift-stdlib"]) or rest[rest.index("-c") + 1] != "release":
        print(f"swift (emulated): the guide's build is `swift build -c release --static-swift-stdlib`, not {args}",
              file=sys.stderr)
        return 1
    manifest = open(os.path.join(package, "Package.swift")).read()
    targets = re.findall(r'\.executableTarget\(\s*name:\s*"([^"]+)"', manifest)
    output = os.path.join(package, ".build", "release")
    os.makedirs(output, exist_ok=True)
    built = config()["bin_dir"]
    for target in targets:
        source = os.path.join(built, target)
        if not os.path.exists(source):
            print(f"swift (emulated): {target} was not built in {built}", file=sys.stderr)
            return 1
        shutil.copy2(source, os.path.join(output, target))
    print(f"Build complete! (emulated: {', '.join(targets)} copied from {built})")
    return 0


def main():
    name = os.path.basename(sys.argv[0])
    args = sys.argv[1:]
    if name == "shim.py":
        name, args = args[0], args[1:]
    if name in ("systemctl", "journalctl", "systemd-run", "exec-service", "shutdown"):
        return emulator(name, args)
    if name == "apt-get":
        return apt_get(args)
    if name == "swift":
        return swift(args)
    print(f"shim: {name} is not emulated", file=sys.stderr)
    return 127


if __name__ == "__main__":
    sys.exit(main())

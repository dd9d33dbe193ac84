#!/usr/bin/env python3
"""scripts/run, after the build: the whole system on local defaults under run/ in the work tree — a PostgreSQL
cluster, the Spotify sandbox, the pool and nginx (self-signed certificate, https://localhost:8443) — then the
sandbox's users enrolled, the jobs run once, and how to call the API printed. Serves until Ctrl-C, then stops
everything it started (the data stays in run/ for next time)."""

import json
import os
import pwd
import signal
import subprocess
import sys
import threading

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "Tests", "rig"))
sys.path.insert(0, os.path.join(ROOT, "Tests", "integration"))

from api_client import Api  # noqa: E402
from xomify_rig import IS_ROOT, Rig  # noqa: E402

HTTPS_PORT = int(os.environ.get("XOMIFY_RUN_HTTPS_PORT", "8443"))
POSTGRES_PORT = int(os.environ.get("XOMIFY_RUN_POSTGRES_PORT", "55432"))
SANDBOX_PORT = int(os.environ.get("XOMIFY_RUN_SANDBOX_PORT", "8444"))


def say(text):
    print(f"\033[1m==> {text}\033[0m", flush=True)


def postgres_can_use(directory):
    """initdb runs as the postgres user when we are root: it must reach the directory."""
    if not IS_ROOT:
        return True
    probe = subprocess.run(["runuser", "-u", "postgres", "--", "test", "-x", directory], capture_output=True)
    return probe.returncode == 0


def place_cluster(run_dir):
    """The cluster lives in run/postgres; when the postgres user cannot reach the work tree (a checkout under
    /root, say) it lives in /var/lib/xomify-run and run/postgres points there."""
    link = os.path.join(run_dir, "postgres")
    if postgres_can_use(run_dir) or os.path.islink(link):
        return
    elsewhere = os.path.join("/var/lib/xomify-run", str(abs(hash(ROOT)) % 10**8))
    os.makedirs(elsewhere, exist_ok=True)
    os.chmod("/var/lib/xomify-run", 0o755)
    os.symlink(elsewhere, link)
    say(f"the postgres user cannot reach {run_dir}; the cluster lives in {elsewhere} (linked from run/postgres)")


def main():
    run_dir = os.path.join(ROOT, "run")
    os.makedirs(run_dir, exist_ok=True)
    os.chmod(run_dir, 0o755)
    place_cluster(run_dir)
    os.environ.setdefault("XOMIFY_BIN_DIR", os.path.join(ROOT, ".build", "release"))
    rig = Rig(directory=run_dir, https_port=HTTPS_PORT, postgres_port=POSTGRES_PORT, sandbox_port=SANDBOX_PORT, durable=True,
              settings={"XOMIFY_SPOTIFY_MAX_RPS": "50", "XOMIFY_ADMIN_EMAILS": "admin@localhost"})
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        say("starting PostgreSQL, the Spotify sandbox, the pool and nginx")
        rig.start()
        users = rig.sandbox.get("/_sandbox/users")["users"]
        say(f"enrolling the sandbox's {len(users)} users")
        for user in users:
            api = Api(rig.https_port, token=rig.token(user["email"], user["id"]))
            response = api.post("/user/update", {"userId": user["id"], "refreshToken": user["refreshToken"],
                                                 "displayName": user["displayName"], "wrappedEnrolled": True,
                                                 "releaseRadarEnrolled": True})
            if response.status != 200:
                raise RuntimeError(f"enrolling {user['email']} failed: {response.status} {response.body[:200]!r}")
        say("running the monthly wrapped job once (the previous month)")
        result = rig.run_job("xomify-wrapped")
        print(result.stdout, flush=True)
        if result.returncode not in (0, 1):
            print(result.stderr[-3000:], file=sys.stderr)
        say("running the weekly release radar job once (the last complete Saturday-Friday week)")
        result = rig.run_job("xomify-release-radar")
        print(result.stdout, flush=True)
        if result.returncode not in (0, 1):
            print(result.stderr[-3000:], file=sys.stderr)

        user = next(u for u in users if not u["revoked"])
        token = rig.token(user["email"].lower(), user["id"], lifetime=7 * 86400)
        base = f"https://localhost:{rig.https_port}"
        print(f"""
Xomify is running on {base} (self-signed certificate: curl -k).
  PostgreSQL  psql -h 127.0.0.1 -p {rig.postgres.port} -U postgres xomify     (try: SELECT * FROM reporting.enrollment;)
  Sandbox     http://127.0.0.1:{rig.sandbox.port}/_sandbox/stats
  Logs        {run_dir}/pool.log, {run_dir}/nginx-error.log
  Status      curl -k {base}/status

A token for {user['email'].lower()} (7 days):
  export TOKEN={token}

Try:
  curl -k {base}/ping
  curl -k -H "Authorization: Bearer $TOKEN" {base}/wrapped/data
  curl -k -H "Authorization: Bearer $TOKEN" {base}/user/data
  curl -k -H "Authorization: Bearer $TOKEN" {base}/release-radar/check
  curl -k -H "Authorization: Bearer $TOKEN" "{base}/release-radar/history?limit=2"

Serving until Ctrl-C.""", flush=True)
        stop.wait()
        say("stopping")
    finally:
        rig.close()


if __name__ == "__main__":
    main()

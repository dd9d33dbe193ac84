"""Reliability probe: faults under load (SPEC §2, §7.3, §12). PostgreSQL stopped and started under a request loop
(503 JSON during the outage, never a 502 or a hang, full service within 2 s after, nothing acknowledged lost),
workers killed with SIGKILL (replaced, at most the requests in their hands lost), a reload (SIGHUP) with a bad
configuration file or bad secrets (the old workers keep serving, a crash afterwards is replaced with the last good
configuration, the status page counts the failed reload, `xomify-api check-config` tells), and both jobs killed at
random points and rerun (the final database state and playlists equal an uninterrupted run's). Each system's logs
are scanned for secrets before it is closed."""

import os
import random
import signal
import subprocess
import threading
import time

import reliability as R
from api_client import Api
from api_helpers import enrol, new_refresh_token, unique_email, user_api
from job_helpers import FAST, SANDBOX_NOW, database_snapshot, kill_when, sandbox_snapshot
from job_helpers import enrol as enrol_wrapped
from job_helpers import run_job as run_wrapped
from job_helpers import start_job as start_wrapped
from reliability import DEATH, HANG, SERVER_ERROR, WRONG, budget, probe, status, timed
from xomify_rig import bin_dir, wait_until

RECOVERY_SECONDS = 2.0  # "full service within 2 s after" (SPEC §12)
HANG_SECONDS = 2.0  # an answer slower than this during an outage is a hang ("503 quickly instead of hanging")


class Loop:
    """Request loops that record every outcome with its times: (started, finished, status or error, handler)."""

    def __init__(self, port, path, token=None, threads=4, write=None):
        self.port = port
        self.path = path
        self.token = token
        self.threads = threads
        self.write = write  # (path, body maker): one thread posts writes instead
        self.results = []
        self.acknowledged = []  # values written with a 200
        self.attempted = []
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._workers = []

    def _reader(self):
        api = Api(self.port, token=self.token, timeout=15)
        while not self._stop.is_set():
            started = time.monotonic()
            try:
                response = api.get(self.path)
                outcome, handler = response.status, R.handler_of(response.body)
                if response.status >= 400 and handler is None:
                    handler = f"no envelope: {response.body[:60]!r}"
            except Exception as error:  # noqa: BLE001 - every failure is an outcome
                outcome, handler = type(error).__name__, None
                api.reset()
            with self._lock:
                self.results.append((started, time.monotonic(), outcome, handler))
            time.sleep(0.005)  # a steady load, not a saturating one: the machine is shared

    def _writer(self):
        api = Api(self.port, token=self.token, timeout=15)
        path, make = self.write
        number = 0
        while not self._stop.is_set():
            number += 1
            value = f"write-{number}"
            self.attempted.append(value)
            started = time.monotonic()
            try:
                response = api.post(path, make(value))
                outcome, handler = response.status, R.handler_of(response.body)
                if response.status == 200:
                    self.acknowledged.append(value)
            except Exception as error:  # noqa: BLE001
                outcome, handler = type(error).__name__, None
                api.reset()
            with self._lock:
                self.results.append((started, time.monotonic(), outcome, handler))
            time.sleep(0.01)

    def __enter__(self):
        for _ in range(self.threads):
            self._workers.append(threading.Thread(target=self._reader, daemon=True))
        if self.write:
            self._workers.append(threading.Thread(target=self._writer, daemon=True))
        for worker in self._workers:
            worker.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        for worker in self._workers:
            worker.join(30)

    def since(self, moment):
        with self._lock:
            return [r for r in self.results if r[0] >= moment]


def ok(outcome):
    return outcome in (200, 404)


def test_postgres_stopped_and_started_under_load(make_rig):
    rig = make_rig(sandbox=False)
    target = probe("faults: PostgreSQL stopped and started under load")
    api = user_api(rig, unique_email("outage"))
    enrol(api, displayName="before")
    refresh_token = new_refresh_token()
    workers = sorted(rig.worker_pids())
    outages = [("fast", 2.0), ("immediate", 3.0)] if not R.FULL else \
        [("fast", 2.0), ("immediate", 3.0), ("fast", 6.0), ("immediate", 1.0), ("fast", 0.5)]
    with timed(target), Loop(rig.https_port, "/user/data", api.token, threads=4,
                             write=("/user/update", lambda v: {"refreshToken": refresh_token, "displayName": v})) as loop:
        time.sleep(1.0)
        for mode, seconds in outages:
            stop_started = time.monotonic()
            rig.postgres.stop(mode=mode)
            stopped = time.monotonic()
            time.sleep(seconds)
            # Down for certain until `pg_ctl start` begins; it returns a poll interval (0.1 s) or more after the
            # server is ready, so its return does not bound the window in which a 200 would be wrong.
            start_begun = time.monotonic()
            rig.postgres.start()
            started = time.monotonic()
            time.sleep(RECOVERY_SECONDS + 2.0)
            window = loop.since(stop_started)
            name = f"pg_ctl stop -m {mode}, down {seconds:.0f} s, start"
            bad = []
            last_failure_end = None
            for begun, ended, outcome, handler in window:
                took = ended - begun
                if ended - begun > HANG_SECONDS:
                    bad.append((HANG, f"a request took {took:.1f} s ({outcome})"))
                elif outcome == 503 and handler == "nginx":
                    bad.append((SERVER_ERROR, "nginx's own 503: the pool gave nginx no answer (a 502/504 upstream)"))
                elif not ok(outcome) and outcome != 503:
                    bad.append((SERVER_ERROR if isinstance(outcome, int) else HANG, f"answered {outcome} ({handler})"))
                if not ok(outcome) and begun >= started:
                    last_failure_end = max(last_failure_end or 0, ended)
                if stopped + 0.05 <= begun and ended <= start_begun and ok(outcome):
                    bad.append((WRONG, f"a {outcome} while PostgreSQL was down"))
            recovery = (last_failure_end - started) if last_failure_end else 0.0
            target.measure(recovery, f"full service {recovery:.2f} s after PostgreSQL was back ({name})")
            late = [r for r in window if r[0] >= started + RECOVERY_SECONDS and not ok(r[2])]
            if recovery > RECOVERY_SECONDS or late:
                bad.append((WRONG, f"full service only {recovery:.2f} s after PostgreSQL was back "
                                   f"({len(late)} failures after {RECOVERY_SECONDS:.0f} s)"))
            outage = [r for r in window if stopped <= r[0] and r[1] <= started]
            if not any(r[2] == 503 for r in outage):
                bad.append((WRONG, f"no 503 during the outage ({len(outage)} requests in it)"))
            target.passed(max(0, len(window) - len(bad)))
            for severity, evidence in bad[:20]:
                target.failed(name, evidence, severity,
                              "under a loop of GET /user/data: pg_ctl -D DATA -m " + mode + " stop; sleep "
                              f"{seconds:.0f}; pg_ctl -D DATA start")
    # Nothing acknowledged lost: the stored value is the last acknowledged write or a later attempt.
    stored = rig.postgres.psql(f"SELECT display_name FROM users WHERE email = '{api.email}'").strip()
    if loop.acknowledged:
        later = loop.attempted[loop.attempted.index(loop.acknowledged[-1]):]
        if stored not in later:
            target.failed("writes during the outages", f"stored {stored!r}, last acknowledged "
                          f"{loop.acknowledged[-1]!r}: an acknowledged write was lost", WRONG)
        else:
            target.passed()
    if sorted(rig.worker_pids()) != workers:
        target.failed("the pool across the outages", f"workers restarted: {workers} -> {sorted(rig.worker_pids())}",
                      DEATH)
    R.scan_secrets(rig, "PostgreSQL outage rig")
    target.check()


def test_workers_killed_with_sigkill_under_load(make_rig):
    rig = make_rig(sandbox=False, threads=4)
    target = probe("faults: workers killed with SIGKILL")
    rng = random.Random(R.SEED)
    rounds = budget(2, 12)
    supervisor = rig.pool.pid
    crashes_before = status(rig)["pool"]["crashes"]
    kills = 0
    with timed(target), Loop(rig.https_port, "/health", threads=6) as loop:
        time.sleep(0.5)
        for round_ in range(rounds):
            both = R.FULL and round_ % 4 == 3
            victims = rig.worker_pids() if both else [rng.choice(rig.worker_pids())]
            before_kill = time.monotonic()
            for victim in victims:
                os.kill(victim, signal.SIGKILL)
            kills += len(victims)
            name = f"round {round_ + 1}: SIGKILL {'both workers' if both else 'one worker'}"
            try:
                wait_until(lambda: not set(victims) & set(rig.worker_pids()) and len(rig.worker_pids()) == rig.workers,
                           10, interval=0.005, what="replacements")
                replaced = time.monotonic() - before_kill
            except TimeoutError:
                replaced = None
            try:
                wait_until(lambda: status(rig)["pool"]["liveWorkers"] == rig.workers, 10, what="serving again")
            except (TimeoutError, KeyError):
                target.failed(name, "the pool did not serve with all its workers again within 10 s", HANG)
            # Rounds at least 2.6 s apart: the supervisor slows respawns to one a second after more than five
            # crashes in ten seconds (a worker dying at birth over and over); this probe is not such a loop.
            time.sleep(max(0.5, 2.6 - (time.monotonic() - before_kill)) + rng.random() * 0.3)
            window = loop.since(before_kill)
            lost = [r for r in window if r[2] != 200]
            hung = [r for r in window if r[1] - r[0] > 5]
            target.passed(max(0, len(window) - len(lost)))
            if replaced is None or replaced > 1.0:
                target.failed(name, f"replaced after {replaced if replaced is None else round(replaced, 2)} s "
                                    f"(SPEC §2: within a second)", HANG, "kill -9 <worker pid>; watch the pool's children")
            else:
                target.measure(replaced, f"replaced in {replaced * 1000:.0f} ms, {len(lost)} requests lost ({name})")
            if len(lost) > rig.threads * len(victims) or hung:
                target.failed(name, f"{len(lost)} requests lost (at most {rig.threads * len(victims)}, the requests in "
                                    f"the killed workers' hands), {len(hung)} took over 5 s: {lost[:3]}", WRONG,
                              "under a loop of GET /health: kill -9 <worker pid>")
    after = status(rig)["pool"]["crashes"]
    if after - crashes_before != kills:
        target.failed("the status page", f"crashes went {crashes_before} -> {after} for {kills} kills", WRONG)
    if rig.pool.poll() is not None or rig.pool.pid != supervisor:
        target.failed("the supervisor", "the supervisor died", DEATH)
    R.scan_secrets(rig, "SIGKILL rig")
    target.check()


def failed_reload_counter(pool):
    """The status page's count of failed reloads, whatever its name (SPEC §2 leaves it open), or None."""
    for key, value in pool.items():
        lowered = key.lower()
        if "reload" in lowered and ("fail" in lowered or "reject" in lowered or "refus" in lowered):
            return value
    return None


def break_configuration(rig, how):
    """Makes the pool's configuration (or a secret) fail to load; returns a function that restores it."""
    if how == "configuration file":
        path = rig.settings()["XOMIFY_CONFIG"]
        original = open(path).read()
        with open(path, "a") as f:
            f.write("XOMIFY_NOT_A_SETTING=1\nthis line is not a setting\n")
    elif how == "JWT secret":
        path = rig.jwt_secret_file
        original = open(path).read()
        with open(path, "w") as f:
            f.write("too-short\n")
    else:  # token key
        path = rig.token_key_file
        original = open(path).read()
        with open(path, "w") as f:
            f.write("not base64 at all!\n")

    def restore():
        with open(path, "w") as f:
            f.write(original)
    return restore


def check_config(rig):
    result = subprocess.run([os.path.join(bin_dir(), "xomify-api"), "check-config"], env=rig.settings(),
                            capture_output=True, text=True, timeout=60)
    return result.returncode, (result.stdout + result.stderr).strip()


def test_reload_with_a_bad_configuration_keeps_the_old_workers(make_rig):
    target = probe("faults: reload (SIGHUP) with a bad configuration")
    variants = ["configuration file"] if not R.FULL else ["configuration file", "JWT secret", "token key"]
    for how in variants:
        rig = make_rig(sandbox=False)
        with timed(target):
            old = set(rig.worker_pids())
            reloads_before = status(rig)["pool"].get("reloads", 0)
            code, output = check_config(rig)
            if code != 0:
                target.failed("xomify-api check-config on a good configuration", f"exit {code}: {output[:200]!r}",
                              WRONG, "xomify-api check-config  # SPEC §2: validates without serving")
            else:
                target.passed()
            restore = break_configuration(rig, how)
            code, output = check_config(rig)
            if code == 0:
                target.failed(f"bad {how}: xomify-api check-config", f"exit 0 on a bad {how}: {output[:200]!r}", WRONG,
                              "xomify-api check-config  # with the bad file")
            else:
                target.passed()
            with Loop(rig.https_port, "/health", threads=4) as loop:
                time.sleep(0.5)
                hup = time.monotonic()
                rig.pool.send_signal(signal.SIGHUP)
                time.sleep(4.0)
                window = loop.since(hup)
                alive = rig.pool.poll() is None
                now = set(rig.worker_pids())
                pool_status = status(rig).get("pool", {}) if alive else {}
                # A crash after the failed reload: the replacement starts with the last configuration that loaded.
                crash_ok = None
                if alive and now:
                    victim = sorted(now)[0]
                    os.kill(victim, signal.SIGKILL)
                    try:
                        wait_until(lambda: rig.pool.poll() is None and victim not in rig.worker_pids()
                                   and status(rig)["pool"]["liveWorkers"] == rig.workers, 10, what="the replacement")
                        crash_ok = True
                    except (TimeoutError, KeyError):
                        crash_ok = False
                    time.sleep(1.0)
                after_crash = loop.since(hup)
            name = f"SIGHUP with a bad {how}"
            repro = (f"under a loop of GET /health: break the {how} (e.g. append 'XOMIFY_NOT_A_SETTING=1' to "
                     "XOMIFY_CONFIG), kill -HUP <supervisor pid>")
            failures = [r for r in window if r[2] != 200]
            target.passed(max(0, len(window) - len(failures)))
            if not alive:
                target.failed(name, f"the pool exited (status {rig.pool.returncode}): every request refused after it; "
                                    f"{len(failures)} of {len(window)} requests failed, e.g. {failures[:2]}", DEATH, repro)
            elif failures:
                target.failed(name, f"{len(failures)} of {len(window)} requests failed, e.g. {failures[:3]}",
                              SERVER_ERROR, repro)
            if alive and not old <= now:
                target.failed(name, f"the old workers were not kept: {sorted(old)} -> {sorted(now)}", WRONG, repro)
            if alive:
                counter = failed_reload_counter(pool_status)
                if counter is None:
                    target.failed(name, f"the status page counts no failed reload (pool keys: {sorted(pool_status)})",
                                  WRONG, "curl -k https://127.0.0.1:PORT/status after a failed reload")
                elif counter < 1:
                    target.failed(name, f"the status page's failed-reload counter is {counter}", WRONG)
                else:
                    target.passed()
            if crash_ok is False:
                lost = [r for r in after_crash if r[2] != 200]
                target.failed(f"a worker killed after the failed reload ({how})", f"not replaced with the last good "
                              f"configuration: {len(lost)} requests failed after", DEATH, repro + "; kill -9 <worker>")
            elif crash_ok:
                target.passed()
            # The good configuration back, a reload works again.
            restore()
            if rig.pool.poll() is None:
                before = set(rig.worker_pids())
                with Loop(rig.https_port, "/health", threads=4) as loop:
                    time.sleep(0.3)
                    hup = time.monotonic()
                    rig.pool.send_signal(signal.SIGHUP)
                    try:
                        wait_until(lambda: not (set(rig.worker_pids()) & before)
                                   and len(rig.worker_pids()) == rig.workers, 20, what="every worker replaced")
                        replaced = True
                    except TimeoutError:
                        replaced = False
                    time.sleep(0.5)
                    window = loop.since(hup)
                failures = [r for r in window if r[2] != 200]
                reloads = status(rig).get("pool", {}).get("reloads", 0)
                if not replaced or failures:
                    target.failed(f"SIGHUP with the good {how} back", f"replaced: {replaced}, {len(failures)} failed "
                                                                       f"requests {failures[:2]}", WRONG)
                else:
                    target.passed(len(window))
                if reloads <= reloads_before:
                    target.failed(f"SIGHUP with the good {how} back", f"reloads counted {reloads_before} -> {reloads}",
                                  WRONG)
        R.scan_secrets(rig, f"reload rig ({how})")
    target.check()


# -- the jobs ---------------------------------------------------------------------------------------------------

def kill_points(requests, count, rng):
    return sorted(rng.sample(range(3, max(4, requests - 3)), min(count, max(1, requests - 6))))


def killed_then_rerun(target, rig, start, run, period, requests, rng, test):
    """Starts the job again and again, killing it with SIGKILL when the sandbox has received a random number of
    requests (and, in the full run, after random delays), then runs it to the end. Records the kills and a rerun
    that fails; returns the case's name and how to reproduce it, for the comparisons that follow."""
    points = kill_points(requests, budget(1, 8), rng)
    kills = 0
    for point in points:
        job = start(rig, "--period", period)
        kill_when(job, lambda: rig.sandbox.get("/_sandbox/stats")["total"] >= point)
        kills += job.returncode == -9
    for delay in ([] if not R.FULL else [rng.uniform(0.05, 1.5) for _ in range(4)]):
        job = start(rig, "--period", period)
        time.sleep(delay)
        if job.poll() is None:
            job.kill()
            kills += 1
        job.wait(30)
    result = run(rig, "--period", period)
    name = f"{kills} kills (at requests {points}, seed {R.SEED}), then a rerun of {period}"
    repro = f"scripts/reliability with XOMIFY_RELIABILITY_SEED={R.SEED} ({test})"
    if result.returncode != 0:
        target.failed(name, f"the rerun exited {result.returncode}: {(result.stdout + result.stderr)[-300:]}", WRONG,
                      repro)
    target.passed(kills)
    return name, repro


def test_wrapped_job_killed_at_random_points_then_rerun(make_rig):
    target = probe("faults: wrapped job killed at random points")
    rng = random.Random(R.SEED + 11)
    with timed(target):
        reference = make_rig(sandbox_args=["--now", SANDBOX_NOW])
        enrol_wrapped(reference)
        reference.sandbox.post("/_sandbox/config", {"latencyMs": 15})
        period = rng.choice(["2026-06", "2026-10", "2026-12"])
        assert run_wrapped(reference, "--period", period).returncode == 0
        expected_db, expected_playlists = database_snapshot(reference), sandbox_snapshot(reference)
        requests = reference.sandbox.get("/_sandbox/stats")["total"]
        R.scan_secrets(reference, "wrapped reference rig")
        reference.close()

        rig = make_rig(sandbox_args=["--now", SANDBOX_NOW])
        enrol_wrapped(rig)
        rig.sandbox.post("/_sandbox/config", {"latencyMs": 15})
        name, repro = killed_then_rerun(target, rig, start_wrapped, run_wrapped, period, requests, rng,
                                        "test_wrapped_job_killed_at_random_points_then_rerun")
        actual_db = database_snapshot(rig)
        for table in expected_db:
            differing = [(a[0], i) for a, b in zip(actual_db[table], expected_db[table]) for i in range(len(a)) if a[i] != b[i]]
            if differing or len(actual_db[table]) != len(expected_db[table]):
                target.failed(name, f"{table} differs from an uninterrupted run: {differing[:3]} "
                                    f"({len(actual_db[table])} vs {len(expected_db[table])} rows)", WRONG, repro)
            else:
                target.passed()
        if sandbox_snapshot(rig) != expected_playlists:
            target.failed(name, "the playlists differ from an uninterrupted run's (a second playlist, or other "
                                "contents)", WRONG, repro)
        else:
            target.passed()
        R.scan_secrets(rig, "wrapped kills rig")
    target.check()


def test_release_radar_job_killed_at_random_points_then_rerun(make_rig):
    from test_release_radar import WEEK, enrol as enrol_radar, run_job as run_radar, snapshot, start_job as start_radar
    target = probe("faults: release radar job killed at random points")
    rng = random.Random(R.SEED + 13)
    with timed(target):
        reference = make_rig(sandbox_args=["--now", SANDBOX_NOW])
        enrol_radar(reference)
        assert run_radar(reference, "--period", WEEK.key).returncode == 0
        expected = snapshot(reference)
        requests = reference.sandbox.get("/_sandbox/stats")["total"]
        R.scan_secrets(reference, "release radar reference rig")
        reference.close()

        rig = make_rig(sandbox_args=["--now", SANDBOX_NOW])
        enrol_radar(rig)
        rig.sandbox.post("/_sandbox/config", {"latencyMs": 15})
        name, repro = killed_then_rerun(target, rig, start_radar, run_radar, WEEK.key, requests, rng,
                                        "test_release_radar_job_killed_at_random_points_then_rerun")
        actual = snapshot(rig)
        for part in expected:
            if actual[part] != expected[part]:
                target.failed(name, f"{part} differs from an uninterrupted run's", WRONG, repro)
            else:
                target.passed()
        R.scan_secrets(rig, "release radar kills rig")
    target.check()

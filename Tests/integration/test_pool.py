"""The responder pool of SPEC §2 through nginx over HTTPS: crash isolation, reloads, draining, PostgreSQL
outages, body caps, and migrations."""

import json
import os
import shutil
import signal
import subprocess
import threading
import time

import pytest

from api_client import Api
from api_helpers import raw_https
from request_loop import RequestLoop
from xomify_rig import bin_dir, wait_until


def test_ping_and_health(rig, api):
    response = api.get("/ping")
    assert response.status == 200
    assert response.body == b"pong"
    assert response.header("x-request-id")
    health = api.get("/health")
    assert health.status == 200
    assert health.json() == {"status": "ok"}
    assert health.header("content-type") == "application/json; charset=utf-8"
    assert health.header("cache-control") == "private, no-cache"


def test_request_id_is_nginx_request_id(rig, api):
    first, second = api.get("/ping").header("x-request-id"), api.get("/ping").header("x-request-id")
    assert len(first) == 32 and first != second
    # nginx writes the access line after the response: poll the file for it (30 s is a liveness bound only).
    wait_until(lambda: f"rid={second}" in open(os.path.join(rig.directory, "nginx-access.log")).read(), 30,
               what="the access log line")


def test_unknown_path_is_json_404(api):
    response = api.get("/no/such/route")
    assert response.status == 404
    error = response.json()["error"]
    assert error["code"] == "not_found" and error["status"] == 404 and error["requestId"] == response.header("x-request-id")


def test_wrong_method_is_405_with_allow(api):
    response = api.request("DELETE", "/ping", token=None)
    assert response.status == 405
    assert response.header("allow") == "GET"
    assert response.json()["error"]["code"] == "method_not_allowed"


def test_body_over_the_cap_is_413_and_the_worker_lives(rig, api):
    workers = sorted(rig.worker_pids())
    token = rig.token("big@xomify.test")
    response = api.post("/user/update", raw=b'{"refreshToken":"' + b"x" * 70000 + b'"}', token=token)
    assert response.status == 413
    assert response.json()["error"]["code"] == "payload_too_large"
    # Over nginx's own limit (1 MB in the test template) nginx answers, in the same envelope.
    response = api.post("/user/update", raw=b"x" * (2 << 20), token=token)
    assert response.status == 413
    assert response.json()["error"]["code"] == "payload_too_large"
    assert api.get("/ping").status == 200
    assert sorted(rig.worker_pids()) == workers


def test_status_page_counts_workers_and_requests(rig, api):
    status = api.get("/status").json()
    assert status["pool"]["configuredWorkers"] == rig.workers
    assert status["pool"]["liveWorkers"] == rig.workers
    assert sorted(w["pid"] for w in status["workers"]) == sorted(rig.worker_pids())
    before = status["pool"]["acceptedRequests"]
    for _ in range(5):
        api.get("/ping")
    assert api.get("/status").json()["pool"]["acceptedRequests"] >= before + 5


def test_killed_worker_is_replaced_and_only_its_requests_fail(make_rig):
    rig = make_rig(sandbox=False, threads=4)
    supervisor = rig.pool.pid
    victim = rig.worker_pids()[0]
    with RequestLoop(rig.https_port, "/health", threads=6) as loop:
        loop.wait_for(200)
        os.kill(victim, signal.SIGKILL)
        # A liveness bound, many times what a replacement takes: SPEC §2's "within a second" is a speed, which
        # a loaded CI machine must not be able to fail; it belongs in a benchmark.
        wait_until(lambda: victim not in rig.worker_pids() and len(rig.worker_pids()) == rig.workers, 20,
                   what="a replacement worker")
        count = len(loop.results)
        loop.wait_for(count + 300)
    assert rig.pool.pid == supervisor and rig.pool.poll() is None
    # At most the requests the killed worker was holding (one per responder thread) failed.
    assert len(loop.failures) <= rig.threads, loop.failures
    status = Api(rig.https_port).get("/status").json()
    assert status["pool"]["crashes"] == 1


def test_sighup_replaces_every_worker_with_no_failed_request(make_rig):
    rig = make_rig(sandbox=False)
    before = set(rig.worker_pids())
    with RequestLoop(rig.https_port, "/health", threads=6) as loop:
        loop.wait_for(200)
        rig.pool.send_signal(signal.SIGHUP)
        wait_until(lambda: not (set(rig.worker_pids()) & before) and len(rig.worker_pids()) == rig.workers, 20,
                   what="every worker replaced")
        count = len(loop.results)
        loop.wait_for(count + 200)
    assert loop.failures == []
    assert len(loop.results) > 400
    assert Api(rig.https_port).get("/status").json()["pool"]["reloads"] == 1


@pytest.mark.parametrize("breakage", ["file line", "short secret"])
def test_a_reload_that_does_not_load_keeps_the_pool_serving(make_rig, breakage):
    """SIGHUP (what `systemctl reload` sends) after a typo: the old workers keep serving, one log line names the
    setting, the status page counts a failed reload; a worker that crashes while the file is bad is replaced with
    the configuration the pool last loaded. Then the file is mended and a reload goes through."""
    rig = make_rig(sandbox=False)
    config = os.path.join(rig.directory, "xomify.conf")
    before = sorted(rig.worker_pids())
    with RequestLoop(rig.https_port, "/health", threads=4) as loop:
        loop.wait_for(100)
        if breakage == "file line":
            with open(config, "a") as f:
                f.write("XOMIFY_WORKRES = 3\n")  # a typo: an unknown setting
            setting = "XOMIFY_WORKRES"
        else:
            with open(rig.jwt_secret_file, "w") as f:
                f.write("too-short\n")
            setting = "XOMIFY_JWT_SECRET_FILE"
        rig.pool.send_signal(signal.SIGHUP)
        wait_until(lambda: Api(rig.https_port).get("/status").json()["pool"]["failedReloads"] == 1, 20,
                   what="the failed reload counted")
        refused = [line for line in open(rig.pool_log, errors="replace") if "reload refused" in line]
        assert len(refused) == 1 and setting in refused[0], refused
        assert sorted(rig.worker_pids()) == before
        # A crash while the file is bad: the replacement starts with the last good configuration.
        os.kill(before[0], signal.SIGKILL)
        wait_until(lambda: before[0] not in rig.worker_pids() and len(rig.worker_pids()) == rig.workers, 20,
                   what="the killed worker replaced")
        count = len(loop.results)
        loop.wait_for(count + 200)
    # Only what the killed worker held may be lost (nginx answers those 503), never a refused reload's doing.
    assert len(loop.failures) <= rig.threads and all(f[0] == 503 for f in loop.failures), loop.failures
    status = Api(rig.https_port).get("/status").json()["pool"]
    assert status["liveWorkers"] == rig.workers and status["reloads"] == 0
    # Mended: the next reload replaces every worker.
    if breakage == "file line":
        open(config, "w").write("# mended\n")
    else:
        open(rig.jwt_secret_file, "w").write(rig.jwt_secret + "\n")
    current = set(rig.worker_pids())
    rig.pool.send_signal(signal.SIGHUP)
    wait_until(lambda: not (set(rig.worker_pids()) & current) and len(rig.worker_pids()) == rig.workers, 20,
               what="every worker replaced")
    assert Api(rig.https_port).get("/status").json()["pool"]["reloads"] == 1


def test_sigterm_lets_an_in_flight_request_finish_then_exits(make_rig):
    # The request waits on a lock for as long as the test holds it: a statement_timeout far above the test's
    # needs keeps the pool's own deadline out of the way.
    rig = make_rig(sandbox=False, settings={"XOMIFY_REQUEST_TIMEOUT_MS": "120000"})
    email = "slow@xomify.test"
    api = Api(rig.https_port, token=rig.token(email))
    assert api.post("/user/update", {"userId": "slow", "refreshToken": "t" * 20}).status == 200
    # Hold a lock the request needs, so that it is in flight when SIGTERM arrives, until the test lets it go.
    outcome = {}
    with rig.postgres.transaction_holding("LOCK TABLE users IN ACCESS EXCLUSIVE MODE") as lock:
        def slow_request():
            outcome["response"] = Api(rig.https_port, token=rig.token(email), timeout=120).get("/user/data")

        request = threading.Thread(target=slow_request)
        request.start()

        def waiting_on_the_lock():
            return int(rig.postgres.psql("SELECT count(*) FROM pg_stat_activity WHERE datname = 'xomify' "
                                         "AND wait_event_type = 'Lock' AND state = 'active'").strip())

        # In flight: a pool thread's query is waiting for the lock in PostgreSQL.
        wait_until(lambda: waiting_on_the_lock() == 1, 30, what="the request waiting on the lock")
        rig.pool.send_signal(signal.SIGTERM)
        wait_until(lambda: "draining for shutdown" in open(rig.pool_log, errors="replace").read(), 30,
                   what="the supervisor draining")
        # Draining, not gone: the request is still waiting and the pool still up.
        assert waiting_on_the_lock() == 1 and rig.pool.poll() is None and not outcome
        lock.commit()
        # Liveness bounds, far above what finishing one request needs; still below the pool's 30 s drain
        # timeout, so that a pool that only exits when the drain times out fails here.
        request.join(20)
        rig.pool.wait(20)
    assert not request.is_alive(), "the in-flight request did not finish"
    assert outcome["response"].status == 200, outcome["response"]
    assert outcome["response"].json()["email"] == email
    assert rig.pool.returncode == 0
    assert not os.path.exists(rig.socket)


def test_postgres_outage_gives_fast_503s_then_recovers_without_restart(make_rig):
    rig = make_rig(sandbox=False)
    api = Api(rig.https_port, timeout=10)
    workers = sorted(rig.worker_pids())
    assert api.get("/health").status == 200
    rig.postgres.stop()
    # (pg_ctl stop has returned: PostgreSQL is down.) The first health check after it already answers 503.
    health = api.get("/health")
    assert health.status == 503 and health.json() == {"status": "unavailable"}, health
    token = rig.token("outage@xomify.test")
    timings = []
    for _ in range(20):
        started = time.monotonic()
        response = api.get("/user/data", token=token)
        timings.append(time.monotonic() - started)
        assert response.status == 503
        assert response.json()["error"]["code"] == "service_unavailable"
    # "503 quickly instead of hanging" (SPEC §2), as a liveness bound: a thread that hung on the lost
    # connection would hold its request until the client's 10 s timeout; answering takes milliseconds, so 5 s
    # cannot be missed by a loaded machine. How quickly is for the benchmarks.
    assert max(timings) < 5, timings
    rig.postgres.start()
    # Back without a restart. The bounds are liveness bounds, not SPEC §12's "full service within 2 s", which is
    # a speed for the benchmarks.
    wait_until(lambda: api.get("/health").status == 200, 30, interval=0.02, what="health 200")
    # Every thread reconnects on its own: soon every request succeeds again.
    wait_until(lambda: all(api.get("/user/data", token=token).status == 404 for _ in range(16)), 30,
               what="all threads reconnected")
    assert sorted(rig.worker_pids()) == workers


def test_max_requests_recycles_workers(make_rig):
    rig = make_rig(sandbox=False, settings={"XOMIFY_MAX_REQUESTS": "50"})
    first = set(rig.worker_pids())
    api = Api(rig.https_port)
    for _ in range(300):
        assert api.get("/ping").status == 200
    # Polled until both first workers are gone and replaced (30 s: a liveness bound).
    wait_until(lambda: not first & set(rig.worker_pids()) and len(rig.worker_pids()) == rig.workers, 30,
               what="workers replaced")
    assert api.get("/status").json()["pool"]["recycled"] >= 2


def test_migrations_twice_in_a_row_and_twice_at_once(make_rig):
    rig = make_rig(sandbox=False, threads=1)
    schema = rig.postgres.psql("SELECT string_agg(version, ',' ORDER BY version) FROM schema_migrations").strip()
    files = sorted(f[:4] for f in os.listdir(os.path.join(os.path.dirname(__file__), "..", "..", "sql")) if f.endswith(".sql"))
    assert schema == ",".join(files)
    # Again: nothing to do.
    assert "schema is up to date" in rig.migrate().stderr
    # A fresh database migrated by two processes at once.
    rig.postgres.create_database("twice")
    env = rig.settings(XOMIFY_DATABASE_URL=rig.postgres.conninfo("twice"))
    runs = [subprocess.Popen([os.path.join(bin_dir(), "xomify-api"), "migrate"], env=env, stderr=subprocess.PIPE,
                             text=True) for _ in range(2)]
    outputs = [run.communicate(timeout=120)[1] for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    assert rig.postgres.psql("SELECT string_agg(version, ',' ORDER BY version) FROM schema_migrations",
                             database="twice").strip() == ",".join(files)
    assert sum("migrations applied" in output for output in outputs) == 1
    tables = rig.postgres.psql("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'",
                               database="twice").strip()
    assert tables == rig.postgres.psql("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'").strip()


def test_a_database_of_the_previous_schema_upgrades_with_migrate(make_rig, tmp_path):
    """A database made by the migrations before the newest one, holding data, upgrades with `xomify-api migrate`
    and serves the same answers after."""
    rig = make_rig(sandbox=False, threads=1)
    sql = os.path.join(os.path.dirname(__file__), "..", "..", "sql")
    files = sorted(f for f in os.listdir(sql) if f.endswith(".sql"))
    older = tmp_path / "sql"
    older.mkdir()
    for name in files[:-1]:
        shutil.copy(os.path.join(sql, name), older / name)
    rig.postgres.create_database("upgrade")
    env = rig.settings(XOMIFY_DATABASE_URL=rig.postgres.conninfo("upgrade"), XOMIFY_SQL_DIR=str(older))
    subprocess.run([os.path.join(bin_dir(), "xomify-api"), "migrate"], env=env, check=True, capture_output=True,
                   timeout=120)
    rig.postgres.psql("""
        INSERT INTO users (email, spotify_user_id, active, active_wrapped) VALUES ('old@xomify.test', 'old', true, true);
        INSERT INTO wrapped_months (email, month_key, short_term_track_ids, medium_term_track_ids, long_term_track_ids,
            short_term_artist_ids, medium_term_artist_ids, long_term_artist_ids, genre_scores, api_json)
        VALUES ('old@xomify.test', '2026-01', '{t}', '{t}', '{t}', '{a}', '{a}', '{a}',
            '{"short_term": [], "medium_term": [], "long_term": []}', '{"monthKey":"2026-01"}');
        INSERT INTO job_runs (job, period_key, host, pid, process_start, status, finished_at)
        VALUES ('wrapped', '2026-01', 'h', 1, 1, 'succeeded', now());
        INSERT INTO job_items (job, period_key, email, status, finished_at) VALUES ('wrapped', '2026-01', 'old@xomify.test', 'done', now());
        """, database="upgrade")
    before = rig.postgres.rows("SELECT revision, wraps_revision FROM users", database="upgrade")
    env["XOMIFY_SQL_DIR"] = sql
    upgraded = subprocess.run([os.path.join(bin_dir(), "xomify-api"), "migrate"], env=env, capture_output=True,
                              text=True, timeout=120)
    assert upgraded.returncode == 0 and "migrations applied" in upgraded.stderr, upgraded.stderr
    assert rig.postgres.psql("SELECT max(version) FROM schema_migrations", database="upgrade").strip() == files[-1][:4]
    assert rig.postgres.rows("SELECT revision, wraps_revision FROM users", database="upgrade") == before
    assert rig.postgres.rows("SELECT status FROM reporting.job_history", database="upgrade") == [["succeeded"]]
    # The triggers work on the upgraded rows.
    rig.postgres.psql("UPDATE wrapped_months SET api_json = '{\"monthKey\":\"2026-01\",\"x\":1}'", database="upgrade")
    after = rig.postgres.rows("SELECT revision, wraps_revision FROM users", database="upgrade")
    assert after[0][0] == before[0][0] and int(after[0][1]) > int(before[0][1])


@pytest.mark.parametrize("case", ["missing secret file", "short jwt secret", "bad integer", "unknown file key"])
def test_bad_configuration_refuses_to_start_with_one_line(rig, tmp_path, case):
    secret = "s" * 20
    short = tmp_path / "short-secret"
    short.write_text(secret)
    config = tmp_path / "xomify.conf"
    config.write_text("XOMIFY_WORKERS=2\n")
    overrides = {"XOMIFY_LISTEN": str(tmp_path / "api.sock"), "XOMIFY_CONFIG": str(config)}
    if case == "missing secret file":
        overrides["XOMIFY_JWT_SECRET_FILE"] = str(tmp_path / "nope")
        expected = "XOMIFY_JWT_SECRET_FILE"
    elif case == "short jwt secret":
        overrides["XOMIFY_JWT_SECRET_FILE"] = str(short)
        expected = "XOMIFY_JWT_SECRET_FILE"
    elif case == "bad integer":
        overrides["XOMIFY_THREADS"] = "many"
        expected = "XOMIFY_THREADS"
    else:
        config.write_text("XOMIFY_JWT_SECRET=" + secret + "\n")
        expected = "XOMIFY_JWT_SECRET"
    result = subprocess.run([os.path.join(bin_dir(), "xomify-api")], env=rig.settings(**overrides),
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 78
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert expected in lines[0]
    assert secret not in result.stderr and secret not in result.stdout
    assert not os.path.exists(tmp_path / "api.sock")


def test_help_documents_every_option():
    result = subprocess.run([os.path.join(bin_dir(), "xomify-api"), "--help"], capture_output=True, text=True)
    assert result.returncode == 0
    for flag in ["--database-url", "--listen", "--workers", "--threads", "--max-requests", "--jwt-secret-file",
                 "--token-key-file", "--legacy-tokens", "--admin-emails", "--log-level", "migrate"]:
        assert flag in result.stdout


def test_nginx_answers_its_own_errors_in_the_json_envelope(api):
    too_long = api.get("/ping?" + "a" * 10000)
    assert too_long.status == 414
    assert too_long.json()["error"]["code"] == "invalid_input"
    assert too_long.json()["error"]["requestId"] == too_long.header("x-request-id")


@pytest.mark.parametrize("raw, status", [
    (b"GET /ping HTTP/9.9\r\nHost: localhost\r\n\r\n", 505),
    (b"POST /user/update HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: gzip, chunked\r\nConnection: close\r\n\r\n"
     b"0\r\n\r\n", 501),
    (b"GET /ping HTTP/1.1\r\nHost: localhost\r\nX-Big: " + b"a" * 20000 + b"\r\nConnection: close\r\n\r\n", 400),
])
def test_nginx_answers_protocol_errors_in_the_json_envelope(rig, raw, status):
    answered, headers, body = raw_https(rig.https_port, raw)
    assert answered == status
    assert headers["content-type"] == "application/json; charset=utf-8"
    error = json.loads(body)["error"]
    assert error["status"] == status and error["code"] == "invalid_input" and error["handler"] == "nginx"
    assert error["requestId"] == headers["x-request-id"]
    assert headers["strict-transport-security"].startswith("max-age=")

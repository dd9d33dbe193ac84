"""The responder pool of SPEC §2 through nginx over HTTPS: crash isolation, reloads, draining, PostgreSQL
outages, body caps, and migrations."""

import os
import signal
import subprocess
import threading
import time

import pytest

from api_client import Api
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
    # nginx writes the access line after the response; give it a moment.
    wait_until(lambda: f"rid={second}" in open(os.path.join(rig.directory, "nginx-access.log")).read(), 2,
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
        wait_until(lambda: victim not in rig.worker_pids() and len(rig.worker_pids()) == rig.workers, 1.5,
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


def test_sigterm_lets_an_in_flight_request_finish_then_exits(make_rig):
    rig = make_rig(sandbox=False)
    email = "slow@xomify.test"
    api = Api(rig.https_port, token=rig.token(email))
    assert api.post("/user/update", {"userId": "slow", "refreshToken": "t" * 20}).status == 200
    # Hold a lock the request needs, so that it is in flight when SIGTERM arrives.
    locker = subprocess.Popen(["psql", "-X", "-q", "-h", "127.0.0.1", "-p", str(rig.postgres.port), "-U", "postgres",
                               "-d", "xomify"], stdin=subprocess.PIPE, text=True)
    locker.stdin.write("BEGIN; LOCK TABLE users IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(2); COMMIT;\n")
    locker.stdin.flush()
    time.sleep(0.5)
    outcome = {}

    def slow_request():
        started = time.monotonic()
        outcome["response"] = Api(rig.https_port, token=rig.token(email)).get("/user/data")
        outcome["seconds"] = time.monotonic() - started

    request = threading.Thread(target=slow_request)
    request.start()
    time.sleep(0.3)
    rig.pool.send_signal(signal.SIGTERM)
    sent = time.monotonic()
    request.join(30)
    rig.pool.wait(15)
    locker.stdin.close()
    locker.wait(10)
    assert outcome["response"].status == 200, outcome["response"]
    assert outcome["seconds"] > 1
    assert time.monotonic() - sent < 6
    assert rig.pool.returncode == 0
    assert not os.path.exists(rig.socket)


def test_postgres_outage_gives_fast_503s_then_recovers_without_restart(make_rig):
    rig = make_rig(sandbox=False)
    api = Api(rig.https_port, timeout=10)
    workers = sorted(rig.worker_pids())
    assert api.get("/health").status == 200
    rig.postgres.stop()
    stopped = time.monotonic()
    wait_until(lambda: api.get("/health").status == 503, 5, what="health 503")
    assert time.monotonic() - stopped < 1.5
    token = rig.token("outage@xomify.test")
    timings = []
    for _ in range(20):
        started = time.monotonic()
        response = api.get("/user/data", token=token)
        timings.append(time.monotonic() - started)
        assert response.status == 503
        assert response.json()["error"]["code"] == "service_unavailable"
    assert max(timings) < 1.5, timings
    rig.postgres.start()
    started = time.monotonic()
    wait_until(lambda: api.get("/health").status == 200, 5, interval=0.02, what="health 200")
    assert time.monotonic() - started < 2
    # Every thread reconnects on its own: soon every request succeeds again.
    wait_until(lambda: all(api.get("/user/data", token=token).status == 404 for _ in range(16)), 3,
               what="all threads reconnected")
    assert sorted(rig.worker_pids()) == workers


def test_max_requests_recycles_workers(make_rig):
    rig = make_rig(sandbox=False, settings={"XOMIFY_MAX_REQUESTS": "50"})
    first = set(rig.worker_pids())
    api = Api(rig.https_port)
    for _ in range(300):
        assert api.get("/ping").status == 200
    wait_until(lambda: len(rig.worker_pids()) == rig.workers, 5, what="workers replaced")
    assert not first & set(rig.worker_pids())
    assert api.get("/status").json()["pool"]["recycled"] >= 2


def test_migrations_twice_in_a_row_and_twice_at_once(make_rig):
    rig = make_rig(sandbox=False, threads=1)
    expected = sorted(f[:4] for f in os.listdir(os.path.join(os.path.dirname(bin_dir()), "..", "sql"))
                      if f.endswith(".sql")) if False else None
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

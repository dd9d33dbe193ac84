"""The pool's FastCGI connections (SPEC §2, "no thread is held hostage"), talked to straight on its socket: a
kept connection (FCGI_KEEP_CONN) is served request after request and holds no thread while idle, a connection
that does not send its whole request in time is closed whatever it sent, and a request past its limit answers
503 with its thread back in the pool."""

import subprocess
import threading
import time

from api_client import Api
from api_helpers import unique_email
from fastcgi_client import BEGIN_REQUEST, PARAMS, Connection, begin, record, request_bytes, name_value
from xomify_rig import wait_until


def pool_status(rig):
    return Api(rig.https_port, timeout=30).get("/status").json()


def test_a_kept_connection_is_served_request_after_request(rig):
    # Nothing else reaches the pool meanwhile: a kept connection's next request must not wait for another
    # connection to arrive (the socket's 10 s timeout would end this test).
    with Connection(rig.socket, timeout=10) as connection:
        for _ in range(20):
            response = connection.request("GET", "/ping", keep=True)
            assert (response.status, response.body) == (200, b"pong")
        answer = connection.request("GET", "/health", keep=True)
        assert answer.status == 200 and answer.headers["content-type"].startswith("application/json")
        # Without the flag the pool ends the connection after the answer.
        assert connection.request("GET", "/ping", keep=False).status == 200
        assert connection.closed_by_peer()


def test_idle_kept_connections_hold_no_thread(make_rig):
    rig = make_rig(sandbox=False, workers=1, threads=2)
    kept = [Connection(rig.socket, timeout=10) for _ in range(8)]
    try:
        for connection in kept:
            assert connection.request("GET", "/ping", keep=True).status == 200
        # Eight idle kept connections and two threads: a new connection is still served at once...
        assert Api(rig.https_port, timeout=10).get("/ping").status == 200
        parked = pool_status(rig)["workers"][0]["parkedConnections"]
        assert parked == 8, parked
        # ...and every kept connection's next request too, in any order.
        for connection in reversed(kept):
            assert connection.request("GET", "/ping", keep=True).status == 200
    finally:
        for connection in kept:
            connection.close()


def stalled_connections(rig):
    """Connections that sent nothing, part of a record header, part of a record, parameters never ended, and a
    request whose body never ends."""
    whole = request_bytes("GET", "/ping")
    stalled = [Connection(rig.socket, timeout=15) for _ in range(3)]
    for cut in (5, 8, 20):
        connection = Connection(rig.socket, timeout=15)
        connection.send(whole[:cut])
        stalled.append(connection)
    connection = Connection(rig.socket, timeout=15)
    connection.send(begin() + record(PARAMS, 1, name_value("REQUEST_METHOD", "GET")))
    stalled.append(connection)
    connection = Connection(rig.socket, timeout=15)
    connection.send(request_bytes("POST", "/user/update", body=b"x" * 100)[:-8 - 100 + 10])
    stalled.append(connection)
    return stalled


def test_connections_whose_request_is_not_whole_hold_no_thread_and_are_closed(make_rig):
    rig = make_rig(sandbox=False, workers=1, threads=2, settings={"XOMIFY_REQUEST_READ_TIMEOUT_MS": "4000"})
    workers = rig.worker_pids()
    stalled = stalled_connections(rig)
    try:
        # Eight stalled connections, two threads: nginx's requests are served while the stalled ones are still
        # open (they wait parked, holding no thread)...
        api = Api(rig.https_port, timeout=30)
        for _ in range(5):
            assert api.get("/ping").status == 200
        for connection in stalled:
            connection.sock.settimeout(0.05)
            assert not connection.closed_by_peer(), "a stalled connection was closed before its read timeout"
        # ...and closed at the read timeout.
        for connection in stalled:
            connection.sock.settimeout(15)
            assert connection.closed_by_peer(), "a stalled connection was left open"
    finally:
        for connection in stalled:
            connection.close()
    status = pool_status(rig)
    assert status["pool"]["requestReadTimeouts"] >= len(stalled), status["pool"]
    assert rig.worker_pids() == workers


def test_a_request_dribbled_byte_by_byte_is_cut_off_at_the_read_timeout(make_rig):
    rig = make_rig(sandbox=False, workers=1, threads=1, settings={"XOMIFY_REQUEST_READ_TIMEOUT_MS": "1000"})
    data = request_bytes("GET", "/ping", headers={"X-Padding": "p" * 200})
    started = time.monotonic()
    cut_off = False
    with Connection(rig.socket, timeout=10) as connection:
        # One byte every 50 ms: each read gets something, so only a bound on the whole request can end it.
        for index in range(len(data)):
            try:
                connection.send(data[index:index + 1])
            except (BrokenPipeError, ConnectionResetError):
                cut_off = True
                break
            time.sleep(0.05)
        elapsed = time.monotonic() - started
    assert cut_off, "the whole request was accepted byte by byte"
    # The dribble would take over 15 s; the pool ends it near its 1 s read timeout (bound for a loaded machine).
    assert elapsed < 10, elapsed
    assert Api(rig.https_port, timeout=10).get("/ping").status == 200


def test_a_request_past_its_limit_answers_503_and_writes_nothing(make_rig):
    rig = make_rig(sandbox=False, workers=1, threads=2, settings={"XOMIFY_REQUEST_TIMEOUT_MS": "1500"})
    workers = rig.worker_pids()
    email = unique_email("limit")
    api = Api(rig.https_port, token=rig.token(email), timeout=30)
    assert api.post("/user/update", {"userId": "limit-user", "refreshToken": "t" * 20}).status == 200
    # A transaction elsewhere holds the user's row: reading it is free, the request's write waits on the lock.
    locker = subprocess.Popen(["psql", "-X", "-q", "-h", "127.0.0.1", "-p", str(rig.postgres.port), "-U", "postgres",
                               "-d", "xomify"], stdin=subprocess.PIPE, text=True)
    outcome = {}
    try:
        locker.stdin.write(f"BEGIN; SELECT 1 FROM users WHERE email = '{email}' FOR UPDATE;\n")
        locker.stdin.flush()
        wait_until(lambda: rig.postgres.psql(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'transactionid' AND mode = 'ExclusiveLock' "
            "AND pid <> pg_backend_pid()").strip() != "0", 30, what="the row lock")
        request = threading.Thread(target=lambda: outcome.update(
            response=api.post("/user/update", {"releaseRadarEnrolled": True}),
            at=time.monotonic()))
        started = time.monotonic()
        request.start()
        # The status page shows the thread busy with it, and since when.
        busy = []

        def busy_with_the_update():
            busy[:] = [t for w in pool_status(rig)["workers"] for t in w["threads"]
                       if t["state"] == "busy" and t.get("request") == "POST /user/update"]
            return bool(busy)

        wait_until(busy_with_the_update, 10, interval=0.05, what="the update on the status page")
        assert busy[0]["forMs"] >= 0 and busy[0]["sinceMs"] > 0
        request.join(30)
        assert not request.is_alive()
        response = outcome["response"]
        assert response.status == 503, response
        assert response.json()["error"]["code"] == "service_unavailable"
        # Ended by its own deadline, not by the client's or PostgreSQL's timeouts (30 s, none).
        assert outcome["at"] - started < 10
        # Its thread is back: nothing is busy with it any more, and the same worker serves on.
        assert not busy_with_the_update()
        assert api.get("/user/data").status == 200
        assert rig.worker_pids() == workers
        # The write given up on never happens, even once the lock is free.
        time.sleep(2)
        locker.stdin.write("COMMIT;\n")
        locker.stdin.close()
        locker.wait(30)
    finally:
        if locker.poll() is None:
            locker.kill()
            locker.wait()
    time.sleep(1)
    assert rig.postgres.psql(f"SELECT active_release_radar FROM users WHERE email = '{email}'").strip() == "f"
    assert pool_status(rig)["pool"]["terminatedRequests"] == 0

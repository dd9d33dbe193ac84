"""The pool's FastCGI connections (SPEC §2, "no thread is held hostage"), talked to straight on its socket: a
kept connection (FCGI_KEEP_CONN) is served request after request and holds no thread while idle, a connection
that does not send its whole request in time holds no thread and is closed whatever it sent, and a request past
its limit answers 503 with its thread back in the pool."""

import socket
import threading
import time

from api_client import Api
from api_helpers import unique_email
from fastcgi_client import KEEP_CONN, PARAMS, begin, connect, pair, read_answer, record, request, wait_closed
from xomify_rig import wait_until


def pool_status(rig):
    return Api(rig.https_port, timeout=30).get("/status").json()


def exchange(sock, **fields):
    """Sends one whole request and returns (status, headers, body) of its answer."""
    sock.sendall(request(**fields))
    answer = read_answer(sock, timeout=10)
    assert 1 in answer.ended, answer
    return answer.http()


def test_a_kept_connection_is_served_request_after_request(rig):
    # Nothing else reaches the pool meanwhile: a kept connection's next request must not wait for another
    # connection to arrive (read_answer's 10 s would end this test).
    sock = connect(rig.socket, timeout=10)
    try:
        for _ in range(20):
            status, _, body = exchange(sock, flags=KEEP_CONN)
            assert (status, body) == (200, b"pong")
        status, headers, _ = exchange(sock, flags=KEEP_CONN, path="/health")
        assert status == 200 and headers["content-type"].startswith("application/json")
        # Without the flag the pool ends the connection after the answer.
        assert exchange(sock)[0] == 200
        assert wait_closed(sock, 10) is not None
    finally:
        sock.close()


def test_idle_kept_connections_hold_no_thread(make_rig):
    rig = make_rig(sandbox=False, workers=1, threads=2)
    kept = [connect(rig.socket, timeout=10) for _ in range(8)]
    try:
        for sock in kept:
            assert exchange(sock, flags=KEEP_CONN)[0] == 200
        # Eight idle kept connections and two threads: a new connection is still served at once...
        assert Api(rig.https_port, timeout=10).get("/ping").status == 200
        parked = pool_status(rig)["workers"][0]["parkedConnections"]
        assert parked == 8, parked
        # ...and every kept connection's next request too, in any order.
        for sock in reversed(kept):
            assert exchange(sock, flags=KEEP_CONN)[0] == 200
    finally:
        for sock in kept:
            sock.close()


def stalled_connections(rig):
    """Connections that sent nothing, part of a record header, part of a record, parameters never ended, and a
    request whose body never ends."""
    whole = request()
    stalled = [connect(rig.socket, timeout=15) for _ in range(3)]
    for cut in (5, 8, 20):
        sock = connect(rig.socket, timeout=15)
        sock.sendall(whole[:cut])
        stalled.append(sock)
    sock = connect(rig.socket, timeout=15)
    sock.sendall(begin() + record(PARAMS, 1, pair("REQUEST_METHOD", "GET")))
    stalled.append(sock)
    sock = connect(rig.socket, timeout=15)
    sock.sendall(request(method="POST", path="/user/update", body=b"x" * 100)[:-8 - 100 + 10])
    stalled.append(sock)
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
        for sock in stalled:
            assert wait_closed(sock, 0.05) is None, "a stalled connection was closed before its read timeout"
        # ...and closed at the read timeout.
        for sock in stalled:
            assert wait_closed(sock, 15) is not None, "a stalled connection was left open"
    finally:
        for sock in stalled:
            sock.close()
    status = pool_status(rig)
    assert status["pool"]["requestReadTimeouts"] >= len(stalled), status["pool"]
    assert rig.worker_pids() == workers


def test_a_request_dribbled_byte_by_byte_is_cut_off_at_the_read_timeout(make_rig):
    rig = make_rig(sandbox=False, workers=1, threads=1, settings={"XOMIFY_REQUEST_READ_TIMEOUT_MS": "1000"})
    data = request(extra=[("HTTP_X_PADDING", "p" * 200)])
    started = time.monotonic()
    cut_off = False
    sock = connect(rig.socket, timeout=10)
    try:
        # One byte every 50 ms: each look finds something new, so only a bound on the whole request can end it.
        for index in range(len(data)):
            try:
                sock.sendall(data[index:index + 1])
            except (BrokenPipeError, ConnectionResetError):
                cut_off = True
                break
            time.sleep(0.05)
        elapsed = time.monotonic() - started
    finally:
        sock.close()
    assert cut_off, "the whole request was accepted byte by byte"
    # The dribble would take over 30 s; the pool ends it near its 1 s read timeout (bound for a loaded machine).
    assert elapsed < 10, elapsed
    assert Api(rig.https_port, timeout=10).get("/ping").status == 200


def test_a_request_whose_sender_is_done_before_it_is_whole_is_closed_at_once(make_rig):
    rig = make_rig(sandbox=False, workers=1, threads=1, settings={"XOMIFY_REQUEST_READ_TIMEOUT_MS": "60000"})
    sock = connect(rig.socket, timeout=10)
    try:
        sock.sendall(request()[:30])
        sock.shutdown(socket.SHUT_WR)  # nothing more will come
        # Long before the 60 s read timeout (the bound is for a loaded machine).
        assert wait_closed(sock, 10) is not None
    finally:
        sock.close()


def test_a_parameter_declared_longer_than_allowed_is_refused_without_a_worker_death(make_rig):
    rig = make_rig(sandbox=False, workers=1, threads=1)
    workers = rig.worker_pids()
    # The lengths on which libfcgi's own allocation checks abort the process.
    oversized = bytes([0xff, 0xff, 0xff, 0xfe, 1]) + b"ab"
    sock = connect(rig.socket, timeout=10)
    try:
        sock.sendall(begin() + record(PARAMS, 1, oversized))
        assert wait_closed(sock, 10) is not None
    finally:
        sock.close()
    assert Api(rig.https_port, timeout=10).get("/ping").status == 200
    assert rig.worker_pids() == workers
    assert pool_status(rig)["pool"]["crashes"] == 0


def test_a_request_past_its_limit_answers_503_and_writes_nothing(make_rig):
    rig = make_rig(sandbox=False, workers=1, threads=2, settings={"XOMIFY_REQUEST_TIMEOUT_MS": "3000"})
    workers = rig.worker_pids()
    email = unique_email("limit")
    api = Api(rig.https_port, token=rig.token(email), timeout=30)
    assert api.post("/user/update", {"userId": "limit-user", "refreshToken": "t" * 20}).status == 200
    # A transaction elsewhere holds the user's row: reading it is free, the request's write waits on the lock.
    outcome = {}
    with rig.postgres.transaction_holding(f"SELECT 1 FROM users WHERE email = '{email}' FOR UPDATE") as lock:
        request_thread = threading.Thread(target=lambda: outcome.update(
            response=api.post("/user/update", {"releaseRadarEnrolled": True}),
            at=time.monotonic()))
        started = time.monotonic()
        request_thread.start()
        # The status page shows the thread busy with it, and since when.
        busy = []

        def busy_with_the_update():
            busy[:] = [t for w in pool_status(rig)["workers"] for t in w["threads"]
                       if t["state"] == "busy" and t.get("request") == "POST /user/update"]
            return bool(busy)

        wait_until(busy_with_the_update, 10, interval=0.05, what="the update on the status page")
        assert busy[0]["forMs"] >= 0 and busy[0]["sinceMs"] > 0
        request_thread.join(30)
        assert not request_thread.is_alive()
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
        lock.commit()
    time.sleep(1)
    assert rig.postgres.psql(f"SELECT active_release_radar FROM users WHERE email = '{email}'").strip() == "f"
    assert pool_status(rig)["pool"]["terminatedRequests"] == 0

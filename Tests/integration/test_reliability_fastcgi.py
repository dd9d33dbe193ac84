"""Reliability probe: raw FastCGI straight to the pool's unix socket (SPEC §2 "No thread is held hostage", §12).

A corpus of records nginx would never send: truncated and oversized records, wrong versions, name-value lengths
that overflow, NUL bytes, a 1 MB parameter, multiplexed request ids, FCGI_KEEP_CONN connections, idle and
half-sent connections, abrupt closes; in the full run also a few hundred random mutations of valid requests.
Every case is followed by `GET /ping` through nginx, which must answer within a second, and by a look at which
workers died and why. A worker that libfcgi itself aborts (its allocation check on absurd lengths) is the known
limit of the library the SPEC names: counted apart, with its cost (one worker replaced) and a check that the socket
stays private to nginx's group (mode 0660)."""

import os
import random
import socket
import stat
import struct
import threading
import time

import reliability as R
from reliability import (DEATH, HANG, SERVER_ERROR, WRONG, PoolWatch, budget, connect, ping, probe, read_answer,
                         timed, wait_closed)
from secret_scan import SCAN

# "a connection that has not sent its parameters within a few seconds is closed" (SPEC §2): the bound this suite
# holds the pool to (libfcgi's own accept closes a connection that sent nothing at all after 2 s).
PARAMS_DEADLINE = 10.0
# A request whose body stops half-way: nginx gives up on the pool after 20 s (fastcgi_read_timeout); a pool that
# still holds the thread after that holds it for nobody.
BODY_DEADLINE = 20.0
PING_WITHIN = 1.0

# Cases sent whole: (name, expression building the bytes from reliability's encoder, what must happen).
#   "answer": every request is answered (END_REQUEST) with an HTTP status below 500, within 3 s;
#   "close" : the pool closes the connection within 3 s (an answer below 500 first is fine too);
#   "either": answered below 500 or closed within 3 s, never left hanging.
CORPUS = [
    ("a valid request", "request()", "answer"),
    ("a valid POST with a body", "request(method='POST', path='/user/update', body=b'{\"refreshToken\":\"x\"}')",
     "answer"),
    ("NUL byte in the path", "request(params=cgi_params(path='/ping\\0/x'))", "answer"),
    ("NUL byte in REQUEST_URI only", "request(params=cgi_params()[:5] + [('REQUEST_URI', '/ping\\0?a=b')] + cgi_params()[6:])",
     "answer"),
    ("NUL byte in a parameter name", "request(extra=[('HTTP_X\\0Y', 'v')])", "answer"),
    ("NUL byte in the query string", "request(path='/wrapped/data', query='email=a\\0@x.test')", "answer"),
    ("NUL bytes in the body", "request(method='POST', path='/user/update', body=b'{\"refreshToken\":\"\\0\\0\"}')",
     "answer"),
    ("a 1 MB parameter value", "request(extra=[('HTTP_X_BIG', 'b' * (1 << 20))])", "answer"),
    ("a 1 MB parameter name", "request(extra=[('HTTP_' + 'N' * (1 << 20), 'v')])", "answer"),
    ("a 1 MB query string", "request(path='/wrapped/data', query='a=' + 'b' * (1 << 20))", "answer"),
    ("a 1 MB Authorization header", "request(path='/wrapped/data', extra=[('HTTP_AUTHORIZATION', 'Bearer ' + 'a' * (1 << 20))])",
     "answer"),
    ("20,000 parameters", "request(extra=[('HTTP_X%d' % i, 'v') for i in range(20000)])", "answer"),
    ("no parameters at all", "request(params=[])", "answer"),
    ("no REQUEST_METHOD", "request(params=[p for p in cgi_params() if p[0] != 'REQUEST_METHOD'])", "answer"),
    ("an unknown REQUEST_METHOD", "request(method='X' * 300)", "answer"),
    ("CONTENT_LENGTH absurd", "request(method='POST', path='/user/update', body=b'{}', "
     "params=cgi_params('POST', '/user/update', body=b'{}')[:3] + [('CONTENT_LENGTH', '9' * 40)] + cgi_params()[4:])",
     "answer"),
    ("CONTENT_LENGTH negative", "request(method='POST', path='/user/update', body=b'{}', "
     "params=cgi_params('POST', '/user/update', body=b'{}')[:3] + [('CONTENT_LENGTH', '-1')] + cgi_params()[4:])",
     "answer"),
    ("STDIN longer than CONTENT_LENGTH", "begin() + stream(PARAMS, 1, b''.join(pair(n, v) for n, v in "
     "cgi_params('POST', '/user/update', body=b'{}'))) + stream(STDIN, 1, b'{}' + b'x' * 5000)", "answer"),
    ("a body one byte over the pool's cap", "request(method='POST', path='/user/update', body=b'x' * 65537)", "answer"),
    ("a 4 MB body", "request(method='POST', path='/user/update', body=b'x' * (4 << 20))", "answer"),
    ("every record padded by 255 bytes", "b''.join(record(k, r, c, padding=255) for k, r, c in "
     "[(BEGIN_REQUEST, 1, struct.pack('>HB5x', 1, 0)), (PARAMS, 1, b''.join(pair(n, v) for n, v in cgi_params())), "
     "(PARAMS, 1, b''), (STDIN, 1, b'')])", "answer"),
    ("parameters in one-byte records", "begin() + b''.join(record(PARAMS, 1, bytes([c])) for c in "
     "b''.join(pair(n, v) for n, v in cgi_params())) + record(PARAMS, 1) + record(STDIN, 1)", "answer"),
    ("a 65535-byte record of parameters", "begin() + record(PARAMS, 1, (pair('HTTP_X', 'v' * 65527))[:65535]) "
     "+ record(PARAMS, 1) + record(STDIN, 1)", "either"),
    ("request id 65535", "request(request_id=65535)", "either"),
    ("request id 0 (the management id)", "request(request_id=0)", "either"),
    ("role AUTHORIZER", "request(role=AUTHORIZER)", "either"),
    ("role FILTER", "request(role=FILTER)", "either"),
    ("role 999", "request(role=999)", "close"),
    ("version 0", "record(BEGIN_REQUEST, 1, struct.pack('>HB5x', 1, 0), version=0) + request()[16:]", "close"),
    ("version 2", "record(BEGIN_REQUEST, 1, struct.pack('>HB5x', 1, 0), version=2) + request()[16:]", "close"),
    ("version 255", "record(BEGIN_REQUEST, 1, struct.pack('>HB5x', 1, 0), version=255) + request()[16:]", "close"),
    ("version 2 on a PARAMS record", "begin() + record(PARAMS, 1, pair('REQUEST_METHOD', 'GET'), version=2) + request()[16:]",
     "close"),
    ("BEGIN_REQUEST of 3 bytes", "record(BEGIN_REQUEST, 1, b'\\0\\1\\0') + request()[16:]", "close"),
    ("BEGIN_REQUEST of 65535 bytes", "record(BEGIN_REQUEST, 1, struct.pack('>HB5x', 1, 0) + b'\\0' * 65527) "
     "+ request()[16:]", "either"),
    ("an unknown record type first", "record(99, 1, b'abc') + request()", "either"),
    ("record type 0", "record(0, 1, b'') + request()", "either"),
    ("END_REQUEST sent by the client", "begin() + record(END_REQUEST, 1, b'\\0' * 8) + request()[16:]", "either"),
    ("STDOUT sent by the client", "begin() + record(STDOUT, 1, b'Status: 200\\r\\n\\r\\nforged') + request()[16:]",
     "either"),
    ("ABORT_REQUEST after the parameters", "begin() + stream(PARAMS, 1, b''.join(pair(n, v) for n, v in cgi_params())) "
     "+ record(ABORT_REQUEST, 1) + record(STDIN, 1)", "either"),
    ("a name-value length past the record", "begin() + record(PARAMS, 1, nv_length(4) + nv_length(1000) + b'HTTP' + b'v' * 10) "
     "+ record(PARAMS, 1) + record(STDIN, 1)", "either"),
    ("a 4-byte length of 0 (overlong encoding)", "begin() + record(PARAMS, 1, b'\\x80\\0\\0\\0' + nv_length(1) + b'v') "
     "+ request()[16:]", "either"),
    ("name-value lengths that overflow (0x7ffffffe + 1)", "begin() + record(PARAMS, 1, nv_length(0x7ffffffe) + nv_length(1) + b'ab')",
     "close"),
    ("name-value lengths that overflow (0x40000000 × 2)", "begin() + record(PARAMS, 1, nv_length(0x40000000) + nv_length(0x40000000) + b'ab')",
     "close"),
    ("name-value lengths that overflow (0x7fffffff + 0x7fffffff)", "begin() + record(PARAMS, 1, nv_length(0x7fffffff) + nv_length(0x7fffffff) + b'ab')",
     "close"),
    ("name-value length 0xffffffff", "begin() + record(PARAMS, 1, b'\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xff' + b'ab')",
     "close"),
    ("multiplexed request ids (BEGIN 1, BEGIN 2, then 1's request)", "begin(1) + begin(2) + request()[16:]", "answer"),
    ("multiplexed request ids, interleaved records", "begin(1) + begin(2) + stream(PARAMS, 2, b''.join(pair(n, v) for n, v in "
     "cgi_params())) + stream(PARAMS, 1, b''.join(pair(n, v) for n, v in cgi_params())) + record(STDIN, 2) + record(STDIN, 1)",
     "answer"),
    ("GET_VALUES before a request", "record(GET_VALUES, 0, pair('FCGI_MPXS_CONNS', '')) + request()", "answer"),
]

# Cases that send part of a request and then hold the connection open, saying nothing more: the pool must close
# each within PARAMS_DEADLINE (BODY_DEADLINE once the parameters are complete) and keep serving others.
HALF_SENT = [
    ("nothing sent (an idle connection)", "b''", PARAMS_DEADLINE),
    ("3 bytes of a record header", "begin()[:3]", PARAMS_DEADLINE),
    ("a whole BEGIN_REQUEST, then silence", "begin()", PARAMS_DEADLINE),
    ("BEGIN_REQUEST, FCGI_KEEP_CONN, then silence", "begin(flags=KEEP_CONN)", PARAMS_DEADLINE),
    ("a PARAMS record announcing 65535 bytes, 10 sent", "begin() + record(PARAMS, 1, b'x' * 10, length=65535)",
     PARAMS_DEADLINE),
    ("parameters without the empty PARAMS record", "begin() + record(PARAMS, 1, b''.join(pair(n, v) for n, v in cgi_params()))",
     PARAMS_DEADLINE),
    ("a name length of 0x7ffffffd (libfcgi allocates it, then waits)", "begin() + record(PARAMS, 1, nv_length(0x7ffffffd) + nv_length(0) + b'ab')",
     PARAMS_DEADLINE),
    ("GET_VALUES, then silence", "record(GET_VALUES, 0, pair('FCGI_MAX_CONNS', ''))", PARAMS_DEADLINE),
    ("a body that stops half-way (CONTENT_LENGTH 100, 10 sent)", "begin() + stream(PARAMS, 1, b''.join(pair(n, v) for n, v in "
     "cgi_params('POST', '/user/update', body=b'x' * 100))) + record(STDIN, 1, b'{\"refresh\"')", BODY_DEADLINE),
]


def repro(expression, extra=""):
    return (f"cd Tests/integration && python3 -c \"from reliability import *; s = connect(SOCKET); "
            f"s.sendall({expression}); {extra or 'print(read_answer(s, timeout=30))'}\"")


def build(expression):
    return eval(expression, vars(R))  # noqa: S307 - the corpus's own expressions


class Checker:
    """The checks every case ends with, written to the probe."""

    def __init__(self, rig, target):
        self.rig = rig
        self.target = target

    def finish(self, name, watch, problem=None, severity=WRONG, reproduction=None):
        deaths = watch.settle()
        aborts = watch.libfcgi_aborts()
        healthy, seconds, seen = ping(self.rig, PING_WITHIN)
        self.target.measure(seconds, f"/ping after a case took {seconds * 1000:.0f} ms ({name})")
        mode = stat.S_IMODE(os.stat(self.rig.socket).st_mode)
        replaced = len(self.rig.worker_pids()) >= self.rig.workers
        if deaths and aborts and len(deaths) == 1 and replaced and not problem and healthy and mode == 0o660:
            self.target.known_limit(name, f"libfcgi aborts ({aborts[0][:70]}); cost: 1 worker replaced, "
                                          f"/ping {seconds * 1000:.0f} ms after, socket mode {mode:o}")
            return
        if deaths:
            what = ", ".join(f"{pid} {reason}" for pid, reason in deaths)
            extra = f" (libfcgi: {aborts[0]})" if aborts else ""
            if aborts and mode != 0o660:
                extra += f"; the socket's mode is {mode:o}, not 660"
            self.target.failed(name, f"worker died: {what}{extra}", DEATH, reproduction)
        elif not healthy:
            self.target.failed(name, f"/ping through nginx did not answer within {PING_WITHIN:.0f} s after the case "
                                     f"({seconds:.2f} s, {seen})", HANG, reproduction)
        elif problem:
            self.target.failed(name, problem, severity, reproduction)
        else:
            self.target.passed()


def judge(answer, expectation, count):
    """(problem, severity) of a whole-sent case's answer, or (None, None)."""
    answered = sorted(answer.ended)
    statuses = [answer.http(rid)[0] for rid in answered]
    for rid in answered:
        SCAN.add_body(answer.stdout.get(rid))
    if any(s is not None and s >= 500 for s in statuses):
        return f"answered {statuses}: {answer}", SERVER_ERROR
    if expectation.startswith("answer"):
        wanted = int(expectation[6:] or 1)
        got = sum(1 for kind, _, content in answer.records if kind == R.END_REQUEST and content[4:5] == b"\0")
        if got < wanted or not any(answer.http(rid)[0] for rid in answered):
            return f"expected {wanted} answer(s), got {got}: {answer}", (HANG if answer.timed_out else WRONG)
        return None, None
    if expectation == "close":
        if answer.timed_out:
            return f"the pool neither answered nor closed the connection in 3 s: {answer}", HANG
        return None, None
    if answer.timed_out and not answer.ended:
        return f"the pool neither answered nor closed the connection in 3 s: {answer}", HANG
    return None, None


def test_fastcgi_socket_is_private_to_nginx_group(reliability_rig):
    """SPEC §2: libfcgi's residual abort on absurd lengths is why the socket must be reachable by nginx alone."""
    rig = reliability_rig
    target = probe("fastcgi: socket mode 0660")
    info = os.stat(rig.socket)
    mode = stat.S_IMODE(info.st_mode)
    if mode == 0o660 and stat.S_ISSOCK(info.st_mode):
        target.passed()
        target.measure(0, f"mode {mode:o}, owner {info.st_uid}:{info.st_gid}")
    else:
        target.failed("the pool's socket", f"mode {mode:o} (world bits {mode & 0o007:o})", WRONG,
                      f"stat -c %a {rig.socket}")
    target.check()


def test_fastcgi_corpus(reliability_rig):
    rig = reliability_rig
    target = probe("fastcgi: record corpus")
    checker = Checker(rig, target)
    with timed(target):
        for name, expression, expectation in CORPUS:
            data = build(expression)
            watch = PoolWatch(rig)
            problem = severity = None
            try:
                sock = connect(rig.socket)
                try:
                    sock.sendall(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the pool closed early: judged by what it answered
                count = int(expectation[6:] or 1) if expectation.startswith("answer") else 1
                if count > 1:
                    answer = read_answer(sock, timeout=3, until_count=count)
                else:
                    answer = read_answer(sock, timeout=3)
                sock.close()
                problem, severity = judge(answer, expectation, count)
            except OSError as error:
                problem, severity = f"{type(error).__name__}: {error}", WRONG
            checker.finish(name, watch, problem, severity or WRONG, repro(expression))
    target.check()


def test_fastcgi_abrupt_closes(reliability_rig):
    """The client goes away at every stage: after BEGIN_REQUEST, mid-parameters, before STDIN, mid-body, right
    after a whole request (the answer is written to a closed socket), and with a reset (SO_LINGER 0)."""
    rig = reliability_rig
    target = probe("fastcgi: abrupt closes")
    checker = Checker(rig, target)
    whole = R.request(path="/status")
    post = R.request(method="POST", path="/user/update", body=b'{"refreshToken":"' + b"t" * 60000 + b'"}')
    stages = [("after BEGIN_REQUEST", whole[:16], False), ("mid-parameters", whole[:40], False),
              ("before STDIN", whole[:-8], False), ("mid-body", post[:len(post) // 2], False),
              ("right after a whole request", whole, False), ("right after a whole POST", post, False),
              ("with a reset right after a whole request", whole, True),
              ("with a reset mid-parameters", whole[:40], True)]
    rounds = budget(1, 5)
    with timed(target):
        for _ in range(rounds):
            for name, data, reset in stages:
                watch = PoolWatch(rig)
                sock = connect(rig.socket)
                try:
                    sock.sendall(data)
                except OSError:
                    pass
                if reset:
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                sock.close()
                time.sleep(0.05)
                checker.finish(f"closed {name}", watch, reproduction=repro(f"<{name}>", "s.close()"))
    target.check()


def test_fastcgi_keep_conn_serves_the_second_request_at_once(reliability_rig):
    """FCGI_KEEP_CONN: after the first answer the connection stays open, and the next request on it is answered at
    once, without another connection arriving to wake a thread (SPEC §2)."""
    rig = reliability_rig
    target = probe("fastcgi: FCGI_KEEP_CONN")
    checker = Checker(rig, target)
    rounds = budget(2, 10)
    with timed(target):
        for round_ in range(rounds):
            watch = PoolWatch(rig)
            sock = connect(rig.socket)
            problem = None
            sock.sendall(R.request(1, flags=R.KEEP_CONN))
            first = read_answer(sock, timeout=3)
            if 1 not in first.ended or first.closed:
                problem = f"the first request: {first}"
            else:
                for number in range(2, 2 + budget(2, 20)):
                    started = time.monotonic()
                    sock.sendall(R.request(1, flags=R.KEEP_CONN, path="/ping"))
                    answer = read_answer(sock, timeout=3)
                    took = time.monotonic() - started
                    target.measure(took, f"request {number} on a kept connection answered in {took * 1000:.0f} ms")
                    if 1 not in answer.ended or answer.http(1)[0] != 200 or took > PING_WITHIN:
                        problem = (f"request {number} on the kept connection: {answer} (no other connection arrived "
                                   f"meanwhile)")
                        break
            if problem is None:
                # The web server ends the kept connection: the pool notices and closes its side (it holds no thread
                # or descriptor for a connection nobody will use again).
                sock.shutdown(socket.SHUT_WR)
                closed = wait_closed(sock, 3.0)
                if closed is None:
                    problem = "the kept connection was not closed within 3 s of the web server's EOF"
            sock.close()
            checker.finish(f"round {round_ + 1}: requests one after another on one FCGI_KEEP_CONN connection", watch,
                           problem, HANG,
                           repro("request(1, flags=KEEP_CONN)", "print(read_answer(s)); "
                                 "s.sendall(request(1, flags=KEEP_CONN)); print(read_answer(s, timeout=10))"))
    target.check()


def hold_open(rig, cases):
    """Opens one connection per case, sends its bytes and keeps it open; returns [(name, socket, deadline)]."""
    held = []
    for name, expression, deadline in cases:
        sock = connect(rig.socket, timeout=30)
        data = build(expression)
        if data:
            sock.sendall(data)
        held.append((name, expression, sock, deadline))
    return held


def wait_all_closed(held, started):
    """Seconds after `started` at which the pool closed each held connection (None: still open at its deadline)."""
    results = {}

    def watch(name, sock, deadline):
        remaining = deadline - (time.monotonic() - started)
        closed = wait_closed(sock, max(0.1, remaining))
        results[name] = None if closed is None else time.monotonic() - started

    threads = [threading.Thread(target=watch, args=(name, sock, deadline)) for name, _, sock, deadline in held]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_fastcgi_half_sent_connections_are_closed(reliability_rig):
    """A few bytes of a record, then silence: each such connection is closed within a few seconds and the pool keeps
    serving (`/ping` through nginx within a second while they are held)."""
    rig = reliability_rig
    target = probe("fastcgi: half-sent connections closed")
    checker = Checker(rig, target)
    slots = rig.workers * rig.threads
    # The fast subset holds five kinds at once (one batch: at most BODY_DEADLINE seconds even when none is closed).
    corpus = HALF_SENT if R.FULL else [HALF_SENT[i] for i in (1, 2, 4, 5, 8)]
    with timed(target):
        # In batches smaller than the pool's threads, so that each connection is accepted at once.
        batch_size = max(1, slots - 2)
        for start in range(0, len(corpus), batch_size):
            batch = corpus[start:start + batch_size]
            watch = PoolWatch(rig)
            started = time.monotonic()
            held = hold_open(rig, batch)
            closed = wait_all_closed(held, started)
            for name, expression, sock, deadline in held:
                sock.close()
                seconds = closed[name]
                if seconds is None:
                    target.failed(name, f"still open after {deadline:.0f} s (the pool holds a thread on it)", HANG,
                                  repro(expression, f"import time; t = time.time(); print(wait_closed(s, 60))"))
                else:
                    target.measure(seconds, f"closed after {seconds:.1f} s: {name}")
                    target.passed()
            checker.finish("the pool after the half-sent batch", watch)
    target.check()


def test_fastcgi_eight_held_connections_do_not_block_nginx(reliability_rig):
    """As many half-sent (then idle) connections as the pool has responder threads, held open: a normal request
    through nginx is still answered within a second."""
    rig = reliability_rig
    target = probe("fastcgi: held connections vs a request through nginx")
    slots = rig.workers * rig.threads
    cases = [("half-sent", "begin() + record(PARAMS, 1, b'x' * 10, length=65535)"),
             ("idle (nothing sent)", "b''"),
             ("BEGIN_REQUEST only", "begin()")]
    with timed(target):
        for name, expression in cases:
            for round_ in range(budget(1, 3)):
                watch = PoolWatch(rig)
                held = hold_open(rig, [(name, expression, PARAMS_DEADLINE)] * slots)
                time.sleep(0.3)  # every held connection accepted by a thread
                healthy, seconds, seen = ping(rig, PING_WITHIN)
                target.measure(seconds, f"/ping took {seconds * 1000:.0f} ms with {slots} {name} connections held")
                for _, _, sock, _ in held:
                    sock.close()
                deaths = watch.settle()
                case = f"{slots} {name} connections held open, then GET /ping through nginx"
                if deaths:
                    target.failed(case, f"worker died: {deaths}", DEATH)
                elif not healthy:
                    target.failed(case, f"/ping answered after {seconds:.2f} s ({seen}); the pool's {slots} responder "
                                        f"threads were held by the connections", HANG,
                                  f"open {slots} unix connections to the socket, send {expression} on each and wait; "
                                  f"then curl -k https://127.0.0.1:PORT/ping")
                else:
                    target.passed()
                time.sleep(0.2)
    target.check()


def mutate(rng, data):
    """One random mutation of a valid request's bytes."""
    data = bytearray(data)
    kind = rng.randrange(7)
    if kind == 0:  # flip bytes
        for _ in range(rng.randint(1, 8)):
            data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
    elif kind == 1:  # truncate
        data = data[:rng.randrange(1, len(data))]
    elif kind == 2:  # insert random bytes
        at = rng.randrange(len(data))
        data[at:at] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 64)))
    elif kind == 3:  # a random record length
        header = rng.randrange(0, max(1, len(data) - 8))
        data[header + 4:header + 6] = struct.pack(">H", rng.choice([0, 1, 7, 8, 255, 256, 32767, 65535, rng.randrange(65536)]))
    elif kind == 4:  # a random record type or version on some record
        at = rng.randrange(0, max(1, len(data) - 8))
        data[at + rng.choice([0, 1])] = rng.randrange(256)
    elif kind == 5:  # duplicate a slice
        a = rng.randrange(len(data))
        b = min(len(data), a + rng.randint(1, 200))
        data[b:b] = data[a:b]
    else:  # a random name-value length byte pattern in the parameters
        at = rng.randrange(16, max(17, len(data) - 4))
        data[at:at + 4] = rng.choice([b"\xff\xff\xff\xff", b"\x80\x00\x00\x00", b"\x7f\xff\xff\xff",
                                      b"\x8f\xff\xff\xf0", bytes(rng.randrange(256) for _ in range(4))])
    return bytes(data)


def test_fastcgi_random_mutations(reliability_rig):
    """Random mutations of valid requests (bytes flipped, records cut, lengths and types changed, slices repeated),
    each sent whole and followed by the end of the client's side of the connection (so the pool sees EOF, not
    silence): the pool answers below 500 or closes, never dies, never hangs."""
    rig = reliability_rig
    target = probe("fastcgi: random mutations")
    checker = Checker(rig, target)
    rng = random.Random(R.SEED)
    bases = [("request()", R.request()),
             ("request(method='POST', path='/user/update', body=b'{\"refreshToken\":\"abc\"}')",
              R.request(method="POST", path="/user/update", body=b'{"refreshToken":"abc"}')),
             ("request(path='/wrapped/data', query='email=a@x.test')", R.request(path="/wrapped/data", query="email=a@x.test")),
             ("request(1, flags=KEEP_CONN)", R.request(1, flags=R.KEEP_CONN))]
    hangs = {}  # base -> cases that hung: after 10 the base is left out (each hang costs the whole timeout)
    with timed(target):
        for number in range(budget(20, 600)):
            base_expression, base = rng.choice(bases)
            if hangs.get(base_expression, 0) >= 10:
                base_expression, base = rng.choice([b for b in bases if hangs.get(b[0], 0) < 10] or bases)
            data = mutate(rng, base)
            watch = PoolWatch(rig)
            problem = severity = None
            try:
                sock = connect(rig.socket)
                try:
                    sock.sendall(data)
                    sock.shutdown(socket.SHUT_WR)
                except OSError:
                    pass
                answer = read_answer(sock, until_ended=(), timeout=1.5)
                sock.close()
                for rid in answer.ended:
                    SCAN.add_body(answer.stdout.get(rid))
                statuses = [answer.http(rid)[0] for rid in answer.ended]
                if any(s is not None and s >= 500 for s in statuses):
                    problem, severity = f"answered {statuses}: {answer}", SERVER_ERROR
                elif answer.timed_out:
                    problem, severity = f"not closed 1.5 s after the client's EOF: {answer}", HANG
                    hangs[base_expression] = hangs.get(base_expression, 0) + 1
            except OSError as error:
                problem, severity = f"{type(error).__name__}: {error}", WRONG
            checker.finish(f"mutation {number} of {base_expression}", watch, problem, severity or WRONG,
                           repro(f"bytes.fromhex('{data.hex()}')" if len(data) < 600 else
                                 f"<mutation {number}, seed {R.SEED}: {len(data)} bytes>",
                                 "s.shutdown(socket.SHUT_WR); print(read_answer(s, until_ended=()))"))
    target.check()

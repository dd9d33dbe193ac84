"""A fault injector for the PostgreSQL links of the pool and the jobs: a TCP proxy between them and PostgreSQL
that reads the v3 wire protocol well enough to know which SQL each command runs, and that can cut one chosen
command's link at an exact point.

    proxy = FaultProxy(("127.0.0.1", postgres_port)).start()
    settings = {"XOMIFY_DATABASE_URL": proxy.conninfo("xomify")}
    fault = proxy.arm(r"^UPDATE users SET active_wrapped", LOSE_ANSWER)
    ... a request or a job runs the statement ...
    fault.wait()          # fault.answer: what PostgreSQL said that the client never heard

What it learns from the client's messages: Parse (statement name -> SQL text), Bind (portal -> statement and
parameter values), Execute (a command: the portal's SQL) and Query (a command: its text). Every command that
passes is logged (`commands`, `executed`), armed or not.

An armed `Fault` fires once, on the first command whose SQL (and, if given, parameters) match, or with
`at_commit` on the COMMIT of the transaction in which such a command ran, or with `parse` on the Parse message
that prepares a matching statement (which runs nothing). Two timings:

  LOSE_ANSWER  the command goes to PostgreSQL whole (through its Sync), which runs it and, outside a transaction
               or for a COMMIT, commits it; everything PostgreSQL answers from then on is held back, and when its
               ReadyForQuery arrives (the command finished: committed or failed) both sides are closed without
               forwarding any of it. The write is applied; the client never learns it.
  CUT_BEFORE_ANSWER
               the command goes to PostgreSQL whole (through its Sync), then the client's side is closed at once
               and PostgreSQL's side is half-closed: PostgreSQL reads the command, runs it and finds the client
               gone only when it reads again. The client sees its link drop before any answer. Until PostgreSQL
               has done so, the other links' messages are held back: the cut command lands before anything the
               client does next (on a busy machine it could otherwise land after, which is another case).

  CALL_FIRST   no fault of its own: `action(fault)` runs in the link's thread before the command is forwarded
               (at its Bind: binding already takes the statement's table locks, and libpq may send a Bind with
               large parameters apart from its Execute), which then goes on as usual. The third timing of the
               tests uses it: the action takes a lock the command needs (with a `Session`), so that the command
               waits on it, and the test then ends its backend with pg_terminate_backend, which rolls it back.

`Session` is a minimal simple-query client (trust authentication), used by the tests to hold locks and to read
the database without starting psql for every query."""

import re
import select
import socket
import struct
import threading

LOSE_ANSWER = "lose the answer"
CUT_BEFORE_ANSWER = "cut before the answer"
CALL_FIRST = "call first"

_SSL_REQUEST = 80877103
_GSSENC_REQUEST = 80877104
_COMMIT = re.compile(r"^\s*(COMMIT|END)\b", re.IGNORECASE)
_ROLLBACK = re.compile(r"^\s*(ROLLBACK|ABORT)\b", re.IGNORECASE)


def _cstring(data, offset):
    end = data.index(b"\0", offset)
    return data[offset:end].decode("utf-8", "replace"), end + 1


def _server_event(kind, body):
    """What the tests want to know of a server message: ("C", tag), ("E", sqlstate, message), ("Z", status)."""
    if kind == b"C":
        return ("C", _cstring(body, 0)[0])
    if kind == b"E":
        fields, offset = {}, 0
        while offset < len(body) and body[offset] != 0:
            code = chr(body[offset])
            value, offset = _cstring(body, offset + 1)
            fields[code] = value
        return ("E", fields.get("C"), fields.get("M"))
    if kind == b"Z":
        return ("Z", body[:1].decode())
    return None


class Fault:
    """One armed fault. `wait()` returns once PostgreSQL's part is over (its answer seen, or its side closed)."""

    def __init__(self, sql, timing, params=None, at_commit=False, skip=0, action=None, parse=False):
        assert timing in (LOSE_ANSWER, CUT_BEFORE_ANSWER, CALL_FIRST), timing
        assert (action is not None) == (timing == CALL_FIRST)
        assert not (parse and (at_commit or params))
        self.action = action
        self.parse = parse
        self.sql = re.compile(sql, re.IGNORECASE | re.DOTALL)
        self.params = re.compile(params, re.DOTALL) if params else None
        self.timing = timing
        self.at_commit = at_commit
        self.skip = skip
        self.taken = False
        # The command that fired it (the armed statement's SQL, or COMMIT), its link and that link's backend.
        self.command = None
        # The firing command's parameters as text (empty for a simple query such as COMMIT).
        self.values = []
        self.matched = None
        self.link = None
        self.backend_pid = None
        # What PostgreSQL answered and the client never received: ("C", tag), ("E", sqlstate, text), ("Z", status).
        self.answer = []
        self.fired = threading.Event()
        self.done = threading.Event()

    @property
    def stage(self):
        """The message it looks at: "parse", "bind" or "execute" (a simple Query is all three at once)."""
        return "parse" if self.parse else "bind" if self.timing == CALL_FIRST else "execute"

    def matches(self, sql, params):
        return bool(self.sql.search(sql)) and (self.params is None or bool(self.params.search(params)))

    def wait(self, timeout=60):
        assert self.done.wait(timeout), f"the fault on /{self.sql.pattern}/ never fired"
        return self

    @property
    def tags(self):
        """The CommandComplete tags PostgreSQL sent after the command (e.g. 'UPDATE 1', 'COMMIT')."""
        return [event[1] for event in self.answer if event[0] == "C"]

    @property
    def errors(self):
        return [event[1] for event in self.answer if event[0] == "E"]

    def __repr__(self):
        state = f"fired on {self.command!r}" if self.fired.is_set() else "armed"
        return f"<Fault /{self.sql.pattern}/ {self.timing}: {state} answer={self.answer}>"


class FaultProxy:
    def __init__(self, upstream, host="127.0.0.1"):
        self.upstream = upstream
        self.host = host
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind((host, 0))
        self.port = self.listener.getsockname()[1]
        self.lock = threading.Lock()
        self.faults = []
        self.links = []
        # Every command forwarded: (link id, SQL, parameters as text).
        self.commands = []
        self.closed = False
        self._next_id = 0
        # Clear while a cut command may still be running in PostgreSQL (CUT_BEFORE_ANSWER).
        self.settled = threading.Event()
        self.settled.set()

    def start(self):
        self.listener.listen(64)
        threading.Thread(target=self._accept, name="pg-fault-proxy", daemon=True).start()
        return self

    def conninfo(self, database):
        return (f"host={self.host} port={self.port} dbname={database} user=postgres sslmode=disable "
                f"gssencmode=disable")

    def arm(self, sql, timing, params=None, at_commit=False, skip=0, action=None, parse=False):
        """Arms a fault (see the module comment); several may be armed at once, each fires once."""
        fault = Fault(sql, timing, params=params, at_commit=at_commit, skip=skip, action=action, parse=parse)
        with self.lock:
            self.faults.append(fault)
        return fault

    def disarm(self):
        """Forgets the faults that have not fired."""
        with self.lock:
            for fault in self.faults:
                fault.taken = True
            self.faults = []

    def mark(self):
        """The position in the command log now, for `executed(..., since=)`."""
        with self.lock:
            return len(self.commands)

    def executed(self, sql, params=None, since=0):
        """How many commands matching `sql` (and `params`) were forwarded to PostgreSQL, over every link (since
        `mark()` returned `since`)."""
        pattern = re.compile(sql, re.IGNORECASE | re.DOTALL)
        values = re.compile(params, re.DOTALL) if params else None
        with self.lock:
            return sum(1 for _, text, given in self.commands[since:]
                       if pattern.search(text) and (values is None or values.search(given)))

    def close(self):
        self.closed = True
        try:
            self.listener.close()
        except OSError:
            pass
        with self.lock:
            links = list(self.links)
        for link in links:
            link.close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.close()

    # -- plumbing ------------------------------------------------------------------------------------

    def _accept(self):
        while not self.closed:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            with self.lock:
                self._next_id += 1
                link = _Link(self, client, self._next_id)
                self.links.append(link)
            threading.Thread(target=link.run, name=f"pg-link-{link.id}", daemon=True).start()

    def _command(self, link, sql, params, stage):
        """A message of a command is about to be forwarded: `stage` "parse", "bind", "execute" or "query" (a
        simple Query). Logs the commands (Execute, Query) and returns the fault the message fires, if any."""
        with self.lock:
            if stage in ("execute", "query"):
                self.commands.append((link.id, sql, params))
            for fault in self.faults:
                if fault.taken or not (fault.stage == stage or (stage == "query" and fault.stage != "parse")):
                    continue
                if fault.at_commit:
                    if link.pending_commit is fault and _COMMIT.search(sql):
                        return self._take(fault, link, sql, params)
                    if link.pending_commit is fault and _ROLLBACK.search(sql):
                        link.pending_commit = None
                    elif fault.matches(sql, params):
                        if fault.skip > 0:
                            fault.skip -= 1
                        else:
                            link.pending_commit = fault
                            fault.matched = sql
                            fault.values = params.split(" | ") if params else []
                elif fault.matches(sql, params):
                    if fault.skip > 0:
                        fault.skip -= 1
                        continue
                    fault.matched = sql
                    return self._take(fault, link, sql, params)
        return None

    @staticmethod
    def _take(fault, link, sql, params):
        fault.taken = True
        fault.command = sql
        if params:
            fault.values = params.split(" | ")
        fault.link = link.id
        fault.backend_pid = link.backend_pid
        return fault


class _Link:
    """One client connection and its PostgreSQL connection, pumped by one thread."""

    def __init__(self, proxy, client, link_id):
        self.proxy = proxy
        self.client = client
        self.id = link_id
        self.server = None
        self.from_client = bytearray()
        self.from_server = bytearray()
        self.started = False
        self.statements = {}
        self.portals = {}
        self.backend_pid = None
        self.pending_commit = None
        # The fault being applied on this link, and where it stands: "until sync" (forwarding the rest of its
        # command), "withholding" (PostgreSQL's answer is kept from the client), "draining" (client gone).
        self.fault = None
        self.phase = None

    def run(self):
        try:
            self.server = socket.create_connection(self.proxy.upstream, timeout=10)
            self.server.settimeout(None)
            self._pump()
        except OSError:
            pass
        finally:
            self.close()
            if self.fault is not None:
                self.fault.done.set()
            if self.phase == "draining":
                self.proxy.settled.set()

    def close(self):
        for sock in (self.client, self.server):
            if sock is None:
                continue
            try:
                sock.close()
            except OSError:
                pass
        with self.proxy.lock:
            if self in self.proxy.links:
                self.proxy.links.remove(self)

    def _pump(self):
        while True:
            readable = [self.server] if self.phase == "draining" else [self.client, self.server]
            ready, _, _ = select.select(readable, [], [], 1.0)
            if self.proxy.closed:
                return
            if self.client in ready and self.phase != "draining":
                data = self.client.recv(65536)
                if not data:
                    return
                self.from_client += data
                forward = self._client_messages()
                if self.phase != "cut":
                    # Held while a cut command runs (at most 30 s: one that cannot finish is a test's mistake).
                    self.proxy.settled.wait(30)
                self.server.sendall(forward)
                if self.phase == "cut":
                    self._cut_client()
            if self.server in ready:
                data = self.server.recv(65536)
                if not data:
                    return
                self.from_server += data
                forward = self._server_messages()
                if self.phase == "close":
                    return
                if forward and self.phase != "draining":
                    self.client.sendall(forward)

    def _cut_client(self):
        """CUT_BEFORE_ANSWER: the command is with PostgreSQL; the client loses its link now, and PostgreSQL
        is told there is nothing more to read once it has read the command."""
        try:
            self.client.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.client.close()
        self.proxy.settled.clear()
        self.server.shutdown(socket.SHUT_WR)
        self.phase = "draining"
        self.fault.fired.set()

    def _client_messages(self):
        """Parses what the client sent; returns the bytes to forward."""
        out = bytearray()
        buffer = self.from_client
        while True:
            if self.phase in ("cut", "draining"):
                buffer.clear()  # nothing after the cut command reaches PostgreSQL
                break
            if not self.started:
                if len(buffer) < 8:
                    break
                length, code = struct.unpack("!II", buffer[:8])
                if len(buffer) < length:
                    break
                message = bytes(buffer[:length])
                del buffer[:length]
                if code in (_SSL_REQUEST, _GSSENC_REQUEST):
                    self.client.sendall(b"N")  # no encryption: the protocol stays readable
                    continue
                out += message
                if code >> 16 == 3:
                    self.started = True
                continue
            if len(buffer) < 5:
                break
            kind = bytes(buffer[:1])
            (length,) = struct.unpack("!I", buffer[1:5])
            if len(buffer) < 1 + length:
                break
            message = bytes(buffer[:1 + length])
            body = message[5:]
            del buffer[:1 + length]
            out += message
            self._client_message(kind, body)
        return bytes(out)

    def _client_message(self, kind, body):
        fault = None
        if kind == b"P":
            name, offset = _cstring(body, 0)
            self.statements[name], _ = _cstring(body, offset)
            fault = self.proxy._command(self, self.statements[name], "", "parse")
            if fault:
                self._apply(fault, extended=True)
        elif kind == b"B":
            portal, offset = _cstring(body, 0)
            statement, offset = _cstring(body, offset)
            self.portals[portal] = (self.statements.get(statement, ""), self._parameters(body, offset))
            fault = self.proxy._command(self, *self.portals[portal], "bind")
            if fault:
                self._apply(fault, extended=True)
        elif kind == b"C" and body[:1] in (b"S", b"P"):
            name, _ = _cstring(body, 1)
            (self.statements if body[:1] == b"S" else self.portals).pop(name, None)
        elif kind == b"E":
            portal, _ = _cstring(body, 0)
            sql, params = self.portals.get(portal, ("", ""))
            fault = self.proxy._command(self, sql, params, "execute")
            if fault:
                self._apply(fault, extended=True)
        elif kind == b"Q":
            sql, _ = _cstring(body, 0)
            fault = self.proxy._command(self, sql, "", "query")
            if fault:
                self._apply(fault, extended=False)
        elif kind == b"S" and self.phase == "until sync":
            self.phase = "cut"

    def _apply(self, fault, extended):
        if fault.timing == CALL_FIRST:
            # The command is not forwarded before this returns (`_pump` sends what was parsed afterwards).
            try:
                fault.action(fault)
            finally:
                fault.fired.set()
                fault.done.set()
            return
        self.fault = fault
        if fault.timing == LOSE_ANSWER:
            self.phase = "withholding"
            fault.fired.set()
        else:
            self.phase = "until sync" if extended else "cut"

    @staticmethod
    def _parameters(body, offset):
        """Bind's parameter values as text ("NULL" for null, binary ones decoded loosely), joined by " | "."""
        (formats,) = struct.unpack("!H", body[offset:offset + 2])
        offset += 2 + 2 * formats
        (count,) = struct.unpack("!H", body[offset:offset + 2])
        offset += 2
        values = []
        for _ in range(count):
            (length,) = struct.unpack("!i", body[offset:offset + 4])
            offset += 4
            if length < 0:
                values.append("NULL")
            else:
                values.append(body[offset:offset + length].decode("utf-8", "replace"))
                offset += length
        return " | ".join(values)

    def _server_messages(self):
        """Parses what PostgreSQL sent; returns the bytes to forward (none while an answer is withheld)."""
        out = bytearray()
        buffer = self.from_server
        while len(buffer) >= 5:
            kind = bytes(buffer[:1])
            (length,) = struct.unpack("!I", buffer[1:5])
            if len(buffer) < 1 + length:
                break
            message = bytes(buffer[:1 + length])
            del buffer[:1 + length]
            if kind == b"K" and len(message) >= 9:
                (self.backend_pid,) = struct.unpack("!I", message[5:9])
            if self.phase in ("withholding", "draining", "until sync", "cut"):
                event = _server_event(kind, message[5:])
                if event:
                    self.fault.answer.append(event)
                if kind == b"Z" and self.phase == "withholding":
                    # The command is over (committed, or not); the client hears none of it.
                    self.phase = "close"
                    self.fault.done.set()
                    return b""
                continue
            out += message
        return bytes(out)


class Session:
    """A simple-query PostgreSQL session (trust authentication), for holding locks and reading results."""

    def __init__(self, port, host="127.0.0.1", database="xomify", application_name="xomify-test"):
        self.sock = socket.create_connection((host, port), timeout=30)
        params = b"".join(k.encode() + b"\0" + v.encode() + b"\0" for k, v in (
            ("user", "postgres"), ("database", database), ("application_name", application_name))) + b"\0"
        self.sock.sendall(struct.pack("!II", 8 + len(params), 196608) + params)
        self.buffer = bytearray()
        self.pid = None
        self._until_ready()

    def _message(self):
        while True:
            if len(self.buffer) >= 5:
                (length,) = struct.unpack("!I", self.buffer[1:5])
                if len(self.buffer) >= 1 + length:
                    kind, body = bytes(self.buffer[:1]), bytes(self.buffer[5:1 + length])
                    del self.buffer[:1 + length]
                    return kind, body
            data = self.sock.recv(65536)
            if not data:
                raise ConnectionError("PostgreSQL closed the session")
            self.buffer += data

    def _until_ready(self):
        rows, error = [], None
        while True:
            kind, body = self._message()
            if kind == b"R" and struct.unpack("!I", body[:4])[0] != 0:
                raise ConnectionError("the test session needs trust authentication")
            if kind == b"K":
                (self.pid,) = struct.unpack("!I", body[:4])
            elif kind == b"T":
                rows = []
            elif kind == b"D":
                (count,) = struct.unpack("!H", body[:2])
                offset, row = 2, []
                for _ in range(count):
                    (length,) = struct.unpack("!i", body[offset:offset + 4])
                    offset += 4
                    row.append(None if length < 0 else body[offset:offset + length].decode())
                    offset += max(length, 0)
                rows.append(row)
            elif kind == b"E":
                error = _server_event(kind, body)
            elif kind == b"Z":
                if error:
                    raise RuntimeError(f"PostgreSQL: {error[2]} (SQLSTATE {error[1]})")
                return rows

    def query(self, sql):
        """Runs SQL (several statements allowed); returns the rows of the last result as lists of strings."""
        data = sql.encode() + b"\0"
        self.sock.sendall(b"Q" + struct.pack("!I", 4 + len(data)) + data)
        return self._until_ready()

    def value(self, sql):
        rows = self.query(sql)
        return rows[0][0] if rows else None

    def close(self):
        try:
            self.sock.sendall(b"X\0\0\0\4")
        except OSError:
            pass
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

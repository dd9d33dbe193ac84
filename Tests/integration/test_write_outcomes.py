"""No retry repeats a write (issue 11, item 2; SPEC §12). Every kind of write the API and the jobs make is cut
at three moments by pg_fault_proxy.py, which stands between them and PostgreSQL:

  lose the answer        PostgreSQL runs the command and commits it; its answer is dropped and the link closed.
  cut before the answer  the link drops as soon as the command is sent; PostgreSQL still runs and commits it.
  terminated ...         the command waits on a lock the test holds and its backend is ended with
                         pg_terminate_backend, which rolls it back.

The first two apply the write while the client cannot know it; the store must not repeat it (the API answers 503
with the JSON envelope, a job stops and leaves the item to a later run that reads the recorded state). The third
looks the same to the store for a statement on its own (the link broke after it was sent: 503, or the job stops,
and nothing is written); inside a transaction it is certainly not committed, and the store runs the transaction
again on a new link, once. Reads, and a Parse or a BEGIN whose answer is lost, are repeated the same way.

A test-only trigger records every row write the database commits (`test_write_audit`), so "written once" is
counted, not inferred; the proxy counts how often the statement went to PostgreSQL. The API runs one worker with
one thread, so the request after the fault is served by the same thread, on a new link. Jobs are rerun after the
fault, and the period must then end exactly as an uninterrupted run of another period does."""

import json
import os
import re
import threading

import pytest

from api_client import Api
from api_helpers import assert_error, assert_serves_this_rig, new_refresh_token, spotify_refresh, unique_email, user_api
from job_helpers import FAST, SANDBOX_NOW, sandbox_users
from pg_fault_proxy import CALL_FIRST, CUT_BEFORE_ANSWER, LOSE_ANSWER, FaultProxy, Session
from release_radar_reference import last_complete_week
from secret_scan import SCAN
from xomify_rig import REPO, Rig, free_port, wait_until

TERMINATE = "terminated waiting on a lock"
TIMINGS = (LOSE_ANSWER, CUT_BEFORE_ANSWER, TERMINATE)
# BudgetStore.lockKey: the advisory lock every budget reservation takes.
BUDGET_LOCK_KEY = 0x7370_6f74_6966_79
JOB_SETTINGS = dict(FAST, XOMIFY_SPOTIFY_DAILY_BUDGET="1000000")
STOPPED_EARLY = 75
# The release radar's week: the one the sandbox's catalogue is built around.
WEEK = last_complete_week(SANDBOX_NOW).key
RADAR_PLAYLIST = "Xomify Weekly Release Radar"
MONTH_NAMES = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
               "November", "December"]
AUDITED = ("users", "job_items", "job_runs", "spotify_request_budget", "wrapped_months", "release_radar_weeks",
           "artist_week_releases")
AUDIT = """
    CREATE TABLE test_write_audit (
        id bigserial PRIMARY KEY, tab text NOT NULL, op text NOT NULL, data jsonb NOT NULL,
        app text NOT NULL DEFAULT current_setting('application_name'));
    CREATE FUNCTION test_write_audit() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO test_write_audit (tab, op, data) VALUES (TG_TABLE_NAME, TG_OP, to_jsonb(NEW));
        RETURN NULL;
    END $$;
""" + "".join(f"CREATE TRIGGER test_write_audit AFTER INSERT OR UPDATE ON {table} "
              f"FOR EACH ROW EXECUTE FUNCTION test_write_audit();\n" for table in AUDITED)


def sql_text(value):
    return "'" + value.replace("'", "''") + "'"


class System:
    """The rig behind the proxy, and a direct session for looking at the database."""

    def __init__(self, rig, proxy):
        self.rig = rig
        self.proxy = proxy
        self.db = Session(rig.postgres.port, application_name="xomify-test")

    def rows(self, sql):
        return self.db.query(sql)

    def value(self, sql):
        return self.db.value(sql)

    def mark(self):
        """The audit's position now: writes committed later have a greater id."""
        return int(self.value("SELECT coalesce(max(id), 0) FROM test_write_audit"))

    def writes(self, mark, table, condition="true"):
        """Row writes committed to `table` since `mark` whose row (`data`, jsonb) satisfies `condition`."""
        return int(self.value(f"SELECT count(*) FROM test_write_audit WHERE id > {mark} AND tab = '{table}' "
                              f"AND ({condition})"))

    def backends(self, application):
        return {int(row[0]) for row in self.rows(
            f"SELECT pid FROM pg_stat_activity WHERE application_name = '{application}'")}

    def budget_used(self):
        return int(self.value("SELECT coalesce(sum(requests), 0) FROM spotify_request_budget"))

    def lock_waiter(self, application):
        """The pid of the backend of `application` that waits on a lock (waits until there is one)."""
        found = []

        def waiting():
            found[:] = self.rows(f"SELECT pid FROM pg_stat_activity WHERE application_name = '{application}' "
                                 f"AND wait_event_type = 'Lock'")
            return bool(found)
        wait_until(waiting, 60, interval=0.01, what=f"a {application} backend waiting on the test's lock")
        return int(found[0][0])

    def terminate(self, pid):
        assert self.value(f"SELECT pg_terminate_backend({pid})") == "t"


class Locker:
    """A session that holds locks in an open transaction until `release`."""

    def __init__(self, port):
        self.session = Session(port, application_name="xomify-test-locker")
        self.session.query("BEGIN")

    def take(self, sql):
        self.session.query(sql)

    def release(self):
        self.session.query("ROLLBACK")
        self.session.close()


@pytest.fixture(scope="module")
def system():
    """One worker with one thread behind nginx, and the jobs, all talking to PostgreSQL through the proxy
    (migrations go straight to the cluster)."""
    postgres_port = free_port()
    proxy = FaultProxy(("127.0.0.1", postgres_port)).start()
    rig = Rig(workers=1, threads=1, postgres_port=postgres_port, sandbox_args=["--now", SANDBOX_NOW, "--users", "6"],
              settings={"XOMIFY_DATABASE_URL": proxy.conninfo("xomify"),
                        # Generous: a request waits on the test's lock until the test ends its backend.
                        "XOMIFY_REQUEST_TIMEOUT_MS": "30000"})
    try:
        rig.start()
        assert_serves_this_rig(rig)
        SCAN.add_rig(rig)
        running = System(rig, proxy)
        running.db.query(AUDIT)
        yield running
        running.db.close()
        assert not SCAN.leaks_in_logs(rig.logs())
    finally:
        proxy.close()
        rig.close()


def live_sandbox_users(rig):
    return [u for u in sandbox_users(rig) if not u["revoked"]]


# -- the API -----------------------------------------------------------------------------------------------
#
# Each kind of write says which statement it runs, how to make a request that runs it, what lock makes that
# statement wait (for the terminated timing), and what a committed application of it looks like.

class ApiWrite:
    name = None
    sql = None
    tag = "INSERT 0 1"

    def __init__(self, system):
        self.system = system
        self.email = unique_email("wo")
        self.api = user_api(system.rig, self.email)

    def call(self):
        raise NotImplementedError

    def lock(self):
        """Makes the statement wait: the user's row is locked."""
        return f"SELECT 1 FROM users WHERE email = {sql_text(self.email)} FOR UPDATE"

    def row(self, columns):
        rows = self.system.rows(f"SELECT {columns} FROM users WHERE email = {sql_text(self.email)}")
        return rows[0] if rows else None

    def applications(self, mark):
        """Writes of the user's row by the API since `mark`."""
        return self.system.writes(mark, "users", f"data->>'email' = {sql_text(self.email)} AND app = 'xomify-api'")

    def check(self, applied):
        """The row as one application (or none) leaves it."""
        raise NotImplementedError

    def retry(self):
        """What a client does after a 503: the same request again (every write of the API converges)."""
        return self.call()


class EnrolmentFlags(ApiWrite):
    name = "enrolment flags (POST /user/update)"
    sql = r"^\s*UPDATE users SET active_wrapped"
    tag = "UPDATE 1"

    def __init__(self, system):
        super().__init__(system)
        response = self.api.post("/user/update", {"refreshToken": new_refresh_token(), "releaseRadarEnrolled": False})
        assert response.status == 200, response

    def call(self):
        return self.api.post("/user/update", {"releaseRadarEnrolled": True})

    def check(self, applied):
        assert self.row("active_release_radar") == ["t" if applied else "f"]


class EnrolmentUpsert(ApiWrite):
    name = "token and enrolment upsert of a user (POST /user/update)"
    sql = r"^\s*INSERT INTO users AS u \(email, spotify_user_id, refresh_token_ciphertext"

    def __init__(self, system):
        super().__init__(system)
        response = self.api.post("/user/update", {"refreshToken": new_refresh_token(), "displayName": "before"})
        assert response.status == 200, response
        self.body = {"refreshToken": new_refresh_token(), "displayName": "after", "releaseRadarEnrolled": True}

    def call(self):
        return self.api.post("/user/update", self.body)

    def check(self, applied):
        assert self.row("display_name, active_release_radar") == (["after", "t"] if applied else ["before", "f"])


class EnrolmentCreation(ApiWrite):
    name = "enrolment creating a user (POST /user/user-table)"
    sql = r"^\s*INSERT INTO users AS u \(email, spotify_user_id, refresh_token_ciphertext"

    def __init__(self, system):
        super().__init__(system)
        self.body = {"refreshToken": new_refresh_token(), "releaseRadarEnrolled": True}

    def call(self):
        return self.api.post("/user/user-table", self.body)

    def lock(self):
        """The same email inserted and not yet committed: the upsert waits to know whether it conflicts."""
        return f"INSERT INTO users (email) VALUES ({sql_text(self.email)})"

    def check(self, applied):
        assert self.row("active_release_radar, token_state") == (["t", "ok"] if applied else None)


class WrappedOptIn(ApiWrite):
    name = "opt-in storing the token (POST /wrapped/update)"
    sql = r"^\s*INSERT INTO users AS u \(email, spotify_user_id, refresh_token_ciphertext"

    def __init__(self, system):
        super().__init__(system)
        response = self.api.post("/user/update", {"refreshToken": new_refresh_token()})
        assert response.status == 200, response
        self.before = self.row("refresh_token_ciphertext")
        # active false: no user of the API's cases takes part in the wrapped runs below (their tokens are made
        # up; the release radar's reference run marks those enrolled in it needs_reauth, and the release radar's
        # checks look at the two sandbox users only).
        self.body = {"refreshToken": new_refresh_token(), "active": False, "releaseRadarId": "rr-after"}

    def call(self):
        return self.api.post("/wrapped/update", self.body)

    def check(self, applied):
        ciphertext, playlist = self.row("refresh_token_ciphertext, release_radar_playlist_id")
        assert (ciphertext != self.before[0], playlist) == ((True, "rr-after") if applied else (False, None))


class LoginCreation(ApiWrite):
    name = "first login creating a user (POST /auth/login)"
    sql = r"^\s*INSERT INTO users AS u \(email, spotify_user_id, display_name\)"
    # Sandbox users 3, 4, 5 (the jobs use the first two); one for each timing.
    taken = []

    def __init__(self, system):
        super().__init__(system)
        candidates = live_sandbox_users(system.rig)[2:]
        self.user = candidates[len(LoginCreation.taken)]
        LoginCreation.taken.append(self.user["id"])
        self.access_token = spotify_refresh(system.rig, self.user["refreshToken"])["access_token"]

    def call(self):
        return Api(self.system.rig.https_port).post(
            "/auth/login", {"spotifyAccessToken": self.access_token, "email": self.email}, token=None)

    def lock(self):
        return f"INSERT INTO users (email) VALUES ({sql_text(self.email)})"

    def check(self, applied):
        assert self.row("spotify_user_id") == ([self.user["id"]] if applied else None)


API_WRITES = (EnrolmentFlags, EnrolmentUpsert, EnrolmentCreation, WrappedOptIn, LoginCreation)


def request_cut(system, sql, timing, call):
    """`call()` with the link of its statement cut at `timing` (lose the answer, cut before it)."""
    fault = system.proxy.arm(sql, timing)
    try:
        response = call()
        fault.wait()
    finally:
        system.proxy.disarm()
    return response, fault


def request_terminated(system, lock, call, application="xomify-api"):
    """`call()` while the test holds `lock`; the backend that waits on it is terminated, then the lock released."""
    locker = Locker(system.rig.postgres.port)
    outcome = {}
    try:
        locker.take(lock)
        thread = threading.Thread(target=lambda: outcome.update(response=call()))
        thread.start()
        pid = system.lock_waiter(application)
        system.terminate(pid)
    finally:
        locker.release()
    thread.join(60)
    return outcome["response"], pid


@pytest.mark.parametrize("timing", TIMINGS)
@pytest.mark.parametrize("kind", API_WRITES, ids=lambda kind: kind.name)
def test_an_api_write_whose_outcome_is_unknown_is_answered_503_and_never_repeated(system, kind, timing):
    write = kind(system)
    mark = system.mark()
    sent = system.proxy.mark()
    if timing == TERMINATE:
        response, backend = request_terminated(system, write.lock(), write.call)
    else:
        response, fault = request_cut(system, write.sql, timing, write.call)
        backend = fault.backend_pid
        # PostgreSQL ran and committed it; the thread never heard.
        assert fault.tags == [write.tag] and fault.answer[-1] == ("Z", "I"), fault
    applied = timing != TERMINATE

    # 503 with the JSON envelope, not a 200 after a silent repeat, not a 500.
    assert_error(response, 503, "service_unavailable")
    # The statement went to PostgreSQL once, and the row was written once (committed) or not at all (rolled back).
    assert system.proxy.executed(write.sql, since=sent) == 1
    assert write.applications(mark) == (1 if applied else 0)
    write.check(applied)

    # The thread's next request works, on a new link (the old backend is gone); the client's retry converges.
    again = write.retry()
    assert again.status == 200, again
    write.check(True)
    wait_until(lambda: backend not in system.backends("xomify-api"), 30, what="the cut link's backend to end")
    assert write.applications(mark) == (2 if applied and kind is not LoginCreation else 1)


@pytest.mark.parametrize("timing", TIMINGS)
def test_a_read_whose_answer_is_lost_is_simply_asked_again(system, timing):
    """Reads may be repeated: the client sees none of the faults above."""
    write = EnrolmentFlags(system)
    sql = r"^\s*SELECT email, spotify_user_id.* FROM users WHERE email = \$1"
    sent = system.proxy.mark()
    call = lambda: write.api.get("/user/data")  # noqa: E731
    if timing == TERMINATE:
        response, _ = request_terminated(system, "LOCK TABLE users IN ACCESS EXCLUSIVE MODE", call)
    else:
        response, _ = request_cut(system, sql, timing, call)
    assert response.status == 200, response
    assert response.json()["email"] == write.email
    assert system.proxy.executed(sql, since=sent) == 2


# -- the jobs ----------------------------------------------------------------------------------------------

def items_state(system, job, period, emails, playlist_id):
    """The period's items of `emails`, their playlist ids in the progress replaced by `playlist_id(email, id)`."""
    items = []
    for email, status, attempts, last_error, claimed_by, progress in system.rows(f"""
            SELECT email, status, attempts, last_error, claimed_by, progress::text FROM job_items
            WHERE job = '{job}' AND period_key = '{period}' ORDER BY email"""):
        if email not in emails:
            continue
        progress = json.loads(progress)
        for step in progress.values():
            if isinstance(step, dict) and "id" in step:
                step["id"] = playlist_id(email, step["id"])
        items.append((email, status, attempts, last_error, claimed_by, progress))
    return items


def wrapped_state(system, period):
    """What a run of `period` leaves, with what differs by period or run (names, covers, playlist ids) replaced
    by whether it is right: the items, the wraps, and each user's playlists of the month in the sandbox."""
    year, month = period.split("-")
    month_name = MONTH_NAMES[int(month) - 1]
    name, description = f"Xomify {month_name}'{year[2:]}", f"Your Top 25 songs for {month_name} - Created by xomify.com"
    cover = os.path.getsize(os.path.join(REPO, "assets", "covers", f"month-{month}.jpg"))
    wraps = {row[0]: row[1:] for row in system.rows(f"""
        SELECT email, array_to_json(short_term_track_ids), array_to_json(medium_term_track_ids),
               array_to_json(long_term_track_ids), array_to_json(short_term_artist_ids),
               array_to_json(medium_term_artist_ids), array_to_json(long_term_artist_ids), genre_scores::text,
               playlist_id
        FROM wrapped_months WHERE month_key = '{period}'""")}
    stored = {email: row[-1] for email, row in wraps.items()}

    def playlist_id(email, value):
        return "the wrap's playlist" if value is not None and value == stored.get(email) else value

    owners = {u["id"]: u["email"].lower() for u in sandbox_users(system.rig)}
    items = items_state(system, "wrapped", period, set(owners.values()), playlist_id)
    playlists = {}
    for p in system.rig.sandbox.get("/_sandbox/playlists")["playlists"]:
        if p["name"] == name and not p["deleted"]:
            email = owners[p["ownerId"]]
            playlists.setdefault(email, []).append((p["description"] == description, p["public"],
                                                    p["coverBytes"] == cover, p["uris"], playlist_id(email, p["id"])))
    wraps = {email: tuple(row[:-1]) + (playlist_id(email, row[-1]),) for email, row in wraps.items()}
    return {"items": items, "wraps": wraps, "playlists": playlists}


def radar_state(system, week):
    """What a run of the release radar for `week` leaves for the two users: their history rows, their items,
    their playlist (its id replaced by whether it is the one stored on the user), the shared catalogue."""
    emails = set(Jobs.emails(system))
    stored = {email: playlist for email, playlist in system.rows(
        "SELECT email, release_radar_playlist_id FROM users WHERE active_release_radar") if email in emails}

    def playlist_id(email, value):
        return "the user's playlist" if value is not None and value == stored.get(email) else value

    weeks = {row[0]: tuple(row[1:-1]) + (playlist_id(row[0], row[-1]),) for row in system.rows(f"""
        SELECT email, releases::text, artist_count, release_count, track_count, album_count, single_count, playlist_id
        FROM release_radar_weeks WHERE week_key = '{week}'""") if row[0] in emails}
    owners = {u["id"]: u["email"].lower() for u in sandbox_users(system.rig)}
    playlists = {}
    for p in system.rig.sandbox.get("/_sandbox/playlists")["playlists"]:
        if p["name"] == RADAR_PLAYLIST and not p["deleted"]:
            email = owners[p["ownerId"]]
            playlists.setdefault(email, []).append((p["description"], p["public"], p["uris"],
                                                    playlist_id(email, p["id"])))
    return {"items": items_state(system, "release_radar", week, emails, playlist_id), "weeks": weeks,
            "playlists": playlists, "stored": sorted(email for email, playlist in stored.items() if playlist),
            "scans": system.rows(f"SELECT artist_id, scope, releases::text FROM artist_week_releases "
                                 f"WHERE week_key = '{week}' ORDER BY 1, 2"),
            "tracks": system.rows("SELECT album_id, tracks::text FROM album_tracks ORDER BY 1")}


class Jobs:
    """The first two sandbox users enrolled in both jobs, what an uninterrupted run of each leaves, and the
    periods of the wrapped job's tests (a month each; no June or December, which make more playlists). The
    release radar's tests all run the same week afresh (`RadarWrite.reset`)."""

    def __init__(self, system):
        self.system = system
        rig = system.rig
        for user in live_sandbox_users(rig)[:2]:
            api = Api(rig.https_port, token=rig.token(user["email"].lower(), user["id"]))
            response = api.post("/user/update", {"userId": user["id"], "refreshToken": user["refreshToken"],
                                                 "wrappedEnrolled": True, "releaseRadarEnrolled": True})
            assert response.status == 200, response
        self.months = [f"{year}-{month:02d}" for year in (2025, 2024, 2023) for month in range(1, 12) if month != 6]
        self.references = {}
        for job, period in (("xomify-wrapped", self.take()), ("xomify-release-radar", WEEK)):
            result = rig.run_job(job, "--period", period, **JOB_SETTINGS)
            assert result.returncode == 0, result.stdout + result.stderr
            self.references[job] = self.state(job, period)
        for state in self.references.values():
            assert [item[1] for item in state["items"]] == ["done", "done"]
            assert len(state["playlists"]) == 2 and all(len(owned) == 1 for owned in state["playlists"].values())

    @staticmethod
    def emails(system):
        return [u["email"].lower() for u in live_sandbox_users(system.rig)[:2]]

    def take(self):
        return self.months.pop(0)

    def state(self, job, period):
        return wrapped_state(self.system, period) if job == "xomify-wrapped" else radar_state(self.system, period)


@pytest.fixture(scope="module")
def jobs(system):
    return Jobs(system)


class JobWrite:
    """A kind of write of a job (`job`, the wrapped job unless a `RadarWrite`). `sql` (and `params`, a regex on
    the parameters) picks the statement;
    `at_commit` cuts the COMMIT of the transaction that ran it instead. `wait_on` is the statement made to wait
    for the terminated timing, and `lock(period, fault)` the lock that makes it wait.

    A statement on its own that is terminated while it runs has an unknown outcome as far as the store can tell
    (the link broke after it was sent), so the run stops. One inside a transaction (`at_commit`) is certainly not
    committed: the store runs the transaction again on a new link, once, and the run goes on."""
    job = "xomify-wrapped"
    name = None
    sql = None
    params = None
    at_commit = False
    wait_on = None

    def period(self, jobs):
        """A period of its own, never run before."""
        return jobs.take()

    def repeated(self, timing):
        """Whether the store runs the statement again by itself: only when it certainly did not take effect."""
        return timing == TERMINATE and self.at_commit

    def applied(self, timing):
        """Whether the write ends up committed (once) by the run that met the fault."""
        return timing != TERMINATE or self.repeated(timing)

    def exit_status(self, timing):
        """The faulted run's exit status: stopped early (75) when the outcome was unknown to it."""
        return 0 if self.repeated(timing) else STOPPED_EARLY

    def lock(self, period, fault):
        """SQL that takes, for the test, a lock the statement will wait on: one that nothing the job holds at
        that moment conflicts with (inside a transaction a row's, not a table's: preparing a statement there
        already took its table's lock)."""
        raise NotImplementedError

    def check(self, case):
        """After the run that met the fault: the write was committed once (`case.applied`) or never."""
        raise NotImplementedError


class FaultedRun:
    """What a job test knows after the run that met the fault."""

    def __init__(self, system, kind, timing, period, mark, commands, run, fault):
        self.system, self.timing, self.period, self.mark = system, timing, period, mark
        self.run, self.fault = run, fault
        self.applied = kind.applied(timing)
        self.commands = commands
        # How often the statement went to PostgreSQL in that run.
        self.sent = self.executed(kind.sql, kind.params)
        self.output = run.stdout + run.stderr

    def executed(self, sql, params=None):
        """How often a command went to PostgreSQL in that run."""
        return self.system.proxy.executed(sql, params, since=self.commands)

    def writes(self, table, condition):
        return self.system.writes(self.mark, table, condition)

    def rows(self, sql):
        return self.system.rows(sql)

    @property
    def email(self):
        """The user of a job_items or wrapped_months statement (job, period, email, ... or email, month, ...)."""
        return next(value for value in self.fault.values if "@" in value)


class Claim(JobWrite):
    name = "claim of the period's items"
    sql = r"^\s*WITH claimed AS \(\s*UPDATE job_items i SET claimed_by"

    def lock(self, period, fault):
        return "LOCK TABLE job_items IN SHARE MODE"

    def check(self, case):
        claims = case.writes("job_items", f"data->>'period_key' = '{case.period}' AND data->>'claimed_by' IS NOT NULL")
        # Both items are claimed by the one statement; taken twice would be four claims.
        assert (case.sent, claims) == (1, 2 if case.applied else 0)
        # The run that could not know it claimed them gave them back at its end, the attempt not counted.
        assert case.rows(f"SELECT status, attempts, claimed_by FROM job_items WHERE period_key = '{case.period}'") == \
            [["pending", "0", None]] * 2


class BudgetReservation(JobWrite):
    name = "Spotify budget reservation"
    sql = r"^\s*INSERT INTO spotify_request_budget"
    at_commit = True
    wait_on = r"^\s*SELECT pg_advisory_xact_lock"

    def lock(self, period, fault):
        return f"SELECT pg_advisory_xact_lock({BUDGET_LOCK_KEY})"

    def check(self, case):
        # The counter is checked by the test against the requests the sandbox received.
        if not self.repeated(case.timing):
            assert "cannot reserve Spotify request budget" in case.output


class RunRow(JobWrite):
    name = "job_runs row of a new run"
    sql = r"^\s*INSERT INTO job_runs"

    def lock(self, period, fault):
        return "LOCK TABLE job_runs IN SHARE MODE"

    def check(self, case):
        assert (case.sent, case.writes("job_runs", f"data->>'period_key' = '{case.period}'")) == \
            (1, 1 if case.applied else 0)
        # The run never learnt its id, so it did nothing else; the row it left is taken over by the next run.
        assert case.rows(f"SELECT status FROM job_runs WHERE period_key = '{case.period}'") == \
            ([["running"]] if case.applied else [])
        assert case.rows(f"SELECT 1 FROM job_items WHERE period_key = '{case.period}'") == []


class RunEnd(JobWrite):
    name = "job_runs row of a finished run"
    sql = r"^\s*UPDATE job_runs SET status = \$2"
    at_commit = True

    def lock(self, period, fault):
        return f"SELECT 1 FROM job_runs WHERE period_key = '{period}' FOR UPDATE"

    def exit_status(self, timing):
        # The users were done before the end of the run was recorded; not knowing whether it was is logged.
        return 0

    def check(self, case):
        ends = case.writes("job_runs", f"data->>'period_key' = '{case.period}' AND data->>'status' <> 'running'")
        assert (case.sent, ends) == (2 if self.repeated(case.timing) else 1, 1)
        assert ("cannot record the end of the run" in case.output) == (not self.repeated(case.timing))


class WrapRow(JobWrite):
    name = "wrap row (wrapped_months)"
    sql = r"^\s*INSERT INTO wrapped_months"

    def lock(self, period, fault):
        return "LOCK TABLE wrapped_months IN SHARE MODE"

    def check(self, case):
        # The user's wrap of the period went to PostgreSQL once (the other user's went on meanwhile).
        assert case.executed(self.sql, rf"^{re.escape(case.email)} \| {case.period} ") == 1
        written = case.writes("wrapped_months", f"data->>'month_key' = '{case.period}' "
                                                f"AND data->>'email' = {sql_text(case.email)}")
        assert written == (1 if case.applied else 0)


class PlaylistProgress(JobWrite):
    name = "playlist id recorded (job_items.progress)"
    sql = r"^\s*UPDATE job_items SET progress"
    params = r'"id":'

    def lock(self, period, fault):
        return (f"SELECT 1 FROM job_items WHERE period_key = '{period}' AND email = {sql_text(fault_email(fault))} "
                f"FOR UPDATE")

    def check(self, case):
        sent = case.executed(self.sql, rf"^wrapped \| {case.period} \| {re.escape(case.email)} \| .*{self.params}")
        recorded = case.writes("job_items", f"""data->>'period_key' = '{case.period}'
            AND data->>'email' = {sql_text(case.email)} AND data->>'claimed_by' IS NOT NULL
            AND data->'progress'->'playlist.monthly' ? 'id'""")
        assert (sent, recorded) == (1, 1 if case.applied else 0)


class ItemOutcome(JobWrite):
    name = "item outcome (job_items.status)"
    sql = r"^\s*UPDATE job_items SET\s+status"

    def lock(self, period, fault):
        return (f"SELECT 1 FROM job_items WHERE period_key = '{period}' AND email = {sql_text(fault_email(fault))} "
                f"FOR UPDATE")

    def check(self, case):
        sent = case.executed(self.sql, rf"^wrapped \| {case.period} \| {re.escape(case.email)} \| ")
        done = case.writes("job_items", f"data->>'period_key' = '{case.period}' "
                                        f"AND data->>'email' = {sql_text(case.email)} AND data->>'status' = 'done'")
        assert (sent, done) == (1, 1 if case.applied else 0)
        # Not repeated: the user's item is done, or still pending and given back at the run's end.
        assert case.rows(f"SELECT status, claimed_by, attempts FROM job_items WHERE period_key = '{case.period}' "
                         f"AND email = {sql_text(case.email)}") == \
            [["done", None, "1"] if case.applied else ["pending", None, "0"]]


class RadarWrite(JobWrite):
    job = "xomify-release-radar"

    def period(self, jobs):
        """The week, run afresh: its history rows and items are removed (the catalogue and the playlists stay)."""
        jobs.system.db.query(f"DELETE FROM release_radar_weeks WHERE week_key = '{WEEK}'; "
                             f"DELETE FROM job_items WHERE job = 'release_radar' AND period_key = '{WEEK}'")
        return WEEK


class HistoryRow(RadarWrite):
    name = "release radar history row (release_radar_weeks)"
    sql = r"^\s*INSERT INTO release_radar_weeks"

    def lock(self, period, fault):
        return "LOCK TABLE release_radar_weeks IN SHARE MODE"

    def check(self, case):
        sent = case.executed(self.sql, rf"^{re.escape(case.email)} \| {case.period} ")
        written = case.writes("release_radar_weeks", f"data->>'week_key' = '{case.period}' "
                                                     f"AND data->>'email' = {sql_text(case.email)}")
        assert (sent, written) == (1, 1 if case.applied else 0)


class RadarPlaylistStored(RadarWrite):
    name = "release radar playlist id stored on the user"
    sql = r"^\s*UPDATE users SET release_radar_playlist_id"

    def period(self, jobs):
        """Also without playlists: deleted in the sandbox and forgotten, so that the run makes new ones."""
        week = super().period(jobs)
        emails = ", ".join(sql_text(email) for email in Jobs.emails(jobs.system))
        stored = [row[0] for row in jobs.system.rows(
            f"SELECT release_radar_playlist_id FROM users WHERE email IN ({emails})")]
        jobs.system.rig.sandbox.post("/_sandbox/config", {"deletePlaylists": [p for p in stored if p]})
        jobs.system.db.query(f"UPDATE users SET release_radar_playlist_id = NULL WHERE email IN ({emails})")
        return week

    def lock(self, period, fault):
        return f"SELECT 1 FROM users WHERE email = {sql_text(fault_email(fault))} FOR UPDATE"

    def check(self, case):
        sent = case.executed(self.sql, rf"^{re.escape(case.email)} \| ")
        stored = case.rows(f"SELECT release_radar_playlist_id IS NOT NULL FROM users "
                           f"WHERE email = {sql_text(case.email)}")
        assert (sent, stored) == (1, [["t" if case.applied else "f"]])


class CatalogueScan(RadarWrite):
    name = "shared catalogue scan (artist_week_releases)"
    sql = r"^\s*INSERT INTO artist_week_releases"
    at_commit = True

    def period(self, jobs):
        """Also without the catalogue: the week's scans and the releases' tracks are fetched again."""
        week = super().period(jobs)
        jobs.system.db.query(f"DELETE FROM artist_week_releases WHERE week_key = '{WEEK}'; DELETE FROM album_tracks")
        return week

    def lock(self, period, fault):
        # The same scan inserted and not committed: the job's insert waits to know whether it conflicts. (Not a
        # table lock: preparing the insert inside the transaction already took the table's.)
        artist, week, scope = fault.values[:3]
        return (f"INSERT INTO artist_week_releases (artist_id, week_key, scope, releases, requests) "
                f"VALUES ({sql_text(artist)}, '{week}', '{scope}', '[]', 0)")

    def check(self, case):
        artist, week, scope = case.fault.values[:3]
        written = case.writes("artist_week_releases", f"data->>'artist_id' = {sql_text(artist)} AND "
                                                      f"data->>'week_key' = '{week}' AND data->>'scope' = '{scope}'")
        assert written == 1, case.output


JOB_WRITES = (Claim, BudgetReservation, RunRow, RunEnd, WrapRow, PlaylistProgress, ItemOutcome,
              HistoryRow, RadarPlaylistStored, CatalogueScan)


def fault_email(fault):
    return next(value for value in fault.values if "@" in value)


def sent_requests(rig):
    """Requests the sandbox received that spend the budget (all but the token endpoint's)."""
    stats = rig.sandbox.get("/_sandbox/stats")
    return stats["total"] - stats["byRoute"].get("POST /api/token", 0)


def run_faulted(system, kind, timing, period):
    """Runs the job for `period` with the fault; returns (the run, the fault)."""
    rig, proxy = system.rig, system.proxy
    if timing != TERMINATE:
        fault = proxy.arm(kind.sql, timing, params=kind.params, at_commit=kind.at_commit)
        try:
            run = rig.run_job(kind.job, "--period", period, **JOB_SETTINGS)
            fault.wait()
        finally:
            proxy.disarm()
        return run, fault
    locker = Locker(rig.postgres.port)
    fault = proxy.arm(kind.wait_on or kind.sql, CALL_FIRST, params=None if kind.wait_on else kind.params,
                      action=lambda fault: locker.take(kind.lock(period, fault)))
    outcome = {}
    thread = threading.Thread(
        target=lambda: outcome.update(run=rig.run_job(kind.job, "--period", period, **JOB_SETTINGS)))
    try:
        thread.start()
        system.terminate(system.lock_waiter("xomify-job"))
    finally:
        locker.release()
        thread.join(120)
        proxy.disarm()
    return outcome["run"], fault


@pytest.mark.parametrize("timing", TIMINGS)
@pytest.mark.parametrize("kind", JOB_WRITES, ids=lambda kind: kind.name)
def test_a_job_write_whose_outcome_is_unknown_is_never_repeated_and_a_rerun_finishes(system, jobs, kind, timing):
    rig = system.rig
    write = kind()
    period = write.period(jobs)
    rig.sandbox.post("/_sandbox/reset-stats")
    budget = system.budget_used()
    mark, commands = system.mark(), system.proxy.mark()
    run, fault = run_faulted(system, write, timing, period)
    case = FaultedRun(system, write, timing, period, mark, commands, run, fault)
    if timing != TERMINATE:
        # PostgreSQL ran the command to its end (and committed it); the job never heard.
        assert fault.answer and fault.answer[-1] == ("Z", "I") and not fault.errors, fault
    write.check(case)
    assert run.returncode == write.exit_status(timing), case.output

    rerun = rig.run_job(write.job, "--period", period, **JOB_SETTINGS)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert jobs.state(write.job, period) == jobs.references[write.job]
    assert system.rows(f"SELECT count(*) FROM job_runs WHERE period_key = '{period}' AND status = 'running'") == [["0"]]
    # The budget is charged for what was sent, plus a reservation whose answer was lost (committed, never known,
    # so never given back): once, not twice.
    leaked = 10 if kind is BudgetReservation and timing != TERMINATE else 0
    assert system.budget_used() - budget == sent_requests(rig) + leaked, case.output


# -- commands that apply nothing -----------------------------------------------------------------------------
#
# Preparing a statement (Parse) and BEGIN apply nothing, whatever became of them: a link lost around them leaves
# the write certainly not run, and the store runs it again on a new link (once). The client never notices.

def new_pool_link(system):
    """Ends the pool thread's idle backend and waits until the proxy has closed that link: the thread notices
    before it sends anything and connects again, and its statements are prepared anew."""
    old = system.backends("xomify-api")
    for pid in old:
        system.terminate(pid)
    wait_until(lambda: not any(link.backend_pid in old for link in list(system.proxy.links)), 30,
               what="the proxy to close the ended backends' links")


@pytest.mark.parametrize("timing", (LOSE_ANSWER, CUT_BEFORE_ANSWER))
def test_an_api_write_lost_while_its_statement_was_prepared_is_run_once_on_a_new_link(system, timing):
    write = EnrolmentFlags(system)
    new_pool_link(system)
    mark = system.mark()
    sent = system.proxy.mark()
    fault = system.proxy.arm(write.sql, timing, parse=True)
    try:
        response = write.call()
        fault.wait()
    finally:
        system.proxy.disarm()
    assert fault.fired.is_set() and fault.answer[-1] == ("Z", "I"), fault
    assert response.status == 200, response
    assert system.proxy.executed(write.sql, since=sent) == 1
    assert write.applications(mark) == 1
    write.check(True)


@pytest.mark.parametrize("timing", (LOSE_ANSWER, CUT_BEFORE_ANSWER))
@pytest.mark.parametrize("command", ("BEGIN of the transaction enlisting the users", "Parse of the claim"))
def test_a_job_command_lost_before_its_write_is_run_again_and_the_run_goes_on(system, jobs, command, timing):
    rig, proxy = system.rig, system.proxy
    period = jobs.take()
    rig.sandbox.post("/_sandbox/reset-stats")
    budget = system.budget_used()
    mark = system.mark()
    if command.startswith("BEGIN"):
        # The run's first transaction (no crashed run to take over): its items are enlisted in it.
        fault = proxy.arm(r"^\s*BEGIN\b", timing)
    else:
        fault = proxy.arm(Claim.sql, timing, parse=True)
    try:
        run = rig.run_job("xomify-wrapped", "--period", period, **JOB_SETTINGS)
        fault.wait()
    finally:
        proxy.disarm()
    # PostgreSQL answered (BEGIN leaves it in a transaction); the job never heard.
    assert fault.answer[-1] == ("Z", "T" if command.startswith("BEGIN") else "I"), fault
    assert run.returncode == 0, run.stdout + run.stderr
    assert jobs.state("xomify-wrapped", period) == jobs.references["xomify-wrapped"]
    # The items were enlisted once and claimed once.
    assert system.writes(mark, "job_items", f"data->>'period_key' = '{period}' AND op = 'INSERT'") == 2
    assert system.writes(mark, "job_items", f"data->>'period_key' = '{period}' AND data->>'claimed_by' IS NOT NULL "
                                            f"AND data->>'attempts' = '1' AND data->>'status' = 'pending' "
                                            f"AND NOT data->'progress' ? 'wrap'") == 2
    assert system.budget_used() - budget == sent_requests(rig)

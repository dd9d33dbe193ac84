"""The monthly wrapped job (SPEC §7, §8.1) against the sandbox and a real PostgreSQL: contents, playlists,
exactly once under reruns, crashes, concurrency and quotas, dry runs, and what the API then shows."""

import os
import random
import time

import pytest

from api_client import Api
from xomify_rig import wait_until
from job_helpers import (FAST, SANDBOX_NOW, database_snapshot, enrol, expected_wrap, kill_when, playlists, run_job,
                         sandbox_snapshot, sandbox_users, start_job, table_fingerprint)

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
COVERS = os.path.join(REPO, "assets", "covers")


def new_rig(make_rig, **kwargs):
    return make_rig(sandbox_args=["--now", SANDBOX_NOW], settings={"XOMIFY_ADMIN_EMAILS": "admin@xomify.test"}, **kwargs)


@pytest.fixture(scope="module")
def wrapped_rig():
    """One system where the job has run for a normal month, June and December."""
    from api_helpers import assert_serves_this_rig
    from xomify_rig import Rig
    with Rig(sandbox_args=["--now", SANDBOX_NOW], settings={"XOMIFY_ADMIN_EMAILS": "admin@xomify.test"}) as rig:
        assert_serves_this_rig(rig)
        enrol(rig)
        results = {period: run_job(rig, "--period", period) for period in ("2026-10", "2026-06", "2026-12")}
        yield rig, results


def test_runs_succeed_and_skip_the_revoked_user(wrapped_rig):
    rig, results = wrapped_rig
    for period, result in results.items():
        assert result.returncode == 0, (period, result.stdout, result.stderr)
    # The first run met the revoked token; later runs no longer select that user at all.
    assert "needs_reauth" in results["2026-10"].stdout
    assert "needs_reauth" not in results["2026-06"].stdout
    revoked = [u for u in sandbox_users(rig) if u["revoked"]]
    assert len(revoked) == 1
    state = rig.postgres.rows(f"SELECT token_state, token_state_reason IS NOT NULL, token_state_at IS NOT NULL "
                              f"FROM users WHERE email = lower('{revoked[0]['email']}')")
    assert state == [["needs_reauth", "t", "t"]]
    done = rig.postgres.psql("SELECT count(*) FROM job_items WHERE status = 'done' AND period_key = '2026-10'").strip()
    assert int(done) == len(sandbox_users(rig)) - 1
    # The revoked user was asked once (first run) and never again.
    assert rig.postgres.psql("SELECT count(*) FROM job_items WHERE period_key <> '2026-10' AND status = 'skipped'").strip() == "0"


def test_stored_wraps_equal_the_sandbox_top_lists_and_genre_scores(wrapped_rig):
    rig, _ = wrapped_rig
    catalogue = rig.sandbox.get("/_sandbox/catalogue")
    admin = Api(rig.https_port, token=rig.token("admin@xomify.test"))
    checked = 0
    for user in sandbox_users(rig):
        if user["revoked"]:
            continue
        expected = expected_wrap(catalogue, user["id"])
        response = admin.get(f"/wrapped/month?email={user['email'].lower()}&monthKey=2026-10")
        assert response.status == 200
        wrap = response.json()
        assert wrap["topSongIds"] == expected["topSongIds"]
        assert wrap["topArtistIds"] == expected["topArtistIds"]
        for time_range, pairs in expected["topGenres"].items():
            # Keys in descending score order: compare as ordered pairs.
            assert list(wrap["topGenres"][time_range].items()) == pairs
        checked += 1
    assert checked >= 6
    # Some artists carry no genres (deprecated field): an all-absent range gives {} rather than an error.
    assert any(not a.get("genres") for a in catalogue["artists"])


def test_playlists_for_a_normal_month_june_and_december(wrapped_rig):
    rig, _ = wrapped_rig
    catalogue = rig.sandbox.get("/_sandbox/catalogue")
    by_name = sandbox_snapshot(rig)
    cover = {name: os.path.getsize(os.path.join(COVERS, name)) for name in os.listdir(COVERS)}
    for user in sandbox_users(rig):
        top = catalogue["top"][user["id"]]["tracks"]
        expected = {
            "Xomify October'26": ("Your Top 25 songs for October - Created by xomify.com", top["short_term"], "month-10.jpg"),
            "Xomify June'26": ("Your Top 25 songs for June - Created by xomify.com", top["short_term"], "month-06.jpg"),
            "Xomify First Half '26": ("Your Top 25 songs for the First 6 months of '26 - Created by xomify.com",
                                     top["medium_term"], "first-half.jpg"),
            "Xomify December'26": ("Your Top 25 songs for December - Created by xomify.com", top["short_term"], "month-12.jpg"),
            "Xomify 2026": ("Your Top 25 songs for 2026 - Created by xomify.com", top["long_term"], "year.jpg"),
        }
        owned = {name: entries for (owner, name), entries in by_name.items() if owner == user["id"]}
        if user["revoked"]:
            assert owned == {}
            continue
        assert set(owned) == set(expected)
        for name, (description, tracks, cover_file) in expected.items():
            assert len(owned[name]) == 1, f"{name} made {len(owned[name])} times"
            got_description, public, cover_bytes, uris = owned[name][0]
            assert got_description == description
            assert public is True  # SPEC §8.1: public, as the original system made them
            assert cover_bytes == cover[cover_file]
            assert uris == [f"spotify:track:{t}" for t in tracks[:25]]
    # Playlist ids are stored with the wraps.
    ids = rig.postgres.rows("SELECT month_key, count(playlist_id), count(first_half_playlist_id), count(year_playlist_id) "
                            "FROM wrapped_months GROUP BY month_key ORDER BY month_key")
    users = len(sandbox_users(rig)) - 1
    assert ids == [["2026-06", str(users), str(users), "0"], ["2026-10", str(users), "0", "0"],
                   ["2026-12", str(users), "0", str(users)]]


def test_rerun_of_a_complete_period_makes_no_request_and_changes_nothing(wrapped_rig):
    rig, _ = wrapped_rig
    before_db, before_playlists = database_snapshot(rig), sandbox_snapshot(rig)
    rig.sandbox.post("/_sandbox/reset-stats")
    result = run_job(rig, "--period", "2026-10")
    assert result.returncode == 0, result.stderr
    assert rig.sandbox.get("/_sandbox/stats")["total"] == 0
    assert database_snapshot(rig) == before_db
    assert sandbox_snapshot(rig) == before_playlists
    assert "finished by earlier runs" in result.stdout
    runs = rig.postgres.rows("SELECT status, spotify_requests FROM job_runs WHERE period_key = '2026-10' ORDER BY id")
    assert runs[-1] == ["succeeded", "0"]


def test_get_routes_return_the_new_wraps(wrapped_rig):
    rig, _ = wrapped_rig
    user = next(u for u in sandbox_users(rig) if not u["revoked"])
    api = Api(rig.https_port, token=rig.token(user["email"], user["id"]))
    data = api.get("/wrapped/data").json()
    assert data["activeWrapped"] is True
    assert [w["monthKey"] for w in data["wraps"]] == ["2026-12", "2026-10", "2026-06"]
    stored = rig.postgres.psql(f"SELECT playlist_id FROM wrapped_months WHERE email = lower('{user['email']}') "
                               f"AND month_key = '2026-12'").strip()
    assert data["wraps"][0]["playlistId"] == stored
    year = api.get("/wrapped/year?year=2026").json()
    assert [w["monthKey"] for w in year] == ["2026-12", "2026-10", "2026-06"]


def test_psql_reports_name_the_artists_and_tracks_of_the_top_lists(wrapped_rig):
    """The names come with the top lists the job receives anyway (no extra request): the reports read as text."""
    rig, _ = wrapped_rig
    catalogue = rig.sandbox.get("/_sandbox/catalogue")
    artist_names = {a["id"]: a["name"] for a in catalogue["artists"]}
    track_names = {t["id"]: t["name"] for album in catalogue["albums"] for t in album["tracks"]}
    counted = {"artist": 0, "track": 0}
    for kind, names in (("artist", artist_names), ("track", track_names)):
        rows = rig.postgres.rows(f"""SELECT time_range, {kind}_id, {kind}_name, users, rank
                                     FROM reporting.monthly_top_{kind}s WHERE month_key = '2026-10'""")
        assert {r[0] for r in rows} == {"short_term", "medium_term", "long_term"}
        for _, item_id, name, users, rank in rows:
            assert name == names[item_id], (kind, item_id)
            assert int(users) >= 1 and int(rank) >= 1
            counted[kind] += 1
    assert counted["artist"] > 25 and counted["track"] > 25
    # Where users agree: the short-term rank 1 artist is the one most users have, as counted here.
    users = [u for u in sandbox_users(rig) if not u["revoked"]]
    appearances = {}
    for user in users:
        for artist_id in catalogue["top"][user["id"]]["artists"]["short_term"][:25]:
            appearances[artist_id] = appearances.get(artist_id, 0) + 1
    top = rig.postgres.rows("""SELECT artist_id, users FROM reporting.monthly_top_artists
                               WHERE month_key = '2026-10' AND time_range = 'short_term' AND rank = 1""")
    assert all(int(count) == max(appearances.values()) == appearances[artist] for artist, count in top)
    genres = rig.postgres.rows("""SELECT DISTINCT time_range FROM reporting.monthly_top_genres
                                  WHERE month_key = '2026-10'""")
    assert sorted(g[0] for g in genres) == ["long_term", "medium_term", "short_term"]


def test_job_history_lists_each_runs_failures_with_their_reasons(wrapped_rig):
    rig, _ = wrapped_rig
    run = rig.postgres.psql("SELECT max(id) FROM job_runs WHERE period_key = '2026-10'").strip()
    email = rig.postgres.psql("SELECT min(email) FROM job_items WHERE period_key = '2026-10' AND status = 'done'").strip()
    history = rig.postgres.rows(f"SELECT status, failures FROM reporting.job_history WHERE id = {run}")
    assert history == [["succeeded", ""]]
    # A failure recorded by that run (as JobStore.finish records one) shows with its reason.
    rig.postgres.psql(f"""UPDATE job_items SET status = 'failed', last_error = 'forbidden: test', finished_by = {run}
                          WHERE job = 'wrapped' AND period_key = '2026-10' AND email = '{email}'""")
    try:
        assert rig.postgres.rows(f"SELECT failures FROM reporting.job_history WHERE id = {run}") == [
            [f"{email}: forbidden: test"]]
        assert [email, "failed", "forbidden: test"] in rig.postgres.rows(
            "SELECT email, status, last_error FROM reporting.job_problems WHERE period_key = '2026-10'")
    finally:
        rig.postgres.psql(f"""UPDATE job_items SET status = 'done', last_error = NULL
                              WHERE job = 'wrapped' AND period_key = '2026-10' AND email = '{email}'""")


def test_the_default_period_is_the_previous_month(make_rig):
    rig = new_rig(make_rig)
    enrol(rig, only=[sandbox_users(rig)[0]["email"]])
    result = run_job(rig)
    assert result.returncode == 0, result.stderr
    now = time.gmtime()
    year, month = (now.tm_year, now.tm_mon - 1) if now.tm_mon > 1 else (now.tm_year - 1, 12)
    assert rig.postgres.psql("SELECT month_key FROM wrapped_months").strip() == f"{year:04d}-{month:02d}"


def test_dry_run_writes_nothing(make_rig):
    rig = new_rig(make_rig)
    enrol(rig)
    before, before_playlists = table_fingerprint(rig), sandbox_snapshot(rig)
    result = run_job(rig, "--period", "2026-10", "--dry-run")
    assert result.returncode == 0, result.stderr
    assert "dry run: would create a playlist" in result.stderr
    assert table_fingerprint(rig) == before
    assert sandbox_snapshot(rig) == before_playlists
    stats = rig.sandbox.get("/_sandbox/stats")
    assert stats["byRoute"].get("GET /v1/me/top/{type}", 0) > 0
    assert not any(route.startswith(("POST /v1", "PUT /v1")) for route in stats["byRoute"])


def test_a_user_not_enrolled_is_never_touched(make_rig):
    rig = new_rig(make_rig)
    users = [u for u in sandbox_users(rig) if not u["revoked"]]
    enrol(rig, only=[u["email"] for u in users[1:]])
    enrol(rig, wrapped=False, only=[users[0]["email"]])
    rig.sandbox.post("/_sandbox/reset-stats")
    result = run_job(rig, "--period", "2026-10")
    assert result.returncode == 0, result.stderr
    assert rig.postgres.psql(f"SELECT count(*) FROM job_items WHERE email = lower('{users[0]['email']}')").strip() == "0"
    assert not [p for p in playlists(rig) if p["ownerId"] == users[0]["id"]]
    # One token refresh per enrolled user, none for the one who is not.
    assert rig.sandbox.get("/_sandbox/stats")["byRoute"]["POST /api/token"] == len(users) - 1


def test_one_user_with_the_user_option(make_rig):
    rig = new_rig(make_rig)
    users = enrol(rig)
    target = next(u for u in users if not u["revoked"])
    result = run_job(rig, "--period", "2026-10", "--user", target["email"])
    assert result.returncode == 0, result.stderr
    assert rig.postgres.rows("SELECT email FROM wrapped_months") == [[target["email"].lower()]]


def test_killed_right_after_creating_a_playlist_then_rerun(make_rig):
    rig = new_rig(make_rig)
    users = enrol(rig)
    # The playlist exists before the job hears of it: the kill lands between creation and the recorded id. The
    # answer delay is that window: 1.5 s against the few milliseconds kill_when needs to see the playlist (and
    # the rerun's "recovered" line below fails the test if the kill ever missed it).
    rig.sandbox.post("/_sandbox/config", {"answerDelayMs": 1500})
    job = start_job(rig, "--period", "2026-10")
    kill_when(job, lambda: len(playlists(rig)) > 0)
    assert job.returncode == -9
    first = playlists(rig)
    assert first, "the job was killed before it created a playlist"
    rig.sandbox.post("/_sandbox/config", {"answerDelayMs": 0})
    result = run_job(rig, "--period", "2026-10")
    assert result.returncode == 0, result.stderr
    assert "recovered a playlist created by an interrupted run" in result.stderr
    snapshot = sandbox_snapshot(rig)
    assert all(len(entries) == 1 for entries in snapshot.values()), snapshot
    assert len(snapshot) == len([u for u in users if not u["revoked"]])
    assert first[0]["id"] in [p["id"] for p in playlists(rig)]
    assert rig.postgres.psql("SELECT string_agg(DISTINCT status, ',') FROM job_runs").strip() in ("crashed,succeeded", "succeeded,crashed")


def test_killed_at_random_points_then_rerun_equals_an_uninterrupted_run(make_rig):
    reference = new_rig(make_rig)
    enrol(reference)
    reference.sandbox.post("/_sandbox/config", {"latencyMs": 15})
    assert run_job(reference, "--period", "2026-06").returncode == 0
    expected_db, expected_playlists = database_snapshot(reference), sandbox_snapshot(reference)
    requests = reference.sandbox.get("/_sandbox/stats")["total"]
    reference.close()

    rig = new_rig(make_rig)
    enrol(rig)
    rig.sandbox.post("/_sandbox/config", {"latencyMs": 15})
    # Five kill points spread over the run, counted in requests the sandbox has seen (reruns repeat a few).
    points = sorted(random.Random(20261127).sample(range(3, requests - 3), 5))
    kills = 0
    for point in points:
        job = start_job(rig, "--period", "2026-06")
        kill_when(job, lambda: rig.sandbox.get("/_sandbox/stats")["total"] >= point)
        kills += job.returncode == -9
    result = run_job(rig, "--period", "2026-06")
    assert result.returncode == 0, result.stdout + result.stderr
    assert kills >= 4, points
    actual_db = database_snapshot(rig)
    for table in expected_db:
        differing = [(a[0], i, a[i][:300], b[i][:300]) for a, b in zip(actual_db[table], expected_db[table])
                     for i in range(len(a)) if a[i] != b[i]]
        assert not differing and len(actual_db[table]) == len(expected_db[table]), f"{table}: {differing[:3]}"
    assert sandbox_snapshot(rig) == expected_playlists


def test_two_runners_at_once_share_the_users(make_rig):
    rig = new_rig(make_rig)
    users = enrol(rig)
    # Slow answers make one runner's whole run (seconds) far longer than the gap between the two starts, so
    # that both take part even when a loaded machine starts the second one late.
    rig.sandbox.post("/_sandbox/config", {"latencyMs": 150})
    rig.sandbox.post("/_sandbox/reset-stats")
    jobs = [start_job(rig, "--period", "2026-10", XOMIFY_JOB_PARALLELISM="2") for _ in range(2)]
    for job in jobs:
        job.wait(300)
    assert [job.returncode for job in jobs] == [0, 0], open(os.path.join(rig.directory, "jobs.log")).read()[-3000:]
    # Each user's token was refreshed once in all: no user was worked on by both runners.
    assert rig.sandbox.get("/_sandbox/stats")["byRoute"]["POST /api/token"] == len(users)
    assert all(len(entries) == 1 for entries in sandbox_snapshot(rig).values())
    done = rig.postgres.rows("SELECT users_done FROM job_runs ORDER BY id")
    assert len(done) == 2 and sum(int(d[0]) for d in done) == len(users) - 1
    assert all(int(d[0]) > 0 for d in done), "both runners took part"


def test_a_user_whose_row_is_locked_holds_up_no_one_else(make_rig):
    """A job's database calls wait on their own session's thread, never on Swift's cooperative threads nor on one
    shared session: while one user's write waits on a lock held elsewhere, the other users are all done."""
    rig = new_rig(make_rig)
    users = enrol(rig)
    held = next(u for u in users if not u["revoked"])["email"].lower()
    # The lock an update of the row through the API takes (foreign keys to the row still pass).
    with rig.postgres.transaction_holding(f"SELECT 1 FROM users WHERE email = '{held}' FOR NO KEY UPDATE") as lock:
        job = start_job(rig, "--period", "2026-10", XOMIFY_JOB_PARALLELISM="2")

        def others_finished():
            return rig.postgres.psql(f"""SELECT count(*) FROM job_items
                                         WHERE email <> '{held}' AND status = 'pending'""").strip() == "0" \
                and rig.postgres.psql("SELECT count(*) FROM job_items").strip() == str(len(users))

        # Well inside the job's 30 s statement timeout: the held user's call is still waiting when the others end.
        wait_until(others_finished, 25, what="every other user finished while one waits on a lock")
        assert job.poll() is None
        assert rig.postgres.psql(f"SELECT status FROM job_items WHERE email = '{held}'").strip() == "pending"
        assert rig.postgres.psql("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                                 "AND application_name LIKE 'xomify%'").strip() == "1"
        lock.commit()
        job.wait(120)
    assert job.returncode == 0, open(os.path.join(rig.directory, "jobs.log")).read()[-3000:]
    assert rig.postgres.psql(f"SELECT status FROM job_items WHERE email = '{held}'").strip() == "done"


def test_quota_exceeded_half_way_exits_75_and_the_next_run_finishes_the_rest(make_rig):
    rig = new_rig(make_rig)
    users = enrol(rig)
    rig.sandbox.post("/_sandbox/config", {"dailyQuota": 35})
    first = run_job(rig, "--period", "2026-10", XOMIFY_JOB_PARALLELISM="1")
    assert first.returncode == 75, first.stdout + first.stderr
    assert "QUOTA_EXCEEDED" in first.stdout
    finished = {row[0] for row in rig.postgres.rows("SELECT email FROM job_items WHERE status <> 'pending'")}
    pending = {row[0] for row in rig.postgres.rows("SELECT email FROM job_items WHERE status = 'pending'")}
    assert finished and pending
    assert rig.postgres.psql("SELECT status FROM job_runs").strip() == "stopped"
    # A day later the quota is back.
    rig.sandbox.post("/_sandbox/config", {"now": "2026-11-28T13:00:00Z"})
    rig.sandbox.post("/_sandbox/reset-stats")
    second = run_job(rig, "--period", "2026-10")
    assert second.returncode == 0, second.stdout + second.stderr
    # Only the unfinished users were asked for anything: one token refresh each.
    assert rig.sandbox.get("/_sandbox/stats")["byRoute"]["POST /api/token"] == len(pending)
    assert all(len(entries) == 1 for entries in sandbox_snapshot(rig).values())
    assert int(rig.postgres.psql("SELECT count(*) FROM job_items WHERE status = 'done'")) == len(users) - 1


def test_our_daily_budget_stops_the_run_cleanly(make_rig):
    rig = new_rig(make_rig)
    enrol(rig)
    result = run_job(rig, "--period", "2026-10", XOMIFY_SPOTIFY_DAILY_BUDGET="25", XOMIFY_JOB_PARALLELISM="1")
    assert result.returncode == 75, result.stdout
    assert "daily Spotify request budget spent" in result.stdout
    used = int(rig.postgres.psql("SELECT sum(requests) FROM spotify_request_budget"))
    assert used <= 25
    stats = rig.sandbox.get("/_sandbox/stats")
    assert stats["total"] - stats["byRoute"].get("POST /api/token", 0) <= 25


def test_a_configuration_error_exits_78_with_one_line(make_rig, tmp_path):
    rig = new_rig(make_rig)
    result = run_job(rig, "--period", "2026-10", XOMIFY_SPOTIFY_CLIENT_SECRET_FILE=str(tmp_path / "missing"))
    assert result.returncode == 78
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "XOMIFY_SPOTIFY_CLIENT_SECRET_FILE" in lines[0]
    bad_period = run_job(rig, "--period", "2026-13")
    assert bad_period.returncode == 78 and "--period" in bad_period.stderr
    assert rig.postgres.psql("SELECT count(*) FROM job_runs").strip() == "0"


def test_help_documents_the_options():
    import subprocess
    from xomify_rig import bin_dir
    result = subprocess.run([os.path.join(bin_dir(), "xomify-wrapped"), "--help"], capture_output=True, text=True)
    assert result.returncode == 0
    for option in ["--period", "--user", "--dry-run", "--spotify-max-rps", "--spotify-daily-budget", "75"]:
        assert option in result.stdout

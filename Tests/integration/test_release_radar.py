"""The weekly release radar job (SPEC §7, §8.2, §12) against the sandbox and a real PostgreSQL. What each user's
playlist and history row must hold is computed in the test from `/_sandbox/catalogue` by
release_radar_reference.py (written from the SPEC, checked on its own), never from the job's code; so is the
floor of Spotify requests the run must stay within."""

import os
import random
import subprocess
from datetime import timedelta

import pytest

from api_client import Api
from job_helpers import FAST, SANDBOX_NOW, kill_when, sandbox_users
from release_radar_reference import expected_week, last_complete_week, request_floor, week_of
from xomify_rig import bin_dir

WEEK = last_complete_week(SANDBOX_NOW)  # Sat 14 - Fri 20 November 2026, the hard cases' week


def new_rig(make_rig, sandbox_args=(), **kwargs):
    return make_rig(sandbox_args=["--now", SANDBOX_NOW, *sandbox_args], **kwargs)


def enrol(rig, release_radar=True, only=None, **extra):
    """Enrols the sandbox's users (or `only` those emails) in the release radar through the API."""
    users = [u for u in sandbox_users(rig) if only is None or u["email"] in only]
    for user in users:
        api = Api(rig.https_port, token=rig.token(user["email"].lower(), user["id"]))
        body = {"userId": user["id"], "refreshToken": user["refreshToken"], "wrappedEnrolled": False,
                "releaseRadarEnrolled": release_radar}
        body.update(extra)
        response = api.post("/user/update", body)
        assert response.status == 200, response
    return users


def run_job(rig, *args, **settings):
    merged = dict(FAST)
    merged.update(settings)
    return rig.run_job("xomify-release-radar", *args, **merged)


def start_job(rig, *args, **settings):
    merged = dict(FAST)
    merged.update(settings)
    return subprocess.Popen([os.path.join(bin_dir(), "xomify-release-radar")] + list(args), env=rig.settings(**merged),
                            stdout=rig.job_log(), stderr=subprocess.STDOUT, text=True)


def live_users(rig):
    return [u for u in sandbox_users(rig) if not u["revoked"]]


def stored_weeks(rig, week=WEEK):
    """The history rows of `week`, by email: (releases as the API's objects, stats, playlist id)."""
    api_weeks = {}
    for user in live_users(rig):
        email = user["email"].lower()
        response = Api(rig.https_port, token=rig.token(email, user["id"])).get("/release-radar/history?limit=104")
        assert response.status == 200, response
        found = [w for w in response.json()["weeks"] if w["weekKey"] == week.key]
        api_weeks[email] = found[0] if found else None
    return api_weeks


def radar_playlists(rig):
    """The sandbox's release radar playlists that exist, by owner: [(id, public, description, uris)]."""
    result = {}
    for playlist in rig.sandbox.get("/_sandbox/playlists")["playlists"]:
        if playlist["name"] == "Xomify Weekly Release Radar" and not playlist["deleted"]:
            result.setdefault(playlist["ownerId"], []).append(
                (playlist["id"], playlist["public"], playlist["description"], playlist["uris"]))
    return result


def snapshot(rig):
    """What a run leaves, without times and ids: history rows, item states, catalogue cache, playlists."""
    weeks = rig.postgres.rows("""SELECT email, week_key, releases::text, artist_count, release_count, track_count,
                                        album_count, single_count, playlist_id IS NOT NULL
                                 FROM release_radar_weeks ORDER BY email, week_key""")
    items = rig.postgres.rows("SELECT email, period_key, status, last_error FROM job_items ORDER BY email, period_key")
    users = rig.postgres.rows("SELECT email, release_radar_playlist_id IS NOT NULL FROM users ORDER BY email")
    scans = rig.postgres.rows("SELECT artist_id, week_key, scope, releases::text FROM artist_week_releases ORDER BY 1, 2, 3")
    playlists = {owner: [(public, description, uris) for _, public, description, uris in entries]
                 for owner, entries in radar_playlists(rig).items()}
    return {"weeks": weeks, "items": items, "users": users, "scans": scans, "playlists": playlists}


def check_against_the_reference(rig, catalogue, week=WEEK, appears_on=True):
    """Every live user's history row (through the API) and playlist equal the reference's week."""
    weeks = stored_weeks(rig, week)
    playlists = radar_playlists(rig)
    for user in live_users(rig):
        expected = expected_week(catalogue, user["id"], week, appears_on=appears_on)
        got = weeks[user["email"].lower()]
        assert got is not None, user["email"]
        assert (got["weekKey"], got["weekDisplay"], got["startDate"], got["endDate"]) == (
            expected["weekKey"], expected["weekDisplay"], expected["startDate"], expected["endDate"])
        releases = [{k: r[k] for k in ("albumId", "albumName", "albumType", "artistId", "artistName", "releaseDate",
                                       "totalTracks", "uri")} for r in got["releases"]]
        assert releases == expected["releases"], user["email"]
        assert got["stats"] == expected["stats"], user["email"]
        owned = playlists.get(user["id"], [])
        assert len(owned) == 1, (user["email"], owned)
        playlist_id, public, description, uris = owned[0]
        assert uris == expected["uris"], user["email"]
        assert public is True and description == "All your followed artists newest songs - Created by xomify.com"
        assert got["playlistId"] == playlist_id


@pytest.fixture(scope="module")
def radar_rig():
    """One system where the job has run for the hard cases' week, then again (a rerun)."""
    from xomify_rig import Rig
    with Rig(sandbox_args=["--now", SANDBOX_NOW]) as rig:
        enrol(rig)
        rig.sandbox.post("/_sandbox/reset-stats")
        first = run_job(rig, "--period", WEEK.key)
        stats = rig.sandbox.get("/_sandbox/stats")
        rig.sandbox.post("/_sandbox/reset-stats")
        rerun = run_job(rig, "--period", WEEK.key)
        yield rig, first, stats, rerun


def test_every_users_week_equals_the_reference(radar_rig):
    rig, first, _, _ = radar_rig
    assert first.returncode == 0, first.stdout + first.stderr
    check_against_the_reference(rig, rig.sandbox.get("/_sandbox/catalogue"))


def test_the_hard_cases(radar_rig):
    """SPEC §9's hard cases, each seen in the first user's week (the reference agrees, and is checked on its
    own; here they are named so that a failure says which)."""
    rig, _, _, _ = radar_rig
    catalogue = rig.sandbox.get("/_sandbox/catalogue")
    cases = catalogue["hardCases"]
    first = cases["multiPageFollower"]["userId"]
    email = next(u["email"].lower() for u in sandbox_users(rig) if u["id"] == first)
    week = stored_weeks(rig)[email]
    albums = [r["albumId"] for r in week["releases"]]
    playlist = radar_playlists(rig)[first][0][3]
    tracks = {a["id"]: a["tracks"] for a in catalogue["albums"]}
    # A new single behind ten or more albums is found.
    assert cases["manyAlbumsArtist"]["newSingleId"] in albums
    # An album of more than 50 tracks contributes all of them.
    assert all(t["uri"] in playlist for t in tracks[cases["longAlbum"]["albumId"]])
    assert len(tracks[cases["longAlbum"]["albumId"]]) > 50
    # A single and its album version: the album's track once, not the single's.
    pair = cases["singleAndAlbumVersion"]
    assert f"spotify:track:{pair['albumTrackId']}" in playlist
    assert f"spotify:track:{pair['singleTrackId']}" not in playlist
    # An album reached through two followed artists: once.
    assert albums.count(cases["twoArtistAlbum"]["albumId"]) == 1
    # A compilation with one followed artist: only that artist's track.
    compilation = cases["compilation"]
    assert compilation["albumId"] in albums
    kept = [t["uri"] for t in tracks[compilation["albumId"]] if t["uri"] in playlist]
    assert kept == [f"spotify:track:{compilation['followedTrackId']}"]
    # Year precision never; the week's edges in, the days around them out.
    assert cases["yearPrecisionRelease"]["albumId"] not in albums
    edges = cases["boundaryReleases"]
    assert edges["weekFirstDay"]["albumId"] in albums and edges["weekLastDay"]["albumId"] in albums
    assert edges["dayBeforeWeek"]["albumId"] not in albums and edges["currentWeek"]["albumId"] not in albums
    # Its playlist id is the user's, through the API.
    user = Api(rig.https_port, token=rig.token(email, first)).get("/user/data").json()
    assert user["releaseRadarId"] == week["playlistId"]


def test_spotify_requests_stay_within_the_floor_and_a_rerun_makes_none(radar_rig):
    rig, first, stats, rerun = radar_rig
    catalogue = rig.sandbox.get("/_sandbox/catalogue")
    users = [u["id"] for u in sandbox_users(rig)]
    revoked = [u["id"] for u in sandbox_users(rig) if u["revoked"]]
    floor, breakdown = request_floor(catalogue, users, WEEK, revoked=revoked)
    assert stats["total"] <= 1.05 * floor, (stats["total"], floor, stats["byRoute"], breakdown)
    # The floor is a lower bound: a job spending less would have missed something.
    assert stats["total"] >= floor, (stats["total"], floor)
    assert "0 failed" in first.stdout
    assert rerun.returncode == 0 and "finished by earlier runs" in rerun.stdout
    assert rig.sandbox.get("/_sandbox/stats")["total"] == 0


def test_the_api_shows_the_week_with_an_etag_that_changed(radar_rig):
    rig, _, _, _ = radar_rig
    user = live_users(rig)[0]
    api = Api(rig.https_port, token=rig.token(user["email"].lower(), user["id"]))
    check = api.get("/release-radar/check").json()
    assert check["enrolled"] is True and check["hasHistory"] is True
    history = api.get("/release-radar/history")
    tag = history.header("etag")
    assert history.json()["count"] >= 1
    assert api.get("/release-radar/history", headers={"If-None-Match": tag}).status == 304
    # The job writing another week moves the ETag.
    result = run_job(rig, "--period", week_of(WEEK.start - timedelta(weeks=1)).key,
                     "--user", user["email"].lower())
    assert result.returncode == 0, result.stdout
    assert api.get("/release-radar/history", headers={"If-None-Match": tag}).status == 200


def test_a_month_precision_release_appears_in_exactly_one_week(make_rig):
    rig = new_rig(make_rig)
    catalogue = rig.sandbox.get("/_sandbox/catalogue")
    case = catalogue["hardCases"]["monthPrecisionRelease"]
    first = catalogue["hardCases"]["multiPageFollower"]["userId"]
    user = next(u for u in sandbox_users(rig) if u["id"] == first)
    enrol(rig, only=[user["email"]])
    weeks = [week_of(WEEK.start - timedelta(weeks=k)) for k in range(6)]
    holding = []
    for week in weeks:
        result = run_job(rig, "--period", week.key)
        assert result.returncode == 0, result.stdout
        got = stored_weeks(rig, week)[user["email"].lower()]
        expected = expected_week(catalogue, first, week)
        assert got["stats"] == expected["stats"], week.key
        if case["albumId"] in [r["albumId"] for r in got["releases"]]:
            holding.append(week.key)
    assert holding == [case["weekKey"]]


def test_a_deleted_playlist_is_recreated_and_its_new_id_stored(make_rig):
    rig = new_rig(make_rig)
    catalogue = rig.sandbox.get("/_sandbox/catalogue")
    gone = catalogue["hardCases"]["deletedPlaylist"]
    user = next(u for u in sandbox_users(rig) if u["id"] == gone["userId"])
    enrol(rig, only=[user["email"]], releaseRadarEnrolled=True)
    api = Api(rig.https_port, token=rig.token(user["email"].lower(), user["id"]))
    # The user's stored playlist is one Spotify deleted (set as the old apps set it).
    assert api.post("/wrapped/data", {"userId": user["id"], "refreshToken": user["refreshToken"], "active": False,
                                      "releaseRadarId": gone["playlistId"]}).status == 200
    assert api.get("/user/data").json()["releaseRadarId"] == gone["playlistId"]
    result = run_job(rig, "--period", WEEK.key)
    assert result.returncode == 0, result.stdout
    new_id = api.get("/user/data").json()["releaseRadarId"]
    assert new_id and new_id != gone["playlistId"]
    owned = radar_playlists(rig)[user["id"]]
    assert [p[0] for p in owned] == [new_id]
    assert owned[0][3] == expected_week(catalogue, user["id"], WEEK)["uris"]
    # A later week writes to the new one, and makes no other.
    rig.sandbox.post("/_sandbox/reset-stats")
    assert run_job(rig, "--period", week_of(WEEK.start + timedelta(weeks=1)).key).returncode == 0
    assert [p[0] for p in radar_playlists(rig)[user["id"]]] == [new_id]
    assert rig.sandbox.get("/_sandbox/stats")["byRoute"].get("POST /v1/me/playlists", 0) == 0


def test_an_empty_week_empties_the_playlist_and_writes_the_row(make_rig):
    rig = new_rig(make_rig)
    users = enrol(rig)
    assert run_job(rig, "--period", WEEK.key).returncode == 0
    empty = week_of("2021-10")  # years before the first release of the sandbox's catalogue
    catalogue = rig.sandbox.get("/_sandbox/catalogue")
    assert all(expected_week(catalogue, u["id"], empty)["uris"] == [] for u in users)
    result = run_job(rig, "--period", empty.key)
    assert result.returncode == 0, result.stdout
    for user in live_users(rig):
        row = stored_weeks(rig, empty)[user["email"].lower()]
        assert row["releases"] == [] and row["stats"] == {"artistCount": 0, "releaseCount": 0, "trackCount": 0,
                                                          "albumCount": 0, "singleCount": 0}
        assert radar_playlists(rig)[user["id"]][0][3] == []


def test_two_runners_at_once_scan_each_artist_once_and_each_user_once(make_rig):
    rig = new_rig(make_rig)
    users = enrol(rig)
    rig.sandbox.post("/_sandbox/config", {"latencyMs": 40})
    rig.sandbox.post("/_sandbox/reset-stats")
    jobs = [start_job(rig, "--period", WEEK.key, XOMIFY_JOB_PARALLELISM="2") for _ in range(2)]
    for job in jobs:
        job.wait(600)
    assert [job.returncode for job in jobs] == [0, 0], open(os.path.join(rig.directory, "jobs.log")).read()[-3000:]
    stats = rig.sandbox.get("/_sandbox/stats")
    assert stats["byRoute"]["POST /api/token"] == len(users)
    catalogue = rig.sandbox.get("/_sandbox/catalogue")
    floor, breakdown = request_floor(catalogue, [u["id"] for u in users], WEEK,
                                     revoked=[u["id"] for u in users if u["revoked"]])
    # Each artist once: the album,single scans are those of one runner alone, and the whole is within the floor.
    assert stats["total"] <= 1.05 * floor, (stats["total"], floor, breakdown)
    scanned = int(rig.postgres.psql("SELECT count(*) FROM artist_week_releases WHERE scope = 'own'").strip())
    assert stats["byIncludeGroups"]["album,single"] == scanned
    # Both did work.
    runners = rig.postgres.psql("SELECT count(DISTINCT finished_by) FROM job_items WHERE status = 'done'").strip()
    assert int(runners) == 2
    check_against_the_reference(rig, catalogue)


def test_killed_at_random_points_then_rerun_equals_an_uninterrupted_run(make_rig):
    straight = new_rig(make_rig)
    enrol(straight)
    assert run_job(straight, "--period", WEEK.key).returncode == 0
    expected = snapshot(straight)
    requests = straight.sandbox.get("/_sandbox/stats")["total"]

    rig = new_rig(make_rig)
    enrol(rig)
    rig.sandbox.post("/_sandbox/config", {"latencyMs": 15})
    points = sorted(random.Random(20261127).sample(range(5, requests - 5), 5))
    kills = 0
    for point in points:
        job = start_job(rig, "--period", WEEK.key)
        kill_when(job, lambda: rig.sandbox.get("/_sandbox/stats")["total"] >= point)
        kills += job.returncode == -9
    result = run_job(rig, "--period", WEEK.key)
    assert result.returncode == 0, result.stdout + result.stderr
    assert kills >= 4, points
    actual = snapshot(rig)
    for part in expected:
        assert actual[part] == expected[part], part
    check_against_the_reference(rig, rig.sandbox.get("/_sandbox/catalogue"))


def test_quota_exceeded_half_way_exits_75_and_the_next_run_repeats_no_finished_work(make_rig):
    rig = new_rig(make_rig)
    users = enrol(rig)
    catalogue = rig.sandbox.get("/_sandbox/catalogue")
    floor, _ = request_floor(catalogue, [u["id"] for u in users], WEEK, revoked=[u["id"] for u in users if u["revoked"]])
    rig.sandbox.post("/_sandbox/reset-stats")
    rig.sandbox.post("/_sandbox/config", {"dailyQuota": floor // 2})
    stopped = run_job(rig, "--period", WEEK.key)
    assert stopped.returncode == 75, stopped.stdout + stopped.stderr
    assert "QUOTA_EXCEEDED" in stopped.stdout
    pending = int(rig.postgres.psql("SELECT count(*) FROM job_items WHERE status = 'pending'").strip())
    assert pending > 0
    rig.sandbox.post("/_sandbox/config", {"dailyQuota": 0})
    finished = run_job(rig, "--period", WEEK.key)
    assert finished.returncode == 0, finished.stdout
    check_against_the_reference(rig, catalogue)
    # Work done before the stop is not asked for again: what both runs sent (429s aside) is the floor, plus at
    # most, for each user in flight at the stop, their token refresh and their playlist's first write (a fill cut
    # between its PUT and its POSTs starts over with the PUT). The pages of a scan or of a release's tracks cut
    # short are kept and not asked for again, although several of them are in flight at once.
    stats = rig.sandbox.get("/_sandbox/stats")
    sent = stats["total"] - stats["status429"]
    in_flight = int(FAST["XOMIFY_JOB_PARALLELISM"])
    assert sent <= floor + 2 * in_flight, (sent, floor, stats["byRoute"])
    # Pages kept from fetches cut short were gone on from and dropped.
    assert rig.postgres.psql("SELECT count(*) FROM catalogue_partial_fetches").strip() == "0"


def test_dry_run_changes_nothing_anywhere(make_rig):
    rig = new_rig(make_rig)
    enrol(rig)
    before = snapshot(rig)
    counts = rig.postgres.psql("SELECT (SELECT count(*) FROM job_runs), (SELECT count(*) FROM album_tracks), "
                               "(SELECT count(*) FROM catalogue_claims), (SELECT count(*) FROM spotify_request_budget)")
    result = run_job(rig, "--period", WEEK.key, "--dry-run")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "would write the week" in result.stderr
    assert snapshot(rig) == before
    assert rig.postgres.psql("SELECT (SELECT count(*) FROM job_runs), (SELECT count(*) FROM album_tracks), "
                             "(SELECT count(*) FROM catalogue_claims), (SELECT count(*) FROM spotify_request_budget)") == counts


def test_a_user_whose_release_radar_flag_is_off_is_never_touched(make_rig):
    rig = new_rig(make_rig)
    users = [u for u in sandbox_users(rig) if not u["revoked"]]
    off, on = users[0], users[1:]
    enrol(rig, release_radar=False, only=[off["email"]])
    enrol(rig, only=[u["email"] for u in on])
    rig.sandbox.post("/_sandbox/reset-stats")
    assert run_job(rig, "--period", WEEK.key).returncode == 0
    assert rig.sandbox.get("/_sandbox/stats")["byRoute"]["POST /api/token"] == len(on)
    assert off["id"] not in radar_playlists(rig)
    assert stored_weeks(rig)[off["email"].lower()] is None
    assert rig.postgres.psql(f"SELECT count(*) FROM job_items WHERE email = lower('{off['email']}')").strip() == "0"


def test_appears_on_off_keeps_compilations_and_features_out(make_rig):
    rig = new_rig(make_rig)
    users = enrol(rig)
    catalogue = rig.sandbox.get("/_sandbox/catalogue")
    compilation = catalogue["hardCases"]["compilation"]["albumId"]
    rig.sandbox.post("/_sandbox/reset-stats")
    result = run_job(rig, "--period", WEEK.key, XOMIFY_RELEASE_RADAR_APPEARS_ON="false")
    assert result.returncode == 0, result.stdout
    check_against_the_reference(rig, catalogue, appears_on=False)
    assert all(compilation not in [r["albumId"] for r in (w or {"releases": []})["releases"]]
               for w in stored_weeks(rig).values())
    stats = rig.sandbox.get("/_sandbox/stats")
    assert not {"appears_on,compilation", "appears_on", "compilation"} & set(stats["byIncludeGroups"])
    floor, _ = request_floor(catalogue, [u["id"] for u in users], WEEK, appears_on=False,
                             revoked=[u["id"] for u in users if u["revoked"]])
    assert stats["total"] <= 1.05 * floor


def test_help_documents_the_options():
    result = subprocess.run([os.path.join(bin_dir(), "xomify-release-radar"), "--help"], capture_output=True, text=True,
                            timeout=30)
    assert result.returncode == 0
    for option in ("--period YYYY-WW", "--user EMAIL", "--dry-run", "XOMIFY_RELEASE_RADAR_APPEARS_ON",
                   "XOMIFY_SPOTIFY_DAILY_BUDGET", "75"):
        assert option in result.stdout, option

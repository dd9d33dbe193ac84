"""Helpers of the job tests: enrolling the sandbox's users through the API, computing what a wrap must hold
from the sandbox's catalogue (independently of the Swift code), and snapshots of the database and of the
sandbox's playlists for comparing runs."""

import json
import os
import signal
import subprocess
import time

from api_client import Api
from genre_scores import score_genres
from xomify_rig import bin_dir, wait_until

# Fixed so that two rigs in one test generate the same catalogue.
SANDBOX_NOW = "2026-11-27T12:00:00Z"
FAST = {"XOMIFY_SPOTIFY_MAX_RPS": "200", "XOMIFY_SPOTIFY_CONCURRENCY": "16", "XOMIFY_JOB_PARALLELISM": "4"}
RANGES = ("short_term", "medium_term", "long_term")


def sandbox_users(rig):
    return rig.sandbox.get("/_sandbox/users")["users"]


def enrol(rig, wrapped=True, release_radar=False, only=None):
    """Enrols the sandbox's users (or `only` those emails) with their refresh tokens, through the API."""
    users = [u for u in sandbox_users(rig) if only is None or u["email"] in only]
    for user in users:
        api = Api(rig.https_port, token=rig.token(user["email"], user["id"]))
        response = api.post("/user/update", {"userId": user["id"], "refreshToken": user["refreshToken"],
                                             "wrappedEnrolled": wrapped, "releaseRadarEnrolled": release_radar})
        assert response.status == 200, response
    return users


def expected_genres(catalogue, artist_ids):
    """The genre scores of a top-artist list, from the catalogue's genres (absent ones count as none)."""
    by_id = {a["id"]: a for a in catalogue["artists"]}
    return score_genres([by_id[artist_id].get("genres") or [] for artist_id in artist_ids])


def expected_wrap(catalogue, user_id, limit=25):
    top = catalogue["top"][user_id]
    return {
        "topSongIds": {r: top["tracks"][r][:limit] for r in RANGES},
        "topArtistIds": {r: top["artists"][r][:limit] for r in RANGES},
        "topGenres": {r: expected_genres(catalogue, top["artists"][r][:limit]) for r in RANGES},
    }


def run_job(rig, *args, **settings):
    merged = dict(FAST)
    merged.update(settings)
    return rig.run_job("xomify-wrapped", *args, **merged)


def start_job(rig, *args, **settings):
    merged = dict(FAST)
    merged.update(settings)
    return subprocess.Popen([os.path.join(bin_dir(), "xomify-wrapped")] + list(args), env=rig.settings(**merged),
                            stdout=rig.job_log(), stderr=subprocess.STDOUT, text=True)


def kill_when(process, predicate, timeout=60):
    """SIGKILLs `process` as soon as `predicate()` holds."""
    wait_until(lambda: predicate() or process.poll() is not None, timeout, interval=0.005, what="the kill point")
    if process.poll() is None:
        os.kill(process.pid, signal.SIGKILL)
    process.wait(30)


def playlists(rig):
    """The sandbox's playlists that exist (the catalogue starts with one deleted playlist, a hard case)."""
    return [p for p in rig.sandbox.get("/_sandbox/playlists")["playlists"] if not p["deleted"]]


def database_snapshot(rig):
    """The job's results without ids and times: wraps, playlists per wrap, item states."""
    wraps = rig.postgres.rows("""
        SELECT email, month_key, array_to_json(short_term_track_ids), array_to_json(medium_term_track_ids),
               array_to_json(long_term_track_ids), array_to_json(short_term_artist_ids),
               array_to_json(medium_term_artist_ids), array_to_json(long_term_artist_ids), genre_scores::text,
               playlist_id IS NOT NULL, first_half_playlist_id IS NOT NULL, year_playlist_id IS NOT NULL
        FROM wrapped_months ORDER BY email, month_key""")
    items = rig.postgres.rows("SELECT email, period_key, status, last_error FROM job_items ORDER BY email")
    users = rig.postgres.rows("SELECT email, token_state FROM users ORDER BY email")
    return {"wraps": wraps, "items": items, "users": users}


def sandbox_snapshot(rig):
    """Every playlist by owner and name: (description, public, cover size, uris); duplicates show as lists."""
    result = {}
    for p in playlists(rig):
        if p["deleted"]:
            continue
        result.setdefault((p["ownerId"], p["name"]), []).append((p["description"], p["public"], p["coverBytes"], p["uris"]))
    return result


def table_fingerprint(rig):
    """Row counts and the newest revision of every table a run could write: equal before and after means
    nothing was written."""
    counts = rig.postgres.psql("""
        SELECT string_agg(format('%s=%s', table_name, n), ' ' ORDER BY table_name) FROM (
          SELECT 'users' AS table_name, count(*) AS n FROM users UNION ALL
          SELECT 'wrapped_months', count(*) FROM wrapped_months UNION ALL
          SELECT 'job_runs', count(*) FROM job_runs UNION ALL
          SELECT 'job_items', count(*) FROM job_items UNION ALL
          SELECT 'spotify_request_budget', count(*) FROM spotify_request_budget) t""").strip()
    revision = rig.postgres.psql("SELECT max(revision) || '/' || max(wraps_revision) || '/' || max(updated_at) FROM users").strip()
    return counts + " " + revision

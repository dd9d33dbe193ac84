"""What the database keeps true by itself (sql/0007) and what the store does when PostgreSQL drops a link:
revisions moved by triggers whatever statement changes the data (so ETags change exactly when an answer
would), CHECKs that refuse impossible rows, views without an order of their own, and a command repeated on a
fresh link only when that cannot apply it twice."""

import datetime
import re
import subprocess

import pytest

from api_helpers import (enrol, get_ok, insert_week, insert_wrap, make_release, strong_etag, unique_email, user_api,
                         utc_today, week_start)


def user_row(rig, email, columns):
    return rig.postgres.rows(f"SELECT {columns} FROM users WHERE email = '{email}'")[0]


@pytest.fixture
def me(rig):
    api = user_api(rig, unique_email("inv"))
    enrol(api, wrappedEnrolled=True, releaseRadarEnrolled=True)
    return api


# -- revisions by triggers ---------------------------------------------------------------------------

def test_writing_a_week_changes_the_history_etag(rig, me):
    """Nothing bumped weeks_revision before sql/0007: a week written by any statement now moves the ETag."""
    first = get_ok(me, "/release-radar/history")
    tag = strong_etag(first)
    assert first.json()["weeks"] == []
    saturday = week_start(utc_today()) - datetime.timedelta(days=7)
    insert_week(rig, me.email, saturday, releases=[make_release(1)])
    second = get_ok(me, "/release-radar/history", headers={"If-None-Match": tag})
    assert second.status == 200 and second.json()["count"] == 1
    assert strong_etag(second) != tag
    # Rewriting the row with other releases moves it again; touching nothing the answer shows does not.
    tag = strong_etag(second)
    rig.postgres.psql(f"UPDATE release_radar_weeks SET releases = '[]' WHERE email = '{me.email}'")
    third = get_ok(me, "/release-radar/history")
    assert strong_etag(third) != tag and third.json()["weeks"][0]["releases"] == []
    tag = strong_etag(third)
    rig.postgres.psql(f"UPDATE release_radar_weeks SET releases = releases WHERE email = '{me.email}'")
    assert me.get("/release-radar/history", headers={"If-None-Match": tag}).status == 304
    # Deleting it moves it too.
    rig.postgres.psql(f"DELETE FROM release_radar_weeks WHERE email = '{me.email}'")
    assert me.get("/release-radar/history", headers={"If-None-Match": tag}).status == 200


def test_a_wraps_etag_moves_exactly_when_its_json_changes(rig, me):
    insert_wrap(rig, me.email, "2026-03", playlist_id="pl1", created_epoch=1_772_000_000)
    month = get_ok(me, "/wrapped/month?monthKey=2026-03")
    all_wraps = get_ok(me, "/wrapped/data")
    # The same wrap written again: the rows are rewritten, the answers are the same, so are the ETags.
    insert_wrap(rig, me.email, "2026-03", playlist_id="pl1", created_epoch=1_772_000_000)
    assert me.get("/wrapped/month?monthKey=2026-03", headers={"If-None-Match": strong_etag(month)}).status == 304
    assert me.get("/wrapped/data", headers={"If-None-Match": strong_etag(all_wraps)}).status == 304
    # Another playlist id is another answer.
    insert_wrap(rig, me.email, "2026-03", playlist_id="pl2", created_epoch=1_772_000_000)
    changed = me.get("/wrapped/month?monthKey=2026-03", headers={"If-None-Match": strong_etag(month)})
    assert changed.status == 200 and changed.json()["playlistId"] == "pl2"
    assert me.get("/wrapped/data", headers={"If-None-Match": strong_etag(all_wraps)}).status == 200


def test_any_change_the_user_object_shows_moves_its_etag_and_updated_at(rig, me):
    # An hour back first, so that "now" cannot fall in the same second as the last update.
    rig.postgres.psql(f"UPDATE users SET updated_at = updated_at - interval '1 hour' WHERE email = '{me.email}'")
    response = get_ok(me, "/user/data")
    tag, updated = strong_etag(response), response.json()["updatedAt"]
    # A token rotated by a job: no column of the user object, but updated_at moves, and so the ETag.
    rig.postgres.psql(f"UPDATE users SET refresh_token_ciphertext = '\\x01' || decode(repeat('ab', 40), 'hex') "
                      f"WHERE email = '{me.email}'")
    after = get_ok(me, "/user/data", headers={"If-None-Match": tag})
    assert after.status == 200 and after.json()["updatedAt"] != updated
    tag = strong_etag(after)
    # The revisions of the user's wraps and weeks are not the user object: its ETag stays.
    revision = user_row(rig, me.email, "revision")
    rig.postgres.psql(f"UPDATE users SET wraps_revision = nextval('revisions'), weeks_revision = nextval('revisions') "
                      f"WHERE email = '{me.email}'")
    assert user_row(rig, me.email, "revision") == revision
    assert me.get("/user/data", headers={"If-None-Match": tag}).status == 304


# -- CHECKs --------------------------------------------------------------------------------------------

def refused(rig, sql):
    with pytest.raises(subprocess.CalledProcessError) as raised:
        rig.postgres.psql(sql)
    return raised.value.stderr


def test_impossible_rows_are_refused(rig, me):
    saturday = week_start(utc_today())
    # A week key that is not the ISO week of its Saturday.
    assert "week_key_is_the_saturdays_iso_week" in refused(rig, f"""
        INSERT INTO release_radar_weeks (email, week_key, start_date, end_date)
        VALUES ('{me.email}', '2020-01', '{saturday}', '{saturday + datetime.timedelta(days=6)}')""")
    # A NULL inside an id array.
    insert_wrap(rig, me.email, "2026-04")
    assert "id_arrays_without_null" in refused(rig, f"""
        UPDATE wrapped_months SET short_term_track_ids = ARRAY['a', NULL] WHERE email = '{me.email}'""")
    # A week as the wrapped job's period, a month as the release radar's, a month that does not exist.
    for job, period in (("wrapped", "2026-48"), ("release_radar", "2026-00"), ("wrapped", "2026-13")):
        assert "period_matches_job" in refused(rig, f"""
            INSERT INTO job_runs (job, period_key, host, pid, process_start) VALUES ('{job}', '{period}', 'h', 1, 1)""")
    rig.postgres.psql("""INSERT INTO job_runs (job, period_key, host, pid, process_start, status, finished_at)
                         VALUES ('release_radar', '2026-48', 'h', 1, 1, 'crashed', now())""")


def test_views_have_no_order_of_their_own(rig):
    names = rig.postgres.rows("SELECT viewname FROM pg_views WHERE schemaname = 'reporting'")
    assert {n[0] for n in names} >= {"enrollment", "monthly_top_genres", "monthly_top_artists", "monthly_top_tracks",
                                     "weekly_release_radar", "job_history", "job_problems", "monthly_top_items"}
    for (name,) in names:
        definition = rig.postgres.psql(f"SELECT pg_get_viewdef('reporting.{name}'::regclass, true)")
        # Window functions and aggregates order inside their parentheses; the view itself must not.
        depth, outer = 0, ""
        for character in definition:
            depth += character == "("
            depth -= character == ")"
            outer += character if depth == 0 else ""
        assert not re.search(r"\bORDER\s+BY\b", outer, re.IGNORECASE), (name, definition)


# -- a broken link ---------------------------------------------------------------------------------------

def terminate_pool_backends(rig):
    """Ends every pool thread's PostgreSQL session, as a restart or an administrator would, while idle, and waits
    (up to 5 s each) until each backend has said so and gone: a request racing the termination itself could send
    its command into the closing session, which is the outcome-unknown case, not this one."""
    return int(rig.postgres.psql("""SELECT count(pg_terminate_backend(pid, 5000)) FROM pg_stat_activity
                                    WHERE application_name = 'xomify-api'""").strip())


def test_idle_links_killed_by_the_server_cost_no_request(rig, me):
    """A terminated backend says so before closing; the store sees it before sending (the command is 'not
    sent'), reconnects and runs it: no 503 for reads nor for writes."""
    get_ok(me, "/user/data")
    workers_threads = rig.workers * rig.threads
    for _ in range(2):
        assert terminate_pool_backends(rig) >= 1
        for index in range(workers_threads * 3):
            read = me.get("/wrapped/data")
            assert read.status == 200, read
            write = me.post("/user/update", {"wrappedEnrolled": index % 2 == 0})
            assert write.status == 200, write

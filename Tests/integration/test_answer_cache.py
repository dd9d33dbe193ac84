"""The workers' cache of rendered GET /wrapped/data answers (XOMIFY_ANSWER_CACHE_KB) is exact and bounded, against
the real pool, nginx and PostgreSQL: a kept answer is served only when PostgreSQL confirms its revision in the
request's own round trip, so any write (psql, the API through another worker, a TRUNCATE) shows in the very next
request with a new ETag, and the cache never holds more than its bytes. The cache's counters come from /status
(`answerCache`: the worker that served the page; one worker here, so they are the counters that matter)."""

import json
import os

from api_client import Api
from api_helpers import enrol, get_ok, insert_wrap, strong_etag, unique_email, user_api


def cache_counters(rig):
    return Api(rig.https_port).get("/status").json()["answerCache"]


def wraps_of(response):
    return [(w["monthKey"], w["playlistId"]) for w in response.json()["wraps"]]


def test_a_kept_answer_is_served_only_while_postgresql_confirms_it(make_rig):
    rig = make_rig(sandbox=False, workers=1, threads=2)
    me = user_api(rig, unique_email("cache"))
    enrol(me)
    insert_wrap(rig, me.email, "2025-01", playlist_id="p1")
    first = get_ok(me, "/wrapped/data")
    before = cache_counters(rig)
    again = get_ok(me, "/wrapped/data")
    after = cache_counters(rig)
    assert again.body == first.body and strong_etag(again) == strong_etag(first)
    assert after["hits"] == before["hits"] + 1 and after["entries"] >= 1

    # A new wrap written with psql: the very next request shows it, with a new tag, and reads the wraps again.
    insert_wrap(rig, me.email, "2025-02", playlist_id="p2")
    changed = get_ok(me, "/wrapped/data")
    assert wraps_of(changed) == [("2025-02", "p2"), ("2025-01", "p1")]
    assert strong_etag(changed) != strong_etag(first)
    assert cache_counters(rig)["misses"] == after["misses"] + 1

    # A wrap rewritten in place, then one deleted, then the user's wraps moved by hand: each shows at once.
    insert_wrap(rig, me.email, "2025-01", playlist_id="p1-rewritten")
    assert wraps_of(get_ok(me, "/wrapped/data")) == [("2025-02", "p2"), ("2025-01", "p1-rewritten")]
    rig.postgres.psql(f"DELETE FROM wrapped_months WHERE email = '{me.email}' AND month_key = '2025-02'")
    assert wraps_of(get_ok(me, "/wrapped/data")) == [("2025-01", "p1-rewritten")]
    rig.postgres.psql(f"UPDATE wrapped_months SET api_json = replace(api_json, 'p1-rewritten', 'by-hand') "
                      f"WHERE email = '{me.email}'")
    assert wraps_of(get_ok(me, "/wrapped/data")) == [("2025-01", "by-hand")]

    # The flags alone: same wraps revision, a new head before the kept wraps, a new tag.
    tag = strong_etag(get_ok(me, "/wrapped/data"))
    assert me.post("/user/update", {"releaseRadarEnrolled": True}).status == 200
    flagged = get_ok(me, "/wrapped/data")
    assert flagged.json()["activeReleaseRadar"] is True and wraps_of(flagged) == [("2025-01", "by-hand")]
    assert strong_etag(flagged) != tag
    rig.postgres.psql(f"UPDATE users SET active_release_radar = false WHERE email = '{me.email}'")
    assert get_ok(me, "/wrapped/data").json()["activeReleaseRadar"] is False

    # A TRUNCATE fires no row trigger; sql/0010 moves every wraps revision instead.
    kept = get_ok(me, "/wrapped/data")
    rig.postgres.psql("TRUNCATE wrapped_months")
    emptied = get_ok(me, "/wrapped/data")
    assert emptied.json()["wraps"] == [] and strong_etag(emptied) != strong_etag(kept)

    # A deleted user is an unknown user at once; created again, their new wraps show.
    insert_wrap(rig, me.email, "2025-03")
    get_ok(me, "/wrapped/data")
    rig.postgres.psql(f"DELETE FROM users WHERE email = '{me.email}'")
    assert get_ok(me, "/wrapped/data").json() == {"active": False, "activeWrapped": False,
                                                  "activeReleaseRadar": False, "wraps": []}
    enrol(me)
    insert_wrap(rig, me.email, "2025-04", playlist_id="reborn")
    assert wraps_of(get_ok(me, "/wrapped/data")) == [("2025-04", "reborn")]


def test_a_write_through_one_worker_shows_on_every_worker(make_rig):
    """Each worker keeps its own answers: after a write served by whichever worker, every worker's next answer
    shows it (many requests, so that both workers answer and both have the old answer kept)."""
    rig = make_rig(sandbox=False, workers=2, threads=2)
    me = user_api(rig, unique_email("workers"))
    enrol(me, wrappedEnrolled=False)
    insert_wrap(rig, me.email, "2025-05", playlist_id="old")
    readers = [user_api(rig, me.email) for _ in range(6)]
    for _ in range(5):
        for reader in readers:
            assert get_ok(reader, "/wrapped/data").json()["activeWrapped"] is False
    assert me.post("/wrapped/data", {"refreshToken": "AQ" + "x" * 70, "active": True}).status == 200
    insert_wrap(rig, me.email, "2025-06", playlist_id="new")
    for _ in range(5):
        for reader in readers:
            body = get_ok(reader, "/wrapped/data").json()
            assert body["activeWrapped"] is True
            assert [w["monthKey"] for w in body["wraps"]] == ["2025-06", "2025-05"]


def seed_users(rig, count, wraps_each, prefix):
    """`count` users with `wraps_each` wraps of about 1 KB each, in one statement; returns their emails and the
    api_json each wrap was given."""
    emails = [unique_email(f"{prefix}{i}") for i in range(count)]
    rig.postgres.psql("""
        INSERT INTO users (email, active, active_wrapped) SELECT unnest(ARRAY[%s]), true, true;
        INSERT INTO wrapped_months (email, month_key, short_term_track_ids, medium_term_track_ids,
            long_term_track_ids, short_term_artist_ids, medium_term_artist_ids, long_term_artist_ids, genre_scores,
            api_json)
        SELECT u, to_char(date '2020-01-01' + make_interval(months => m), 'YYYY-MM'), '{t}', '{t}', '{t}', '{a}',
            '{a}', '{a}', '{"short_term": [], "medium_term": [], "long_term": []}',
            json_build_object('email', u, 'monthKey', to_char(date '2020-01-01' + make_interval(months => m), 'YYYY-MM'),
                              'pad', repeat('x', 1000))::text
        FROM unnest(ARRAY[%s]) AS u, generate_series(0, %d) AS m;
        """ % (",".join(f"'{e}'" for e in emails), ",".join(f"'{e}'" for e in emails), wraps_each - 1))
    return emails


def test_the_cache_holds_at_most_its_bytes_and_drops_the_least_recently_used(make_rig):
    rig = make_rig(sandbox=False, workers=1, threads=1, settings={"XOMIFY_ANSWER_CACHE_KB": "64"})
    assert cache_counters(rig)["maxBytes"] == 64 * 1024
    emails = seed_users(rig, 40, 3, "bound")          # answers of about 3.2 KB
    answers = {}
    for email in emails:
        response = get_ok(user_api(rig, email), "/wrapped/data")
        answers[email] = response.body
        assert [w["monthKey"] for w in response.json()["wraps"]] == ["2020-03", "2020-02", "2020-01"]
        counters = cache_counters(rig)
        assert counters["bytes"] <= 64 * 1024
    counters = cache_counters(rig)
    assert counters["evictions"] > 0 and 10 <= counters["entries"] < 40, counters
    # The most recent is kept (a hit, the same bytes), the first was dropped (a miss, the same bytes again).
    newest = get_ok(user_api(rig, emails[-1]), "/wrapped/data")
    assert newest.body == answers[emails[-1]] and cache_counters(rig)["hits"] == counters["hits"] + 1
    oldest = get_ok(user_api(rig, emails[0]), "/wrapped/data")
    assert oldest.body == answers[emails[0]] and cache_counters(rig)["misses"] == counters["misses"] + 1

    # An answer over an eighth of the bound (8 KB) is served but not kept: it would push out many others.
    [big] = seed_users(rig, 1, 12, "big")
    before = cache_counters(rig)
    for _ in range(2):
        assert len(get_ok(user_api(rig, big), "/wrapped/data").json()["wraps"]) == 12
    after = cache_counters(rig)
    assert after["misses"] == before["misses"] + 2 and after["hits"] == before["hits"]
    assert after["bytes"] <= 64 * 1024


def test_no_cache_when_it_is_switched_off(make_rig):
    rig = make_rig(sandbox=False, workers=1, threads=1, settings={"XOMIFY_ANSWER_CACHE_KB": "0"})
    me = user_api(rig, unique_email("nocache"))
    enrol(me)
    insert_wrap(rig, me.email, "2025-01", playlist_id="a")
    assert wraps_of(get_ok(me, "/wrapped/data")) == [("2025-01", "a")]
    insert_wrap(rig, me.email, "2025-01", playlist_id="b")
    assert wraps_of(get_ok(me, "/wrapped/data")) == [("2025-01", "b")]
    counters = cache_counters(rig)
    assert (counters["maxBytes"], counters["entries"], counters["hits"], counters["misses"]) == (0, 0, 0, 0)
    assert json.loads(get_ok(me, "/wrapped/data").body)["wraps"][0]["playlistId"] == "b"


# -- the answer files: one directory shared by the workers of the host -----------------------------------------

def files_counters(rig):
    return Api(rig.https_port).get("/status").json()["answerFiles"]


def answer_files(rig):
    directory = os.path.join(rig.directory, "answers")
    return sorted(name for name in os.listdir(directory) if name.startswith("answer-"))


def test_answer_files_are_confirmed_like_kept_answers(make_rig):
    """With no answers kept in memory, every repeat is served from the files, and only while PostgreSQL confirms
    the revision; a write shows in the very next request."""
    rig = make_rig(sandbox=False, workers=1, threads=2, settings={"XOMIFY_ANSWER_CACHE_KB": "0"})
    me = user_api(rig, unique_email("files"))
    enrol(me)
    insert_wrap(rig, me.email, "2025-01", playlist_id="f1")
    first = get_ok(me, "/wrapped/data")
    assert len(answer_files(rig)) == 1
    before = files_counters(rig)
    again = get_ok(me, "/wrapped/data")
    after = files_counters(rig)
    assert again.body == first.body and strong_etag(again) == strong_etag(first)
    assert after["hits"] == before["hits"] + 1 and after["writes"] == before["writes"]
    insert_wrap(rig, me.email, "2025-02", playlist_id="f2")
    changed = get_ok(me, "/wrapped/data")
    assert wraps_of(changed) == [("2025-02", "f2"), ("2025-01", "f1")] and strong_etag(changed) != strong_etag(first)
    counters = files_counters(rig)
    assert counters["misses"] == after["misses"] + 1 and counters["writes"] == after["writes"] + 1
    assert get_ok(me, "/wrapped/data").body == changed.body
    assert files_counters(rig)["hits"] == counters["hits"] + 1
    # Flags alone: the same wraps under a new head.
    rig.postgres.psql(f"UPDATE users SET active_release_radar = NOT active_release_radar WHERE email = '{me.email}'")
    flipped = get_ok(me, "/wrapped/data")
    assert flipped.json()["activeReleaseRadar"] != changed.json()["activeReleaseRadar"]
    assert wraps_of(flipped) == wraps_of(changed)


def test_a_file_of_another_user_or_a_damaged_file_is_never_served(make_rig):
    """Another user's file under this user's name (as when two emails hash alike), and damaged or cut files, are
    ignored and replaced. (A file is otherwise trusted as the pool wrote it: the directory is the pool's own, 0700,
    its files 0600.)"""
    rig = make_rig(sandbox=False, workers=1, threads=1, settings={"XOMIFY_ANSWER_CACHE_KB": "0"})
    users = [user_api(rig, unique_email(f"hash{i}")) for i in range(2)]
    for index, user in enumerate(users):
        enrol(user)
        insert_wrap(rig, user.email, "2025-03", playlist_id=f"u{index}")
        assert wraps_of(get_ok(user, "/wrapped/data")) == [("2025-03", f"u{index}")]
    names = answer_files(rig)
    assert len(names) == 2
    directory = os.path.join(rig.directory, "answers")
    files = {name: open(os.path.join(directory, name), "rb").read() for name in names}
    theirs = next(name for name, data in files.items() if users[0].email.encode() in data)
    mine = next(name for name in names if name != theirs)
    good = files[mine]
    for damaged in (b"", b"garbage", good[:-3], good[3:], files[theirs]):
        with open(os.path.join(directory, mine), "wb") as f:
            f.write(damaged)
        assert wraps_of(get_ok(users[1], "/wrapped/data")) == [("2025-03", "u1")], damaged[:40]
        assert open(os.path.join(directory, mine), "rb").read() == good
    assert os.stat(directory).st_mode & 0o777 == 0o700
    assert os.stat(os.path.join(directory, mine)).st_mode & 0o777 == 0o600


def test_the_answer_files_stay_about_their_limit(make_rig):
    """Past XOMIFY_ANSWER_FILES the least recently written files are removed; every answer stays right."""
    rig = make_rig(sandbox=False, workers=1, threads=1,
                   settings={"XOMIFY_ANSWER_CACHE_KB": "0", "XOMIFY_ANSWER_FILES": "10"})
    emails = seed_users(rig, 30, 2, "limit")
    for round_ in range(2):
        for email in emails:
            response = get_ok(user_api(rig, email), "/wrapped/data")
            assert [w["email"] for w in response.json()["wraps"]] == [email, email]
            assert len(answer_files(rig)) <= 10
    counters = files_counters(rig)
    assert counters["prunes"] > 0 and counters["failedWrites"] == 0
    # The newest are the ones kept: the last user's answer is a hit.
    before = files_counters(rig)["hits"]
    get_ok(user_api(rig, emails[-1]), "/wrapped/data")
    assert files_counters(rig)["hits"] == before + 1


def test_the_pool_empties_the_answer_files_when_it_starts(make_rig):
    rig = make_rig(sandbox=False, workers=1, threads=1)
    me = user_api(rig, unique_email("restart"))
    enrol(me)
    insert_wrap(rig, me.email, "2025-04")
    get_ok(me, "/wrapped/data")
    assert len(answer_files(rig)) == 1
    open(os.path.join(rig.directory, "answers", "tmp-1-1"), "w").close()
    open(os.path.join(rig.directory, "answers", "unrelated"), "w").close()
    rig.stop_pool()
    rig.start_pool()
    assert answer_files(rig) == [] and not os.path.exists(os.path.join(rig.directory, "answers", "tmp-1-1"))
    # Only what the pool writes is removed.
    assert os.path.exists(os.path.join(rig.directory, "answers", "unrelated"))
    assert wraps_of(get_ok(me, "/wrapped/data")) == [("2025-04", None)]

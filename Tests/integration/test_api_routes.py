"""Every route of SPEC §5.3 and each alias answering what it should, through nginx against the real pool and
PostgreSQL: shapes, orders, partial updates, ETags and 304s, timestamps and the week model. Wraps and weeks are
written with psql exactly as the stores write them (no job writes them yet in this suite)."""

import datetime
import json
import time

import pytest

from api_client import Api
from api_helpers import (TIMESTAMP, TIME_RANGES, assert_common_headers, assert_error, assert_not_modified, enrol, get_ok,
                         insert_week, insert_wrap, make_release, new_refresh_token, ordered, strong_etag, unique_email,
                         user_api, utc_today, week_display, week_key, week_start)

USER_KEYS = ["email", "userId", "displayName", "avatar", "active", "activeWrapped", "activeReleaseRadar",
             "releaseRadarId", "tokenStatus", "createdAt", "updatedAt"]
WRAP_KEYS = ["email", "monthKey", "topSongIds", "topArtistIds", "topGenres", "playlistId", "createdAt"]
WEEK_KEYS = ["weekKey", "weekDisplay", "startDate", "endDate", "releases", "stats", "playlistId", "createdAt"]


@pytest.fixture
def me(rig):
    """A caller whose user exists (enrolled through the API)."""
    api = user_api(rig, unique_email("routes"))
    api.user = enrol(api, displayName="Me", avatar="https://i.example/me.png")
    return api


def post_ok(api, path, body):
    """A write the test builds on: it must succeed, or what follows would check the state before it."""
    response = api.post(path, body)
    assert response.status == 200, (path, body, response)
    return response


def user_in_db(rig, email):
    row = rig.postgres.rows(f"""
        SELECT spotify_user_id, coalesce(display_name, '<null>'), coalesce(avatar_url, '<null>'), active,
               active_wrapped, active_release_radar, coalesce(release_radar_playlist_id, '<null>'), token_state,
               encode(refresh_token_ciphertext, 'hex'),
               to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS'),
               to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS')
        FROM users WHERE email = '{email}'""")[0]
    keys = ["userId", "displayName", "avatar", "active", "activeWrapped", "activeReleaseRadar", "releaseRadarId",
            "tokenStatus", "ciphertext", "createdAt", "updatedAt"]
    return dict(zip(keys, row))


# -- /wrapped ---------------------------------------------------------------------------------------

def test_wrapped_data_of_an_unknown_user_is_three_false_flags_and_no_wraps(rig):
    email = unique_email("nobody")
    api = user_api(rig, email)
    for path in ["/wrapped/data", "/wrapped/all", f"/wrapped/data?email={email}"]:
        response = get_ok(api, path)
        assert response.json() == {"active": False, "activeWrapped": False, "activeReleaseRadar": False, "wraps": []}
        assert [key for key, _ in ordered(response.body)] == ["active", "activeWrapped", "activeReleaseRadar", "wraps"]
    admin = user_api(rig, "admin@xomify.test")
    assert get_ok(admin, f"/wrapped/all?email={unique_email('nobody')}").json()["wraps"] == []
    assert rig.postgres.psql(f"SELECT count(*) FROM users WHERE email = '{email}'").strip() == "0"


def test_wrapped_data_and_all_list_wraps_newest_first(rig, me):
    months = ["2024-12", "2025-03", "2023-07", "2025-01", "2025-11"]
    wraps = {m: insert_wrap(rig, me.email, m, playlist_id=f"pl{m}") for m in months}
    expected = [wraps[m] for m in sorted(months, reverse=True)]
    data = get_ok(me, "/wrapped/data")
    alias = get_ok(me, "/wrapped/all")
    assert data.body == alias.body and data.header("etag") == alias.header("etag")
    body = data.json()
    assert body["wraps"] == expected
    assert (body["active"], body["activeWrapped"], body["activeReleaseRadar"]) == (True, False, False)
    for wrap in body["wraps"]:
        assert [key for key, _ in ordered(json.dumps(wrap))] == WRAP_KEYS
        assert TIMESTAMP.match(wrap["createdAt"])


def test_wrap_shape_id_order_and_genre_order(rig, me):
    songs = {"short_term": ["s3", "s1", "s2"], "medium_term": ["m9"], "long_term": []}
    artists = {"short_term": ["a2", "a1"], "medium_term": [], "long_term": ["l1", "l2", "l3"]}
    # Descending scores, ties in first-seen order; jsonb would sort these keys by length, then bytes.
    genres = {"short_term": [("zzz indie", 50), ("a", 40), ("hip hop", 40), ("bb", 7), ("c", 1)],
              "medium_term": [], "long_term": [("rock", 3)]}
    created = int(datetime.datetime(2025, 10, 1, 0, 3, 12, tzinfo=datetime.timezone.utc).timestamp())
    insert_wrap(rig, me.email, "2025-09", songs, artists, genres, playlist_id=None, created_epoch=created)
    response = get_ok(me, "/wrapped/month?monthKey=2025-09")
    wrap = ordered(response.body)
    assert [key for key, _ in wrap] == WRAP_KEYS
    wrap = dict(wrap)
    assert wrap["email"] == me.email and wrap["monthKey"] == "2025-09"
    assert wrap["topSongIds"] == [(r, songs[r]) for r in TIME_RANGES]
    assert wrap["topArtistIds"] == [(r, artists[r]) for r in TIME_RANGES]
    assert wrap["topGenres"] == [(r, genres[r]) for r in TIME_RANGES]
    short = [score for _, score in dict(wrap["topGenres"])["short_term"]]
    assert short == sorted(short, reverse=True)
    assert all(isinstance(score, int) for score in short)
    assert wrap["playlistId"] is None
    assert wrap["createdAt"] == "2025-10-01 00:03:12"


def test_wrapped_month(rig, me):
    wrap = insert_wrap(rig, me.email, "2025-02", playlist_id="feb-playlist")
    insert_wrap(rig, me.email, "2025-03")
    response = get_ok(me, "/wrapped/month?monthKey=2025-02")
    assert response.json() == wrap
    assert get_ok(me, f"/wrapped/month?monthKey=2025-02&email={me.email.upper()}").json() == wrap
    assert_error(me.get("/wrapped/month?monthKey=2025-04"), 404, "not_found", handler="wrapped")
    assert_error(user_api(rig, unique_email("nowraps")).get("/wrapped/month?monthKey=2025-02"), 404, "not_found")


def test_wrapped_year(rig, me):
    wraps = {m: insert_wrap(rig, me.email, m) for m in ["2024-06", "2024-12", "2024-01", "2025-01", "2023-12"]}
    response = get_ok(me, "/wrapped/year?year=2024")
    assert response.json() == [wraps["2024-12"], wraps["2024-06"], wraps["2024-01"]]
    assert get_ok(me, "/wrapped/year?year=2025").json() == [wraps["2025-01"]]
    assert get_ok(me, "/wrapped/year?year=2022").json() == []
    assert get_ok(user_api(rig, unique_email("noyear")), "/wrapped/year?year=2024").json() == []


@pytest.mark.parametrize("path", ["/wrapped/data", "/wrapped/update"])
def test_wrapped_opt_in_creates_then_updates_the_user(rig, path):
    email = unique_email("optin")
    api = user_api(rig, email)
    response = api.post(path, {"refreshToken": new_refresh_token(), "active": True})
    assert response.status == 200, response
    assert_common_headers(response)
    assert response.body == b'"User Opted into Monthly Wrapped Success."'
    user = get_ok(api, "/user/data").json()
    assert (user["userId"], user["active"], user["activeWrapped"], user["activeReleaseRadar"]) == \
        (api.user_id, True, True, False)
    assert user["tokenStatus"] == "ok" and user["releaseRadarId"] is None
    # Opting out keeps the account active; the optional releaseRadarId and userId are stored when sent.
    response = api.post(path, {"refreshToken": new_refresh_token(), "active": False, "releaseRadarId": "rr-1",
                               "email": email, "userId": api.user_id})
    assert response.status == 200, response
    user = get_ok(api, "/user/data").json()
    assert (user["active"], user["activeWrapped"], user["releaseRadarId"]) == (True, False, "rr-1")


def test_wrapped_opt_in_conflicts_on_a_spotify_id_of_another_user(rig, me):
    other = user_api(rig, unique_email("thief"), user_id=me.user_id)
    assert_error(other.post("/wrapped/data", {"refreshToken": new_refresh_token(), "active": True}), 409, "conflict")
    assert_error(other.post("/user/update", {"refreshToken": new_refresh_token()}), 409, "conflict")
    assert_error(other.get("/user/data"), 404, "not_found")


# -- /user ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/user/user-table", "/user/data"])
def test_user_get(rig, me, path):
    response = get_ok(me, path)
    user = ordered(response.body)
    assert [key for key, _ in user] == USER_KEYS
    user = dict(user)
    assert user == {**me.user, "updatedAt": user["updatedAt"]}
    db = user_in_db(rig, me.email)
    assert (user["createdAt"], user["updatedAt"]) == (db["createdAt"], db["updatedAt"])
    assert TIMESTAMP.match(user["createdAt"]) and TIMESTAMP.match(user["updatedAt"])
    assert user["userId"] == me.user_id and user["displayName"] == "Me"
    assert user["avatar"] == "https://i.example/me.png"
    assert isinstance(user["active"], bool) and user["tokenStatus"] == "ok"
    assert_error(user_api(rig, unique_email("ghost")).get(path), 404, "not_found", handler="user")


@pytest.mark.parametrize("path", ["/user/user-table", "/user/update"])
def test_user_update_token_group_creates_and_answers_the_user(rig, path):
    email = unique_email("create")
    api = user_api(rig, email)
    # Newer clients send these three alone.
    response = api.post(path, {"displayName": "New", "refreshToken": new_refresh_token(), "avatar": "https://a/b.png"})
    assert response.status == 200, response
    assert_common_headers(response)
    user = response.json()
    assert list(user) == USER_KEYS
    assert user["email"] == email and user["userId"] == api.user_id
    assert (user["displayName"], user["avatar"]) == ("New", "https://a/b.png")
    assert (user["active"], user["activeWrapped"], user["activeReleaseRadar"]) == (True, False, False)
    assert user["tokenStatus"] == "ok"
    assert get_ok(api, "/user/data").json() == user
    # Enrolment and token fields together, in one request.
    response = api.post(path, {"refreshToken": new_refresh_token(), "userId": api.user_id, "wrappedEnrolled": True,
                               "releaseRadarEnrolled": True})
    assert (response.json()["activeWrapped"], response.json()["activeReleaseRadar"]) == (True, True)


@pytest.mark.parametrize("path", ["/user/user-table", "/user/update"])
def test_enrolment_flags_alone_need_an_existing_user(rig, path):
    api = user_api(rig, unique_email("stranger"))
    assert_error(api.post(path, {"wrappedEnrolled": True}), 404, "not_found", handler="user")
    assert_error(api.post(path, {"activeReleaseRadar": True}), 404, "not_found")
    assert rig.postgres.psql(f"SELECT count(*) FROM users WHERE email = '{api.email}'").strip() == "0"


def test_enrolling_one_flag_leaves_the_other_as_it_was(me):
    def flags(body):
        response = me.post("/user/update", body)
        assert response.status == 200, (body, response)
        return response.json()["activeWrapped"], response.json()["activeReleaseRadar"]

    assert flags({"wrappedEnrolled": True}) == (True, False)
    assert flags({"releaseRadarEnrolled": True}) == (True, True)
    assert flags({"wrappedEnrolled": False}) == (False, True)
    assert flags({"releaseRadarEnrolled": False}) == (False, False)
    # The old iOS names are the same flags.
    assert flags({"activeWrapped": True}) == (True, False)
    assert flags({"activeReleaseRadar": True}) == (True, True)
    assert flags({"activeWrapped": False}) == (False, True)
    assert flags({"activeReleaseRadar": False, "activeWrapped": True}) == (True, False)
    assert flags({"wrappedEnrolled": True, "activeWrapped": True}) == (True, False)
    # POST /wrapped/data sets the wrapped flag only.
    assert flags({"releaseRadarEnrolled": True}) == (True, True)
    assert me.post("/wrapped/data", {"refreshToken": new_refresh_token(), "active": False}).status == 200
    assert (get_ok(me, "/user/data").json()["activeWrapped"], get_ok(me, "/user/data").json()["activeReleaseRadar"]) \
        == (False, True)
    # A token refresh without flags leaves both.
    assert flags({"refreshToken": new_refresh_token()}) == (False, True)
    assert get_ok(me, "/wrapped/data").json()["activeReleaseRadar"] is True


def test_partial_updates_never_wipe_a_field_not_sent(rig, me):
    assert me.post("/wrapped/data", {"refreshToken": new_refresh_token(), "active": True, "releaseRadarId": "rr-9"}).status == 200
    post_ok(me, "/user/update", {"releaseRadarEnrolled": True})
    full = get_ok(me, "/user/data").json()
    assert (full["displayName"], full["avatar"], full["releaseRadarId"]) == ("Me", "https://i.example/me.png", "rr-9")
    ciphertext = user_in_db(rig, me.email)["ciphertext"]
    # Enrolment only: the token, the profile and the playlist stay.
    after = me.post("/user/update", {"wrappedEnrolled": False}).json()
    assert {k: v for k, v in after.items() if k not in ("activeWrapped", "updatedAt")} == \
        {k: v for k, v in full.items() if k not in ("activeWrapped", "updatedAt")}
    assert user_in_db(rig, me.email)["ciphertext"] == ciphertext
    # A new token without profile fields: the profile and the playlist stay, the flags too.
    after = me.post("/user/update", {"refreshToken": new_refresh_token()}).json()
    assert (after["displayName"], after["avatar"], after["releaseRadarId"]) == ("Me", "https://i.example/me.png", "rr-9")
    assert (after["activeWrapped"], after["activeReleaseRadar"]) == (False, True)
    assert user_in_db(rig, me.email)["ciphertext"] != ciphertext
    # POST /wrapped/data without releaseRadarId keeps it, and keeps the profile.
    post_ok(me, "/wrapped/data", {"refreshToken": new_refresh_token(), "active": True})
    after = get_ok(me, "/user/data").json()
    assert (after["displayName"], after["releaseRadarId"], after["activeReleaseRadar"]) == ("Me", "rr-9", True)
    # One profile field at a time; null clears only the field that is sent as null.
    after = me.post("/user/update", {"refreshToken": new_refresh_token(), "displayName": "Renamed"}).json()
    assert (after["displayName"], after["avatar"]) == ("Renamed", "https://i.example/me.png")
    after = me.post("/user/update", {"refreshToken": new_refresh_token(), "avatar": None}).json()
    assert (after["displayName"], after["avatar"]) == ("Renamed", None)
    # createdAt never moves.
    assert after["createdAt"] == full["createdAt"]


def test_text_round_trips_exactly(me):
    """Whatever a client stores comes back as it was sent: quotes, backslashes, non-ASCII, emoji, separators."""
    for name in ['Zoë "Q" \\ / <b>&amp;</b>', "🎵 Ǆ İ ß 漢字", "line\u2028separator\u2029", "",
                 "x" * 1024]:
        response = me.post("/user/update", {"refreshToken": new_refresh_token(), "displayName": name,
                                            "avatar": "https://i.example/" + name[:100]})
        assert response.status == 200, (name, response)
        assert response.json()["displayName"] == name
        assert get_ok(me, "/user/data").json()["displayName"] == name
        assert get_ok(me, "/user/data").json()["avatar"] == "https://i.example/" + name[:100]


def test_a_new_token_clears_needs_reauth_but_enrolment_alone_does_not(rig, me):
    rig.postgres.psql(f"""UPDATE users SET token_state = 'needs_reauth', token_state_reason = 'invalid_grant',
                          token_state_at = now() WHERE email = '{me.email}'""")
    assert get_ok(me, "/user/data").json()["tokenStatus"] == "needs_reauth"
    assert me.post("/user/update", {"wrappedEnrolled": True}).json()["tokenStatus"] == "needs_reauth"
    user = me.post("/user/update", {"refreshToken": new_refresh_token()}).json()
    assert user["tokenStatus"] == "ok" and user["active"] is True
    assert rig.postgres.psql(f"SELECT token_state_reason IS NULL FROM users WHERE email = '{me.email}'").strip() == "t"


def test_timestamps_are_utc_seconds(rig, me):
    rig.postgres.psql(f"""UPDATE users SET created_at = '2025-06-30 23:59:59.999-07', updated_at = '2026-01-01 00:00:00+09'
                          WHERE email = '{me.email}'""")
    user = get_ok(me, "/user/data").json()
    assert user["createdAt"] == "2025-07-01 06:59:59"
    assert user["updatedAt"] == "2025-12-31 15:00:00"
    # An update stamps now, in UTC.
    before = time.time()
    updated = me.post("/user/update", {"wrappedEnrolled": True}).json()["updatedAt"]
    stamp = datetime.datetime.strptime(updated, "%Y-%m-%d %H:%M:%S").replace(tzinfo=datetime.timezone.utc).timestamp()
    assert before - 2 <= stamp <= time.time() + 1


# -- /release-radar ---------------------------------------------------------------------------------

def test_release_radar_check(rig, me):
    before = week_start(utc_today())
    response = get_ok(me, "/release-radar/check")
    after = week_start(utc_today())
    body = ordered(response.body)
    assert [k for k, _ in body] == ["email", "enrolled", "hasHistory", "currentWeek", "currentWeekDisplay",
                                    "weekStartDate", "weekEndDate"]
    body = dict(body)
    start = before if body["weekStartDate"] == before.isoformat() else after
    assert body == {"email": me.email, "enrolled": False, "hasHistory": False, "currentWeek": week_key(start),
                    "currentWeekDisplay": week_display(start), "weekStartDate": start.isoformat(),
                    "weekEndDate": (start + datetime.timedelta(days=6)).isoformat()}
    assert start.isoweekday() == 6 and start <= utc_today() <= start + datetime.timedelta(days=6)
    post_ok(me, "/user/update", {"releaseRadarEnrolled": True})
    assert get_ok(me, "/release-radar/check").json()["enrolled"] is True
    insert_week(rig, me.email, start - datetime.timedelta(days=7))
    assert get_ok(me, "/release-radar/check").json()["hasHistory"] is True
    # Unknown user: not enrolled, no history.
    stranger = get_ok(user_api(rig, unique_email("rr-nobody")), "/release-radar/check").json()
    assert (stranger["enrolled"], stranger["hasHistory"]) == (False, False)


def test_enrolled_means_active_and_release_radar(rig, me):
    post_ok(me, "/user/update", {"releaseRadarEnrolled": True})
    assert get_ok(me, "/release-radar/check").json()["enrolled"] is True
    rig.postgres.psql(f"UPDATE users SET active = false WHERE email = '{me.email}'")
    assert get_ok(me, "/release-radar/check").json()["enrolled"] is False


SATURDAYS = [datetime.date(2025, 12, 27), datetime.date(2026, 1, 3), datetime.date(2027, 1, 2),
             datetime.date(2021, 1, 2), datetime.date(2022, 1, 1), datetime.date(2024, 2, 24),
             datetime.date(2026, 11, 21), datetime.date(2020, 12, 26), datetime.date(2026, 5, 30)]


def test_week_model_of_stored_weeks_matches_a_python_computation(rig, me):
    for index, saturday in enumerate(SATURDAYS):
        insert_week(rig, me.email, saturday, releases=[make_release(index)], playlist_id=f"rr{index}",
                    created_epoch=1767225600 + index)
    body = get_ok(me, "/release-radar/history?limit=104").json()
    assert body["count"] == len(SATURDAYS) == len(body["weeks"])
    expected = sorted(SATURDAYS, reverse=True)
    for week, saturday in zip(body["weeks"], expected):
        assert list(week) == WEEK_KEYS
        assert week["weekKey"] == week_key(saturday), saturday
        assert week["weekDisplay"] == week_display(saturday), saturday
        assert week["startDate"] == saturday.isoformat()
        assert week["endDate"] == (saturday + datetime.timedelta(days=6)).isoformat()
    by_key = {w["weekKey"]: w["weekDisplay"] for w in body["weeks"]}
    # The examples of SPEC §5.3, and ISO week-years that differ from the calendar year.
    assert by_key["2026-01"] == "Jan 03 - 09, 2026"
    assert by_key["2025-52"] == "Dec 27 - Jan 02, 2026"
    assert by_key["2026-53"] == "Jan 02 - 08, 2027"
    assert by_key["2020-53"] == "Jan 02 - 08, 2021"
    assert by_key["2021-52"] == "Jan 01 - 07, 2022"
    assert by_key["2024-08"] == "Feb 24 - Mar 01, 2024"


def test_release_radar_history(rig, me):
    email = me.email
    today = utc_today()
    current = week_start(today)
    releases = [make_release(1), make_release(2, "single")]
    stats = {"artistCount": 2, "releaseCount": 2, "trackCount": 11, "albumCount": 1, "singleCount": 1}
    created = int(datetime.datetime(2026, 1, 4, 0, 0, 7, tzinfo=datetime.timezone.utc).timestamp())
    insert_week(rig, email, current - datetime.timedelta(days=7), releases, stats, "rr-playlist", created)
    for weeks_back in range(2, 30):
        insert_week(rig, email, current - datetime.timedelta(days=7 * weeks_back))
    before = week_start(utc_today())
    response = get_ok(me, "/release-radar/history")
    after = week_start(utc_today())
    assert [k for k, _ in ordered(response.body)] == ["email", "weeks", "count", "currentWeek", "currentWeekDisplay"]
    body = response.json()
    assert body["email"] == email
    assert body["count"] == len(body["weeks"]) == 26  # the default limit
    starts = [w["startDate"] for w in body["weeks"]]
    assert starts == sorted(starts, reverse=True)
    assert starts[0] == (current - datetime.timedelta(days=7)).isoformat()
    # The current week, computed here (either side of a Saturday midnight that fell during the request).
    start = before if body["currentWeek"] == week_key(before) else after
    assert (body["currentWeek"], body["currentWeekDisplay"]) == (week_key(start), week_display(start))
    newest = body["weeks"][0]
    assert newest["releases"] == releases
    assert newest["stats"] == stats
    assert all(isinstance(v, int) for v in newest["stats"].values())
    assert newest["playlistId"] == "rr-playlist"
    assert newest["createdAt"] == "2026-01-04 00:00:07"
    assert body["weeks"][1]["releases"] == [] and body["weeks"][1]["playlistId"] is None
    for limit, count in [(1, 1), (3, 3), (26, 26), (29, 29), (104, 29)]:
        body = get_ok(me, f"/release-radar/history?limit={limit}").json()
        assert body["count"] == len(body["weeks"]) == count
    # No user (so no history): an empty list.
    stranger = user_api(rig, unique_email("rr-empty"))
    body = get_ok(stranger, "/release-radar/history").json()
    assert (body["email"], body["weeks"], body["count"]) == (stranger.email, [], 0)


# -- ETags ------------------------------------------------------------------------------------------

def revalidate(api, path, etag):
    response = api.get(path, headers={"If-None-Match": etag})
    assert_not_modified(response, etag)
    # Other spellings of a match; a different tag gets the body.
    assert api.get(path, headers={"If-None-Match": f'"0000000000000000", {etag}'}).status == 304
    assert api.get(path, headers={"If-None-Match": "W/" + etag}).status == 304
    assert api.get(path, headers={"If-None-Match": "*"}).status == 304
    changed = api.get(path, headers={"If-None-Match": '"0000000000000000"'})
    assert changed.status == 200 and changed.header("etag") == etag and changed.body


def assert_changed(api, path, old_etag):
    response = api.get(path, headers={"If-None-Match": old_etag})
    assert response.status == 200, response
    assert response.body
    new_etag = strong_etag(response)
    assert new_etag != old_etag
    return new_etag


@pytest.mark.parametrize("path", ["/wrapped/data", "/wrapped/all"])
def test_etag_of_wrapped_data(rig, me, path):
    insert_wrap(rig, me.email, "2025-01")
    etag = strong_etag(get_ok(me, path))
    revalidate(me, path, etag)
    # A new wrap, an enrolment change, the same answer again: the tag follows the answer.
    insert_wrap(rig, me.email, "2025-02")
    etag = assert_changed(me, path, etag)
    revalidate(me, path, etag)
    post_ok(me, "/user/update", {"releaseRadarEnrolled": True})
    etag = assert_changed(me, path, etag)
    assert strong_etag(get_ok(me, path)) == etag
    # Another user's change leaves it alone.
    other = user_api(rig, unique_email("other"))
    enrol(other)
    insert_wrap(rig, other.email, "2025-02")
    revalidate(me, path, etag)


def test_etag_of_wrapped_month_and_year(rig, me):
    insert_wrap(rig, me.email, "2024-05")
    month = "/wrapped/month?monthKey=2024-05"
    year = "/wrapped/year?year=2024"
    month_tag = strong_etag(get_ok(me, month))
    year_tag = strong_etag(get_ok(me, year))
    revalidate(me, month, month_tag)
    revalidate(me, year, year_tag)
    # A wrap of another month of the same year changes the year, not the month.
    insert_wrap(rig, me.email, "2024-09")
    year_tag = assert_changed(me, year, year_tag)
    revalidate(me, month, month_tag)
    # A wrap of another year changes neither.
    insert_wrap(rig, me.email, "2023-09")
    revalidate(me, month, month_tag)
    revalidate(me, year, year_tag)
    # Rewriting the month changes both.
    insert_wrap(rig, me.email, "2024-05", playlist_id="rewritten")
    assert_changed(me, month, month_tag)
    assert_changed(me, year, year_tag)
    # An empty year has a tag too, and tags differ between users with the same (empty) answer.
    empty = strong_etag(get_ok(me, "/wrapped/year?year=2019"))
    revalidate(me, "/wrapped/year?year=2019", empty)
    other = user_api(rig, unique_email("other-year"))
    assert strong_etag(get_ok(other, "/wrapped/year?year=2019")) != empty


@pytest.mark.parametrize("path", ["/user/user-table", "/user/data"])
def test_etag_of_the_user(rig, me, path):
    etag = strong_etag(get_ok(me, path))
    revalidate(me, path, etag)
    post_ok(me, "/user/update", {"wrappedEnrolled": True})
    etag = assert_changed(me, path, etag)
    revalidate(me, path, etag)
    post_ok(me, "/user/update", {"refreshToken": new_refresh_token(), "displayName": "Other"})
    etag = assert_changed(me, path, etag)
    post_ok(me, "/wrapped/data", {"refreshToken": new_refresh_token(), "active": True})
    assert_changed(me, path, etag)
    # The alias answers with the same tag.
    assert strong_etag(get_ok(me, "/user/data")) == strong_etag(get_ok(me, "/user/user-table"))


def test_etag_of_release_radar_history_and_check(rig, me):
    history, check = "/release-radar/history", "/release-radar/check"
    history_tag = strong_etag(get_ok(me, history))
    check_tag = strong_etag(get_ok(me, check))
    revalidate(me, history, history_tag)
    revalidate(me, check, check_tag)
    current = week_start(utc_today())
    insert_week(rig, me.email, current - datetime.timedelta(days=14))
    history_tag = assert_changed(me, history, history_tag)
    check_tag = assert_changed(me, check, check_tag)  # hasHistory became true
    insert_week(rig, me.email, current - datetime.timedelta(days=7))
    history_tag = assert_changed(me, history, history_tag)
    revalidate(me, check, check_tag)  # still enrolled: false, hasHistory: true
    post_ok(me, "/user/update", {"releaseRadarEnrolled": True})
    assert_changed(me, check, check_tag)
    # Another limit is another answer.
    limited = strong_etag(get_ok(me, history + "?limit=1"))
    assert limited != history_tag
    revalidate(me, history + "?limit=1", limited)


def test_etags_are_per_user(rig):
    a, b = user_api(rig, unique_email("tag-a")), user_api(rig, unique_email("tag-b"))
    for path in ["/wrapped/data", "/release-radar/check", "/release-radar/history", "/wrapped/year?year=2020"]:
        tag = strong_etag(get_ok(a, path))
        assert get_ok(b, path).header("etag") != tag
        assert b.get(path, headers={"If-None-Match": tag}).status == 200


def test_errors_and_writes_carry_no_etag(rig, me):
    assert me.get("/wrapped/month?monthKey=2001-01").header("etag") is None
    assert me.post("/user/update", {"wrappedEnrolled": True}).header("etag") is None
    assert me.post("/wrapped/data", {"refreshToken": new_refresh_token(), "active": True}).header("etag") is None
    # A matching If-None-Match on an error is still the error.
    assert me.get("/wrapped/month?monthKey=2001-01", headers={"If-None-Match": "*"}).status == 404
    assert me.get("/wrapped/month?monthKey=2001-13", headers={"If-None-Match": "*"}).status == 400


# -- /health and /ping ------------------------------------------------------------------------------

def test_health_and_ping(rig):
    api = Api(rig.https_port)
    health = api.get("/health", token=None)
    assert health.status == 200 and health.json() == {"status": "ok"}
    assert_common_headers(health)
    ping = api.get("/ping", token=None)
    assert ping.status == 200 and ping.body == b"pong"
    assert ping.header("content-type").startswith("text/plain")
    assert ping.header("x-request-id")

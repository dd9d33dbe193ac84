"""The release-radar reference (Tests/integration/release_radar_reference.py) checked on its own, so that the job
tests that rely on it rely on something checked: the week model against the SPEC's examples (§5.3), every hard case
of the sandbox's catalogue (§9) through `expected_week`, the reference's reading of Spotify's groups against the
sandbox's real `GET /v1/artists/{id}/albums`, and small catalogues written here whose answers are worked out by
hand in the comments (deduplication, found-through artist, order, stats, request floor).

Needs only Python and the sandbox (no Swift build, no PostgreSQL): one sandbox process for the module.
"""

import base64
import doctest
import json
import os
import sys
import urllib.parse
import urllib.request
from datetime import date, datetime, timedelta, timezone

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "rig"))

import release_radar_reference as rr  # noqa: E402
from release_radar_reference import (expected_week, last_complete_week, normalised_title,  # noqa: E402
                                     release_in_week, request_floor, week_of)
from xomify_rig import Sandbox  # noqa: E402

NOW = "2026-11-27T12:00:00Z"  # a Friday: the last complete week is Sat 14 - Fri 20 November 2026 (2026-46)


# ------------------------------------------------------------------------------------------ the sandbox
@pytest.fixture(scope="module")
def sandbox(tmp_path_factory):
    started = Sandbox(str(tmp_path_factory.mktemp("sandbox")), args=["--now", NOW]).start()
    try:
        yield started
    finally:
        started.stop()


@pytest.fixture(scope="module")
def cat(sandbox):
    return sandbox.get("/_sandbox/catalogue")


@pytest.fixture(scope="module")
def hc(cat):
    return cat["hardCases"]


@pytest.fixture(scope="module")
def first(hc):
    """The first user: follows every hard-case artist (and more than 50 artists)."""
    return hc["multiPageFollower"]["userId"]


def week_before(week, k):
    return week_of(week.start - timedelta(weeks=k))


def ids(result):
    return [r["albumId"] for r in result["releases"]]


def tracks_of(cat, album_id):
    return next(a for a in cat["albums"] if a["id"] == album_id)["tracks"]


# ------------------------------------------------------------------------------------------- week model
def test_docstring_examples():
    failures, tried = doctest.testmod(rr)
    assert tried >= 3 and failures == 0


def test_week_keys_and_displays_as_in_the_spec():
    # SPEC §5.3's two examples. 3 January 2026 is a Saturday in ISO week 1 of 2026; 27 December 2025 is in ISO
    # week 52 of 2025, and its week ends in 2026, whose year the display shows.
    jan = week_of("2026-01-03")
    assert (jan.start, jan.end, jan.key, jan.display) == (date(2026, 1, 3), date(2026, 1, 9), "2026-01",
                                                          "Jan 03 - 09, 2026")
    dec = week_of("2025-12-27")
    assert (dec.key, dec.display) == ("2025-52", "Dec 27 - Jan 02, 2026")
    # Across months inside a year; the ISO week-year of the Saturday, not its calendar year (2 January 2027
    # is in ISO week 53 of 2026).
    assert week_of("2026-01-31").display == "Jan 31 - Feb 06, 2026"
    assert week_of("2027-01-02").key == "2026-53"
    assert week_of("2026-53").start == date(2027, 1, 2) and week_of("2026-53").display == "Jan 02 - 08, 2027"
    # Any day names the week holding it; a key names its Saturday; a Week is returned as it is.
    assert week_of(date(2026, 11, 20)) == week_of("2026-11-14") == week_of("2026-46")
    assert week_of(week_of("2026-46")).key == "2026-46"
    assert week_of(datetime(2026, 11, 21, 0, 30, tzinfo=timezone(timedelta(hours=1)))).key == "2026-46"
    # Keys that name no week.
    for bad in ("2025-53", "2026-00", "2026-54"):
        with pytest.raises(ValueError):
            week_of(bad)


def test_every_week_from_2020_to_2032_has_one_key_and_follows_the_last():
    saturday = date(2020, 1, 4)
    seen = set()
    while saturday.year < 2033:
        week = week_of(saturday)
        assert week.start == saturday and week.end == saturday + timedelta(days=6)
        assert week.start.weekday() == 5 and week_of(week.key) == week
        assert week.key not in seen
        seen.add(week.key)
        saturday += timedelta(days=7)


def test_last_complete_and_current_week():
    assert last_complete_week(NOW).key == "2026-46"
    assert last_complete_week(NOW).start == date(2026, 11, 14)
    # At Saturday 00:00:00 UTC the week that just ended is complete; a second before, it was not.
    assert last_complete_week("2026-11-21T00:00:00Z").key == "2026-46"
    assert last_complete_week("2026-11-20T23:59:59Z").key == "2026-45"
    # UTC decides: 00:30 on Saturday at UTC+1 is still Friday in UTC.
    assert last_complete_week("2026-11-21T00:30:00+01:00").key == "2026-45"
    assert rr.current_week(NOW).start == date(2026, 11, 21)


def test_the_catalogue_names_the_same_week(cat, hc):
    week = last_complete_week(cat["now"])
    assert {"start": week.start.isoformat(), "end": week.end.isoformat(), "weekKey": week.key} == cat["week"]
    assert hc["currentWeekStart"] == rr.current_week(cat["now"]).start.isoformat()


def test_release_in_week_by_precision():
    week = week_of("2026-46")  # Sat 14 - Fri 20 November 2026
    assert [release_in_week(d, "day", week) for d in ("2026-11-13", "2026-11-14", "2026-11-20", "2026-11-21")] \
        == [False, True, True, False]
    # Month precision: only the week holding the 1st. 1 Nov 2026 is a Sunday (week of Sat 31 Oct); 1 Aug 2026 a
    # Saturday (it starts its week); 1 Jan 2027 a Friday (it ends the week of Sat 26 Dec 2026).
    assert release_in_week("2026-11", "month", "2026-10-31")
    assert not any(release_in_week("2026-11", "month", week_of(date(2026, 11, 7) + timedelta(weeks=k)))
                   for k in range(4))
    assert release_in_week("2026-08", "month", "2026-08-01") and not release_in_week("2026-08", "month", "2026-07-25")
    assert release_in_week("2027-01", "month", "2026-12-26") and not release_in_week("2027-01", "month", "2027-01-02")
    # Year precision never counts.
    assert not any(release_in_week("2026", "year", week_of(date(2026, 1, 3) + timedelta(weeks=k))) for k in range(53))
    # A precision the date does not have is an error, not a guess.
    for release_date, precision in (("2026-11", "day"), ("2026-11-14", "month"), ("2026", "month"),
                                    ("2026-11-14", "decade")):
        with pytest.raises(ValueError):
            release_in_week(release_date, precision, week)


def test_normalised_title():
    cases = {
        "Paper Satellites": "paper satellites",
        "  PAPER satellites\u00a0": "paper satellites",  # trimmed of Unicode White_Space
        "Paper Satellites (feat. Nova Reyes)": "paper satellites",
        "Paper Satellites (ft. Nova Reyes)": "paper satellites",
        "Paper Satellites (with Nova Reyes)": "paper satellites",
        "Paper Satellites [feat. Nova Reyes]": "paper satellites",
        "Paper Satellites [with Nova Reyes]": "paper satellites",
        "Paper Satellites (Feat. Nova (The Band))": "paper satellites",  # nested brackets match
        "Paper Satellites (Remix)": "paper satellites (remix)",  # not a feature part
        "Paper Satellites (featuring Nova)": "paper satellites (featuring nova)",  # only feat./ft./with
        "Paper Satellites (feat Nova)": "paper satellites (feat nova)",
        "Paper Satellites (without you)": "paper satellites (without you)",  # "with" is a word
        "Paper Satellites (feat. Nova) (Remix)": "paper satellites (feat. nova) (remix)",  # only a trailing part
        "Paper Satellites (feat. Nova) [with Kai]": "paper satellites (feat. nova)",  # only one part
        "STRASSE": "strasse", "Straße": "strasse",  # case folding, not lower-casing
    }
    assert {name: normalised_title(name) for name in cases} == cases
    assert rr.WHITE_SPACE == __import__("genre_scores").WHITE_SPACE


# ----------------------------------------------------------------------------------- hard cases (§9)
def test_many_albums_artist_new_single_is_found(cat, hc, first):
    case = hc["manyAlbumsArtist"]
    week = last_complete_week(NOW)
    result = expected_week(cat, first, week)
    release = next(r for r in result["releases"] if r["albumId"] == case["newSingleId"])
    assert (release["artistId"], release["albumType"]) == (case["artistId"], "single")
    assert not set(case["albumIds"]) & set(ids(result))
    assert set(u.split(":")[2] for u in result["uris"]) >= {t["id"] for t in tracks_of(cat, case["newSingleId"])}
    # One combined album,single call of 10 shows ten older albums and hides the single: 2 requests, not 1.
    groups = rr._artist_groups(rr._Index(cat), week)[case["artistId"]]
    assert groups["album"] == [12, 0] and groups["single"][1] == 1
    assert rr.artist_scan_floor(groups, False) == (2, 0)


def test_month_precision_release_in_exactly_one_of_the_last_8_weeks(cat, hc, first):
    case = hc["monthPrecisionRelease"]
    week = last_complete_week(NOW)
    holding = [w.key for w in (week_before(week, k) for k in range(8)) if case["albumId"] in ids(expected_week(cat, first, w))]
    assert holding == [case["weekKey"]] == ["2026-44"]


def test_year_precision_release_never(cat, hc, first):
    case = hc["yearPrecisionRelease"]
    week = last_complete_week(NOW)
    for k in range(60):
        assert case["albumId"] not in ids(expected_week(cat, first, week_before(week, k)))


def test_long_album_contributes_all_its_tracks_in_order(cat, hc, first):
    case = hc["longAlbum"]
    result = expected_week(cat, first, last_complete_week(NOW))
    release = next(r for r in result["releases"] if r["albumId"] == case["albumId"])
    assert release["totalTracks"] == case["totalTracks"] == 64
    uris = [t["uri"] for t in tracks_of(cat, case["albumId"])]
    start = result["uris"].index(uris[0])
    assert result["uris"][start:start + 64] == uris
    # Its tracks cost 2 requests: GET /v1/albums/{id} (50 embedded) and one /tracks page for the other 14.
    floor, breakdown = request_floor(cat, [first], last_complete_week(NOW))
    assert breakdown["albumTrackPages"] >= 1


def test_single_and_album_version_give_the_album_version_once(cat, hc, first):
    case = hc["singleAndAlbumVersion"]
    result = expected_week(cat, first, last_complete_week(NOW))
    assert f"spotify:track:{case['albumTrackId']}" in result["uris"]
    assert f"spotify:track:{case['singleTrackId']}" not in result["uris"]
    # The single stays listed (a release of the week), contributing no track.
    single = next(r for r in result["releases"] if r["albumId"] == case["singleId"])
    assert single["albumType"] == "single" and single["artistId"] == case["artistId"]
    assert case["albumId"] in ids(result)
    assert not {t["uri"] for t in tracks_of(cat, case["singleId"])} & set(result["uris"])


def test_two_artist_album_appears_once(cat, hc):
    case = hc["twoArtistAlbum"]
    result = expected_week(cat, case["userId"], last_complete_week(NOW))
    assert ids(result).count(case["albumId"]) == 1
    release = next(r for r in result["releases"] if r["albumId"] == case["albumId"])
    assert release["artistId"] == case["artistIds"][0]  # the first of the album's artists the user follows
    tracks = [t["uri"] for t in tracks_of(cat, case["albumId"])]
    assert all(result["uris"].count(u) == 1 for u in tracks)
    # The second user follows only the first credited artist (the sandbox makes it so): the album, once, theirs.
    second = list(cat["follows"])[1]
    assert case["artistIds"][0] in cat["follows"][second] and case["artistIds"][1] not in cat["follows"][second]
    other = expected_week(cat, second, last_complete_week(NOW))
    assert ids(other).count(case["albumId"]) == 1


def test_compilation_gives_only_the_followed_artists_track(cat, hc, first):
    case = hc["compilation"]
    week = last_complete_week(NOW)
    on = expected_week(cat, first, week, appears_on=True)
    release = next(r for r in on["releases"] if r["albumId"] == case["albumId"])
    assert (release["albumType"], release["artistId"]) == ("compilation", case["followedArtistId"])
    compilation_uris = {t["uri"] for t in tracks_of(cat, case["albumId"])}
    assert set(on["uris"]) & compilation_uris == {f"spotify:track:{case['followedTrackId']}"}
    off = expected_week(cat, first, week, appears_on=False)
    assert case["albumId"] not in ids(off) and not set(off["uris"]) & compilation_uris


def test_feature_on_someone_elses_single(cat, hc, first):
    case = hc["featureOnOthersRelease"]
    week = last_complete_week(NOW)
    on = expected_week(cat, first, week, appears_on=True)
    release = next(r for r in on["releases"] if r["albumId"] == case["albumId"])
    assert release["artistId"] == case["artistId"]  # the followed guest, not the unfollowed primary artist
    assert f"spotify:track:{case['trackId']}" in on["uris"]
    assert not {f"spotify:track:{t}" for t in case["otherTrackIds"]} & set(on["uris"])
    off = expected_week(cat, first, week, appears_on=False)
    assert case["albumId"] not in ids(off)


def test_boundary_releases_fall_in_the_right_weeks(cat, hc, first):
    edges = hc["boundaryReleases"]
    week = last_complete_week(NOW)
    weeks = {"before": week_before(week, 1), "week": week, "current": rr.current_week(NOW)}
    found = {name: set(ids(expected_week(cat, first, w))) for name, w in weeks.items()}
    expect = {"dayBeforeWeek": "before", "weekFirstDay": "week", "weekLastDay": "week", "currentWeek": "current"}
    for label, where in expect.items():
        album = edges[label]["albumId"]
        assert [name for name in weeks if album in found[name]] == [where], label


def test_a_week_without_releases_is_empty_with_zero_stats(cat, first):
    zero = {"artistCount": 0, "releaseCount": 0, "trackCount": 0, "albumCount": 0, "singleCount": 0}
    far = week_of("2020-10")  # years before the oldest release of the catalogue
    for user in cat["follows"]:
        result = expected_week(cat, user, far)
        assert (result["releases"], result["uris"], result["stats"]) == ([], [], zero)
        assert (result["weekKey"], result["startDate"], result["endDate"]) == ("2020-10", "2020-03-07", "2020-03-13")
    # A user of the sandbox's world who follows only artists quiet in the hard-case week: the year-precision
    # one, and those of the boundary singles just before and just after the week (hard-case artists release
    # nothing else in the recent window). Empty week, empty playlist: the first time, a create and no write.
    hc = cat["hardCases"]
    quiet = [hc["yearPrecisionRelease"]["artistId"], hc["boundaryReleases"]["dayBeforeWeek"]["artistId"],
             hc["boundaryReleases"]["currentWeek"]["artistId"]]
    world = dict(cat, follows={**cat["follows"], "quiet": quiet})
    result = expected_week(world, "quiet", last_complete_week(NOW))
    assert (result["releases"], result["uris"], result["stats"]) == ([], [], zero)
    route = request_floor(world, ["quiet"], last_complete_week(NOW))[1]["byRoute"]
    assert (route["POST /v1/me/playlists"], route["PUT or POST /v1/playlists/{id}/items"]) == (1, 0)
    assert (route["GET /v1/albums/{id}"], route["GET /v1/albums/{id}/tracks"]) == (0, 0)
    # The week before holds the day-before single; the current week the other one.
    assert ids(expected_week(world, "quiet", week_before(last_complete_week(NOW), 1))) == [
        hc["boundaryReleases"]["dayBeforeWeek"]["albumId"]]


def test_invariants_over_every_user_and_the_last_8_weeks(cat):
    artists = {a["id"]: a["name"] for a in cat["artists"]}
    albums = {a["id"]: a for a in cat["albums"]}
    track_album = {t["uri"]: a["id"] for a in cat["albums"] for t in a["tracks"]}
    for k in range(8):
        week = week_before(last_complete_week(NOW), k)
        for user, follows in cat["follows"].items():
            on = expected_week(cat, user, week, appears_on=True)
            off = expected_week(cat, user, week, appears_on=False)
            assert set(ids(off)) <= set(ids(on))
            for result, appears_on in ((on, True), (off, False)):
                listed = ids(result)
                assert len(listed) == len(set(listed))
                # Newest first; the same date: album, single, compilation; then albumId.
                keys = [(r["releaseDate"], rr.ALBUM_TYPES.index(r["albumType"]), r["albumId"])
                        for r in result["releases"]]
                assert [x[0] for x in keys] == sorted((x[0] for x in keys), reverse=True)
                for a_, b_ in zip(keys, keys[1:]):
                    assert a_[0] > b_[0] or (a_[0] == b_[0] and a_[1:] < b_[1:])
                for release in result["releases"]:
                    album = albums[release["albumId"]]
                    assert release_in_week(album["releaseDate"], album["releaseDatePrecision"], week)
                    assert release["artistId"] in follows and release["artistName"] == artists[release["artistId"]]
                    assert release["uri"] == "spotify:album:" + album["id"]
                    assert release["totalTracks"] == len(album["tracks"])
                    if not appears_on:
                        assert release["albumType"] != "compilation" and release["artistId"] in album["artistIds"]
                assert len(result["uris"]) == len(set(result["uris"]))
                assert all(track_album[u] in listed for u in result["uris"])
                # Playlist order follows release order.
                positions = [listed.index(track_album[u]) for u in result["uris"]]
                assert positions == sorted(positions)
                stats = result["stats"]
                assert stats["releaseCount"] == len(listed) == stats["albumCount"] + stats["singleCount"]
                assert stats["trackCount"] == len(result["uris"])
                assert stats["artistCount"] == len({r["artistId"] for r in result["releases"]})


# ------------------------------------------------------------- the reference against the real Web API
class WebApi:
    """A user's view of the sandbox's Web API, counting artist-album requests."""

    def __init__(self, sandbox, user_id):
        self.base = sandbox.url
        user = next(u for u in sandbox.get("/_sandbox/users")["users"] if u["id"] == user_id)
        basic = base64.b64encode(b"sandbox-client:sandbox-secret").decode()
        form = urllib.parse.urlencode({"grant_type": "refresh_token", "refresh_token": user["refreshToken"]})
        request = urllib.request.Request(self.base + "/api/token", data=form.encode(), method="POST", headers={
            "Authorization": "Basic " + basic, "Content-Type": "application/x-www-form-urlencoded"})
        with urllib.request.urlopen(request, timeout=30) as answer:
            self.token = json.loads(answer.read())["access_token"]
        self.calls = 0

    def artist_albums(self, artist_id, groups, offset):
        self.calls += 1
        query = urllib.parse.urlencode({"include_groups": ",".join(groups), "limit": 10, "offset": offset})
        request = urllib.request.Request(f"{self.base}/v1/artists/{artist_id}/albums?{query}",
                                         headers={"Authorization": "Bearer " + self.token})
        with urllib.request.urlopen(request, timeout=30) as answer:
            return json.loads(answer.read())


def adaptive_scan(api, artist_id, groups, week):
    """What a job following the SPEC's scan does with one pair of groups: the combined call; once a leading
    group is proven complete (an item dated before the week, or the next group showing, or the list's end) it
    goes on with the groups left, from the offset it reached in the first of them. Returns the items seen."""
    remaining, offset, seen = list(groups), 0, []
    while remaining:
        page = api.artist_albums(artist_id, remaining, offset)
        items = page["items"]
        seen.extend(items)
        done = set()
        if page.get("next") is None:
            done.update(remaining)
        if items:
            last = items[-1]["album_group"]
            done.update(remaining[:remaining.index(last)])
            if any(i["album_group"] == last and rr.period_start(i["release_date"], i["release_date_precision"])
                   < week.start for i in items):
                done.add(last)
        left = [g for g in remaining if g not in done]
        if left == remaining:
            offset += 10
        elif left:  # the first group left was not reached before this page: its items so far are on it
            offset = sum(1 for i in items if i["album_group"] == left[0])
        remaining = left
    return seen


@pytest.mark.parametrize("weeks_back", [0, 1, 3, 6])
def test_the_sandbox_web_api_agrees_with_the_reference(sandbox, cat, first, weeks_back):
    """For every artist the first user follows: an adaptive scan through the real endpoint finds exactly the
    releases `expected_week` lists, and spends exactly `artist_scan_floor` requests (the "spec" model)."""
    week = week_before(last_complete_week(NOW), weeks_back)
    api = WebApi(sandbox, first)
    groups = rr._artist_groups(rr._Index(cat), week)
    empty = {g: (0, 0) for g in rr.GROUP_ORDER}
    found, costs = set(), []
    for artist in cat["follows"][first]:
        before = api.calls
        for pair in (("album", "single"), ("appears_on", "compilation")):
            for item in adaptive_scan(api, artist, pair, week):
                if release_in_week(item["release_date"], item["release_date_precision"], week):
                    found.add(item["id"])
        main, extra = rr.artist_scan_floor(groups.get(artist, empty), True)
        assert api.calls - before == main + extra, artist
        costs.append(main + extra)
    assert found == set(ids(expected_week(cat, first, week, appears_on=True))) and found
    assert len(costs) > 50 and max(costs) >= 3  # not only artists that one call each pair settles


def test_request_floor_over_the_sandbox(cat, hc):
    users = list(cat["follows"])
    revoked = hc["revokedUser"]["userId"]
    week = last_complete_week(NOW)
    total, breakdown = request_floor(cat, users, week, revoked=[revoked])
    active = [u for u in users if u != revoked]
    by_route = breakdown["byRoute"]
    assert total == sum(by_route.values())
    assert by_route["POST /api/token"] == len(users)
    assert by_route["GET /v1/me/following"] == sum(-(-len(cat["follows"][u]) // 50) for u in active)
    assert by_route["GET /v1/me/following"] > len(active)  # the first user has more than one page of 50
    assert breakdown["scannedArtists"] == len({a for u in active for a in cat["follows"][u]})
    # Every scanned artist costs at least 1 album/single request and, with appears_on, 1 more.
    assert breakdown["artistAlbumsAlbumSingle"] >= breakdown["scannedArtists"]
    assert breakdown["artistAlbumsExtraGroups"] >= breakdown["extraGroupArtists"] == breakdown["scannedArtists"]
    releases = {r["albumId"] for u in active for r in expected_week(cat, u, week)["releases"]}
    assert by_route["GET /v1/albums/{id}"] == len(releases)
    assert by_route["POST /v1/me/playlists"] == len(active)
    # Models: SPEC §3's "`false` halves the scan requests" holds for the default model here.
    off_total, off = request_floor(cat, users, week, appears_on=False, revoked=[revoked])
    scans_on = by_route["GET /v1/artists/{id}/albums"]
    scans_off = off["byRoute"]["GET /v1/artists/{id}/albums"]
    assert 1.8 <= scans_on / scans_off <= 2.2, (scans_on, scans_off)
    per_group = request_floor(cat, users, week, revoked=[revoked], scan_model="spec-per-group")[0]
    cheapest = request_floor(cat, users, week, revoked=[revoked], scan_model="any")[0]
    assert cheapest <= total <= per_group
    print(f"\nfloor, hard-case week, {len(users)} users: spec {total} (appears_on off {off_total}), "
          f"spec-per-group {per_group}, any {cheapest}; {json.dumps(breakdown)}", file=sys.stderr)


# ------------------------------------------------------------------------ small catalogues, by hand
def album(album_id, album_type, artist_ids, release_date, tracks, precision="day"):
    """A catalogue album; `tracks` are (id, name, artist ids, duration ms)."""
    return {"id": album_id, "name": album_id.upper(), "albumType": album_type, "artistIds": list(artist_ids),
            "releaseDate": release_date, "releaseDatePrecision": precision, "totalTracks": len(tracks),
            "tracks": [{"id": t, "uri": "spotify:track:" + t, "name": n, "artistIds": list(a), "durationMs": d}
                       for t, n, a, d in tracks]}


def catalogue(albums, follows, artist_ids):
    return {"artists": [{"id": a, "name": "Artist " + a} for a in artist_ids], "albums": albums, "follows": follows}


WEEK = week_of("2026-46")  # Sat 14 - Fri 20 November 2026


def test_deduplication_by_hand():
    # User u follows A and B; G is an unfollowed guest. All in the week.
    albums = [
        # The album: its "Paper Moon" is the album version of s1's lead, "Other" of s5's first track.
        album("zl1", "album", ["A"], "2026-11-20", [("l1a", "paper moon", ["A"], 202000),
                                                    ("l1b", "Other", ["A"], 150000),
                                                    ("l1c", "Far Away", ["A"], 182001)]),
        # s1: "Paper Moon (feat. G)", primary A, 2000 ms from the album's: the same recording -> dropped.
        album("s1", "single", ["A"], "2026-11-16", [("s1a", "Paper Moon (feat. G)", ["A", "G"], 200000)]),
        # s2: "Far Away (with G)", 2001 ms away: another recording -> kept.
        album("s2", "single", ["A"], "2026-11-18", [("s2a", "Far Away (with G)", ["A", "G"], 180000)]),
        # s3: the same title by another primary artist (B) -> kept.
        album("s3", "single", ["B"], "2026-11-17", [("s3a", "Paper Moon", ["B"], 202000)]),
        # s4: a remix: "(Remix)" is not a feature part -> another title -> kept.
        album("s4", "single", ["A"], "2026-11-17", [("s4a", "Paper Moon (Remix)", ["A"], 202000)]),
        # s5: same day as the album; its first track is the album's "Other" (same duration) -> dropped; its
        # B-side stays. Its id sorts before the album's, but an album comes first on the same day.
        album("as5", "single", ["A"], "2026-11-20", [("s5a", "OTHER ", ["A"], 150000),
                                                     ("s5b", "B-Side", ["A"], 120000)]),
    ]
    result = expected_week(catalogue(albums, {"u": ["A", "B"]}, ["A", "B", "G"]), "u", WEEK)
    # Order: 11-20 album zl1, 11-20 single as5, 11-18 s2, 11-17 s3 and s4 (singles; ids ascending), 11-16 s1.
    assert ids(result) == ["zl1", "as5", "s2", "s3", "s4", "s1"]
    assert result["uris"] == ["spotify:track:" + t for t in ("l1a", "l1b", "l1c", "s5b", "s2a", "s3a", "s4a")]
    # s1 stays listed with no track placed; A and B have releases: 2 artists; 1 album, 5 singles, 7 tracks.
    assert result["stats"] == {"artistCount": 2, "releaseCount": 6, "trackCount": 7, "albumCount": 1,
                               "singleCount": 5}
    assert result["releases"][0] == {"albumId": "zl1", "albumName": "ZL1", "albumType": "album", "artistId": "A",
                                      "artistName": "Artist A", "releaseDate": "2026-11-20", "totalTracks": 3,
                                      "uri": "spotify:album:zl1"}


def test_found_through_artist_appears_on_and_compilations_by_hand():
    # u follows, in this order, B, A, C. X, G and V (Various Artists) are not followed.
    albums = [
        # d1 credits A then B: found through A (the album's order), though u followed B first. Whole album.
        album("d1", "album", ["A", "B"], "2026-11-20", [("d1a", "One", ["A", "B"], 200000),
                                                        ("d1b", "Two", ["A"], 200000)]),
        # d2 credits X then B: found through B. Whole album, the unfollowed X's solo track included.
        album("d2", "album", ["X", "B"], "2026-11-19", [("d2a", "Three", ["X"], 200000),
                                                        ("d2b", "Four", ["B"], 200000)]),
        # v1, a Various Artists compilation: appears_on for C and A. Only their tracks (v1b, v1c); found through
        # C, the first followed artist credited in track order.
        album("v1", "compilation", ["V"], "2026-11-18", [("v1a", "Five", ["X"], 200000),
                                                         ("v1b", "Six", ["C"], 200000),
                                                         ("v1c", "Seven", ["A", "X"], 200000),
                                                         ("v1d", "Eight", ["X"], 200000)]),
        # h1, A's own compilation (group compilation): only with appears_on; its tracks all credit A, but one of
        # them is d1b again (the same uri): placed once, from d1.
        album("h1", "compilation", ["A"], "2026-11-17", [("d1b", "Two", ["A"], 200000),
                                                         ("h1b", "Nine", ["A", "G"], 200000)]),
        # f1, X's single featuring A: appears_on for A; only the track crediting A.
        album("f1", "single", ["X"], "2026-11-16", [("f1a", "Ten (feat. A)", ["X", "A"], 200000),
                                                    ("f1b", "Eleven", ["X"], 200000)]),
        # o1, an album of A with an unfollowed guest on one track: A's own album, whole.
        album("o1", "album", ["A"], "2026-11-15", [("o1a", "Twelve", ["A", "G"], 200000),
                                                   ("o1b", "Thirteen", ["A"], 200000)]),
        # n1, X's album crediting nobody u follows: never.
        album("n1", "album", ["X"], "2026-11-15", [("n1a", "Fourteen", ["X", "G"], 200000)]),
        # Outside the week: w1 on Friday the 13th, w2 month precision (November: only the week of Sat 31 Oct),
        # w3 year precision.
        album("w1", "single", ["A"], "2026-11-13", [("w1a", "Fifteen", ["A"], 200000)]),
        album("w2", "album", ["A"], "2026-11", [("w2a", "Sixteen", ["A"], 200000)], precision="month"),
        album("w3", "single", ["A"], "2026", [("w3a", "Seventeen", ["A"], 200000)], precision="year"),
    ]
    cat = catalogue(albums, {"u": ["B", "A", "C"], "nobody": ["X"]}, ["A", "B", "C", "X", "G", "V"])
    on = expected_week(cat, "u", WEEK, appears_on=True)
    assert ids(on) == ["d1", "d2", "v1", "h1", "f1", "o1"]
    assert [r["artistId"] for r in on["releases"]] == ["A", "B", "C", "A", "A", "A"]
    assert on["uris"] == ["spotify:track:" + t for t in
                          ("d1a", "d1b", "d2a", "d2b", "v1b", "v1c", "h1b", "f1a", "o1a", "o1b")]
    # 3 artists (A, B, C); albums d1, d2, o1 and the compilations v1, h1; the single f1.
    assert on["stats"] == {"artistCount": 3, "releaseCount": 6, "trackCount": 10, "albumCount": 5, "singleCount": 1}
    off = expected_week(cat, "u", WEEK, appears_on=False)
    assert ids(off) == ["d1", "d2", "o1"]
    assert off["uris"] == ["spotify:track:" + t for t in ("d1a", "d1b", "d2a", "d2b", "o1a", "o1b")]
    assert off["stats"] == {"artistCount": 2, "releaseCount": 3, "trackCount": 6, "albumCount": 3, "singleCount": 0}
    # w2 is November's: it counts in the week of Sat 31 October only.
    assert ids(expected_week(cat, "u", "2026-10-31")) == ["w2"]
    assert ids(expected_week(cat, "u", "2026-11-07")) == ["w1"]
    # The user who follows only X: X's own album n1 and the X-credited d2 and f1 (the whole of each: X is one
    # of their artists); v1 through appears_on, only X's tracks; nothing of A's.
    x = expected_week(cat, "nobody", WEEK)
    assert ids(x) == ["d2", "v1", "f1", "n1"] and [r["artistId"] for r in x["releases"]] == ["X"] * 4
    assert x["uris"] == ["spotify:track:" + t for t in ("d2a", "d2b", "v1a", "v1c", "v1d", "f1a", "f1b", "n1a")]


def test_month_precision_sorts_by_its_first_day():
    # In the week of Sat 31 Oct - Fri 6 Nov 2026: "2026-11" sorts as 1 November, after a day-precision
    # 1 November, before 31 October.
    albums = [album("a", "single", ["A"], "2026-10-31", [("a1", "A", ["A"], 1000)]),
              album("b", "album", ["A"], "2026-11", [("b1", "B", ["A"], 1000)], precision="month"),
              album("c", "single", ["A"], "2026-11-01", [("c1", "C", ["A"], 1000)]),
              album("d", "single", ["A"], "2026-11-06", [("d1", "D", ["A"], 1000)])]
    result = expected_week(catalogue(albums, {"u": ["A"]}, ["A"]), "u", "2026-10-31")
    assert ids(result) == ["d", "c", "b", "a"]


def test_scan_floor_of_one_artist_by_hand():
    def groups(album=(0, 0), single=(0, 0), appears_on=(0, 0), compilation=(0, 0)):
        return {"album": album, "single": single, "appears_on": appears_on, "compilation": compilation}

    floor = rr.artist_scan_floor
    # 3 albums + 4 singles: one combined call of 10 shows everything.
    assert floor(groups((3, 0), (4, 1)), False) == (1, 0)
    # 5 albums + 6 singles (4 recent, 2 older): the 10th item is the first older single, the proof: 1.
    assert floor(groups((5, 0), (6, 4)), False) == (1, 0)
    # 5 albums + 6 singles (5 recent): the 10th item is recent and an 11th exists: 2 (combined page 2, or
    # the two groups apart).
    assert floor(groups((5, 0), (6, 5)), False) == (2, 0)
    # 12 older albums and 2 singles (1 new): the first page is all albums: 2 (apart: 1 + 1).
    assert floor(groups((12, 0), (2, 1)), False) == (2, 0)
    # 10 albums and no single: one page shows them all and the list's end: 1.
    assert floor(groups((10, 0)), False) == (1, 0)
    # 11 albums and no single: combined needs page 2 to see the end; apart: 1 (10th album older) + 1 (empty).
    assert floor(groups((11, 0)), False) == (2, 0)
    # Nothing at all: the one call that answers empty.
    assert floor(groups(), False) == (1, 0)
    # Paging: 12 recent singles + 1 older, no album. Combined: the proof is item 12, on page 2: 2. Apart:
    # album 1 + single 2 = 3. Cheaper: 2. With 20 recent + 1 older: the proof is item 20, page 3.
    assert floor(groups(single=(13, 12)), False) == (2, 0)
    assert floor(groups(single=(21, 20)), False) == (3, 0)
    # 3 recent albums + 10 recent singles and 1 older: combined: proof at 13 -> 2 pages; apart 1 + 2 = 3: 2.
    assert floor(groups((3, 3), (11, 10)), False) == (2, 0)
    # 15 recent albums + 1 older, 2 older singles: combined: the proof is the first single, item 16 -> 2
    # pages; apart: albums 2 (the proof is item 15) + singles 1 = 3.
    assert floor(groups((16, 15), (2, 0)), False) == (2, 0)

    # Extra groups (an artist some user scans with appears_on). On 3 releases, no compilation:
    small = groups((1, 0), (2, 0), (3, 1))
    assert floor(small, True, "spec") == (1, 1)  # appears_on,compilation in one call: 3 items, the end
    assert floor(small, True, "spec-per-group") == (1, 2)  # one each
    assert floor(small, True, "any") == (1, 0)  # all four groups, 6 items, in the one call
    # On 12 releases (1 recent): merged, the compilations are hidden behind them: 2 either way in "spec".
    busy = groups((2, 0), (1, 0), (12, 1))
    assert floor(busy, True, "spec") == (1, 2)
    assert floor(busy, True, "spec-per-group") == (1, 2)
    # "any": album,single,appears_on in one call (the proof of appears_on is item 4), compilation apart: 2,
    # so the extra groups add 1.
    assert floor(busy, True, "any") == (1, 1)
    with pytest.raises(ValueError):
        floor(small, True, "cheap")


def test_request_floor_by_hand():
    # Artists: P, Q, R1, R2, T, Y release; F01..F49 never do. Z1, Z2 are unfollowed; "old" = 2025.
    old = "2025-03-01"
    albums = []
    # P: 3 albums, 4 singles (one in the week): 7 items -> 1 call.
    albums += [album(f"p-al{i}", "album", ["P"], old, [(f"p-al{i}t", "x", ["P"], 1000)]) for i in range(3)]
    albums += [album(f"p-si{i}", "single", ["P"], old, [(f"p-si{i}t", "x", ["P"], 1000)]) for i in range(3)]
    albums += [album("p-new", "single", ["P"], "2026-11-20", [("p-new-t", "P new", ["P"], 1000)])]
    # Q: 12 albums, 2 singles (one in the week, 2 tracks): 2 calls.
    albums += [album(f"q-al{i}", "album", ["Q"], old, [(f"q-al{i}t", "x", ["Q"], 1000)]) for i in range(12)]
    albums += [album("q-old", "single", ["Q"], old, [("q-old-t", "x", ["Q"], 1000)]),
               album("q-new", "single", ["Q"], "2026-11-18", [("q-new-1", "Q1", ["Q"], 1000),
                                                             ("q-new-2", "Q2", ["Q"], 1000)])]
    # R1: 5 albums, 6 singles, 4 of them in the week: the 10th item is the first older single -> 1 call.
    albums += [album(f"r1-al{i}", "album", ["R1"], old, [(f"r1-al{i}t", "x", ["R1"], 1000)]) for i in range(5)]
    albums += [album(f"r1-si{i}", "single", ["R1"], old, [(f"r1-si{i}t", "x", ["R1"], 1000)]) for i in range(2)]
    albums += [album(f"r1-new{i}", "single", ["R1"], f"2026-11-{14 + i}", [(f"r1-new{i}t", f"R{i}", ["R1"], 1000)])
               for i in range(4)]
    # R2: 5 albums, 6 singles: 3 in the week, 2 in the current week, 1 older: the 10th is recent -> 2 calls.
    albums += [album(f"r2-al{i}", "album", ["R2"], old, [(f"r2-al{i}t", "x", ["R2"], 1000)]) for i in range(5)]
    albums += [album("r2-old", "single", ["R2"], old, [("r2-old-t", "x", ["R2"], 1000)])]
    albums += [album(f"r2-new{i}", "single", ["R2"], day, [(f"r2-new{i}t", f"S{i}", ["R2"], 1000)])
               for i, day in enumerate(["2026-11-15", "2026-11-16", "2026-11-17", "2026-11-21", "2026-11-23"])]
    # T: nothing of its own; on a 60-track album of Z1 in the week (track 55): appears_on 1 item.
    albums += [album("t-on", "album", ["Z1"], "2026-11-19",
                     [(f"t-on-{i}", f"Z{i}", ["Z1", "T"] if i == 55 else ["Z1"], 1000) for i in range(1, 61)])]
    # Y: 2 albums, 1 single (older); on 12 releases: 1 in the week (a 5-track album of Z2, track 1), 11 older.
    albums += [album(f"y-al{i}", "album", ["Y"], old, [(f"y-al{i}t", "x", ["Y"], 1000)]) for i in range(2)]
    albums += [album("y-si", "single", ["Y"], old, [("y-si-t", "x", ["Y"], 1000)])]
    albums += [album("y-on", "album", ["Z2"], "2026-11-19",
                     [(f"y-on-{i}", f"W{i}", ["Z2", "Y"] if i == 1 else ["Z2"], 1000) for i in range(1, 6)])]
    albums += [album(f"y-on-old{i}", "album", ["Z2"], old, [(f"y-on-old{i}t", "x", ["Z2", "Y"], 1000)])
               for i in range(11)]
    fillers = [f"F{i:02d}" for i in range(1, 50)]
    follows = {"u1": ["P", "Q", "R1", "T", "Y"],   # appears_on, first run
               "u2": ["Q", "R2"] + fillers,        # 51 follows, appears_on off, has a playlist
               "u3": ["P"]}                         # revoked
    cat = catalogue(albums, follows, ["P", "Q", "R1", "R2", "T", "Y", "Z1", "Z2"] + fillers)
    settings = {"appears_on": {"u1": True, "u2": False}, "first_time": ["u1"], "revoked": ["u3"]}

    # The weeks: u1 gets P's single (1 track), Q's (2), R1's four (4), T's appearance (1 track of 60), Y's
    # (1 track of 5): 8 releases, 9 tracks. u2 gets Q's (2) and R2's three of the week (3): 4 releases, 5.
    u1 = expected_week(cat, "u1", WEEK, appears_on=True)
    u2 = expected_week(cat, "u2", WEEK, appears_on=False)
    assert (u1["stats"]["releaseCount"], u1["stats"]["trackCount"]) == (8, 9)
    assert (u2["stats"]["releaseCount"], u2["stats"]["trackCount"]) == (4, 5)

    # Per user: token 3 (u3's refresh fails and it stops); follow pages u1 1 + u2 2 = 3; playlist: u1 creates
    # (1) and writes ceil(9/100) = 1; u2 replaces, max(1, ceil(5/100)) = 1: 1 create, 2 item writes.
    # Scans, album/single: P 1, Q 2, R1 1, T 1 (nothing: one empty answer), Y 1 (3 items), R2 2, 49 fillers
    # 1 each = 57. Extra groups, for u1's artists only (u2 scans without appears_on; u3 is not scanned):
    # "spec": P 1, Q 1, R1 1 (empty: one call answers for both), T 1 (1 item), Y 2 (12 appearances hide the
    # compilations: 1 each) = 6 -> 63 scans.
    # Releases: P's 1, Q's 1, R1's 4, T's 60-track album, Y's album, R2's 3 = 11 GET /v1/albums/{id}, plus 1
    # /tracks page for the 60-track album (tracks 51-60).
    # Total: 3 + 3 + 1 + 2 + 63 + 11 + 1 = 84.
    total, breakdown = request_floor(cat, ["u1", "u2", "u3"], WEEK, **settings)
    assert breakdown["byRoute"] == {
        "POST /api/token": 3, "GET /v1/me/following": 3, "GET /v1/artists/{id}/albums": 63,
        "GET /v1/albums/{id}": 11, "GET /v1/albums/{id}/tracks": 1, "POST /v1/me/playlists": 1,
        "PUT or POST /v1/playlists/{id}/items": 2}
    assert total == 84
    assert (breakdown["artistAlbumsAlbumSingle"], breakdown["artistAlbumsExtraGroups"]) == (57, 6)
    assert (breakdown["scannedArtists"], breakdown["oneCallArtists"], breakdown["extraGroupArtists"]) == (55, 53, 5)
    # "spec-per-group": 2 extra requests for each of u1's 5 artists: 10 -> 67 scans, 88 in all.
    assert request_floor(cat, ["u1", "u2", "u3"], WEEK, scan_model="spec-per-group", **settings)[0] == 88
    # "any": P, Q, T lose their extra call to a four-group call (P: 7 items then the end; Q: albums alone, then
    # single,appears_on,compilation = 2 items; T: 1 item); R1 cannot (11 items, the 11th proves) and Y neither
    # (album,single,appears_on in one, compilation apart): extra 0+0+1+0+1 = 2 -> 59 scans, 80 in all.
    assert request_floor(cat, ["u1", "u2", "u3"], WEEK, scan_model="any", **settings)[0] == 80
    # Everyone with appears_on: R2 and the fillers get their extra call too (R2: 1, fillers: 1 each = 50 more),
    # u2 then also gets nothing new (its artists appear on nothing): 84 + 50 = 134.
    assert request_floor(cat, ["u1", "u2", "u3"], WEEK, appears_on=True, first_time=["u1"], revoked=["u3"])[0] == 134


def test_playlist_writes_by_hand():
    # u follows one artist with nothing in the week; v gets 250 tracks (three 100-uri writes).
    albums = [album("big", "album", ["B"], "2026-11-20", [(f"b{i}", f"T{i}", ["B"], 1000) for i in range(250)])]
    cat = catalogue(albums, {"u": ["A"], "v": ["B"]}, ["A", "B"])

    def writes(user, **kwargs):
        route = request_floor(cat, [user], WEEK, **kwargs)[1]["byRoute"]
        return route["POST /v1/me/playlists"], route["PUT or POST /v1/playlists/{id}/items"]

    # An empty week: first time, the create alone (a new playlist is empty); afterwards one PUT empties it;
    # a lost playlist: the failed write, then the create.
    assert writes("u", first_time=True) == (1, 0)
    assert writes("u", first_time=False) == (0, 1)
    assert writes("u", first_time=False, lost_playlist=["u"]) == (1, 1)
    # 250 tracks: ceil(250/100) = 3 writes, after a create the first time; 1 more (the failed one) when lost.
    assert writes("v", first_time=True) == (1, 3)
    assert writes("v", first_time=False) == (0, 3)
    assert writes("v", first_time=False, lost_playlist=["v"]) == (1, 4)
    # 250 tracks: 1 GET /v1/albums/{id} + 4 more /tracks pages (51-100, ..., 201-250).
    assert request_floor(cat, ["v"], WEEK)[1]["byRoute"]["GET /v1/albums/{id}/tracks"] == 4
    # A user following nobody: the one following page that says so, no scan.
    nobody = catalogue([], {"n": []}, [])
    route = request_floor(nobody, ["n"], WEEK)[1]["byRoute"]
    assert (route["GET /v1/me/following"], route["GET /v1/artists/{id}/albums"]) == (1, 0)

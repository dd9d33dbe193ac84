"""Tests of what the weekly release-radar job's tests and benchmark need from the sandbox (SPEC §8.2,
§9, §12): the month-precision hard case and artist-album counts by include_groups.

Like test_sandbox.py, every test talks HTTP to a sandbox process started through its command line.
"""

from datetime import date, timedelta

import pytest

from test_sandbox import CatalogueView, ReferenceSchemas, iso_week_key, saturday_of, start_sandbox, stop_sandbox

NOW = "2026-11-27T12:00:00Z"  # a Friday: the complete week is Sat 14 - Fri 20 November 2026
ARTIST_ALBUMS = "GET /v1/artists/{id}/albums"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    sandbox = start_sandbox(tmp_path_factory.mktemp("sandbox"), "--now", NOW, "--seed", "1")
    yield sandbox
    assert stop_sandbox(sandbox) == 0


@pytest.fixture
def sb(server):
    yield server
    server.control("reset", {})
    server.forget_tokens()


@pytest.fixture(scope="module")
def cat(server):
    return CatalogueView(server.control("catalogue"), NOW)


@pytest.fixture(scope="module")
def schemas():
    return ReferenceSchemas()


# --------------------------------------------------------------------- month precision
def test_month_precision_hard_case_is_the_month_whose_first_is_in_a_recent_week(sb, cat, schemas):
    case = cat.doc["hardCases"]["monthPrecisionRelease"]
    # 2026-11-01 is a Sunday: it lies in the week Sat 31 October - Fri 6 November, ISO week 2026-44.
    assert case["releaseDate"] == "2026-11"
    assert (case["weekStart"], case["weekKey"]) == ("2026-10-31", "2026-44")
    assert iso_week_key(date(2026, 10, 31)) == "2026-44"
    album = cat.albums[case["albumId"]]
    assert cat.counts_in_week(album, date(2026, 10, 31))
    assert not cat.counts_in_week(album, cat.week_start)  # not in the hard-case week (14-20 November)
    assert not cat.counts_in_week(album, date(2026, 11, 7))
    year = cat.albums[cat.doc["hardCases"]["yearPrecisionRelease"]["albumId"]]
    assert not any(cat.counts_in_week(year, cat.week_start - timedelta(weeks=k)) for k in range(60))

    # Through the Web API: the artist's albums show the month-precision date as Spotify sends it.
    uid = cat.doc["hardCases"]["multiPageFollower"]["userId"]
    assert case["artistId"] in cat.follows[uid]
    answer = sb.get(f"/v1/artists/{case['artistId']}/albums?include_groups=album&limit=10", uid)
    schemas.check("/artists/{id}/albums", "GET", 200, answer.json)
    item = next(i for i in answer.json["items"] if i["id"] == case["albumId"])
    assert (item["release_date"], item["release_date_precision"]) == ("2026-11", "month")
    full = sb.get(f"/v1/albums/{case['albumId']}", uid).json
    assert (full["release_date"], full["release_date_precision"]) == ("2026-11", "month")


def test_week_of_a_month_precision_release_when_the_first_is_a_saturday_or_friday():
    assert saturday_of(date(2026, 8, 1)) == date(2026, 8, 1)  # a Saturday starts its own week
    assert saturday_of(date(2027, 1, 1)) == date(2026, 12, 26)  # a Friday ends the week
    assert iso_week_key(date(2026, 12, 26)) == "2026-52"
    assert iso_week_key(date(2027, 1, 2)) == "2026-53"  # ISO week-year of the Saturday, not its year


# ------------------------------------------------------------------------------ stats
def test_artist_album_calls_are_counted_by_include_groups(sb, cat):
    uid = cat.doc["hardCases"]["multiPageFollower"]["userId"]
    artist = cat.doc["hardCases"]["manyAlbumsArtist"]["artistId"]
    sb.get("/v1/me", uid)  # the token refresh and /v1/me are not artist-album calls
    sb.control("reset-stats", {})
    calls = {"album,single": 3, "single,album": 1, "album": 2, "single": 1, "appears_on": 1,
             "compilation": 1, "appears_on,compilation": 2, "COMPILATION, appears_on": 1}
    for groups, times in calls.items():
        for _ in range(times):
            assert sb.get(f"/v1/artists/{artist}/albums?include_groups={groups.replace(' ', '%20')}&limit=10",
                          uid).status == 200
    assert sb.get(f"/v1/artists/{artist}/albums?limit=10", uid).status == 200
    assert sb.get(f"/v1/artists/{artist}/albums?include_groups=&limit=10", uid).status == 200
    assert sb.get(f"/v1/artists/{artist}/albums?include_groups=bogus", uid).status == 400
    sb.configure(now="2026-11-27T12:10:00Z", rateLimit=1)  # a fresh 30 s window with room for one call
    statuses = [sb.get(f"/v1/artists/{artist}/albums?include_groups=single&limit=10", uid).status for _ in range(2)]
    assert statuses == [200, 429]  # a rejected call counts too, as in byRoute
    stats = sb.control("stats")
    assert stats["byIncludeGroups"] == {"album,single": 4, "album": 2, "single": 3, "appears_on": 1,
                                        "compilation": 1, "appears_on,compilation": 3, "(absent)": 2,
                                        "(invalid)": 1}
    assert sum(stats["byIncludeGroups"].values()) == stats["byRoute"][ARTIST_ALBUMS]
    assert sb.control("reset-stats", {})["byIncludeGroups"] == {}

"""Tests of what the weekly release-radar job's tests and benchmark need from the sandbox (SPEC §8.2,
§9, §12): the month-precision hard case, deleted and foreign playlists, album_group, and
artist-album counts by include_groups.

Like test_sandbox.py, every test talks HTTP to a sandbox process started through its command line.
"""

import base64
from datetime import date, timedelta

import pytest

from test_sandbox import (CatalogueView, ReferenceSchemas, error_shape, iso_week_key, saturday_of, start_sandbox,
                          stop_sandbox, users)

NOW = "2026-11-27T12:00:00Z"  # a Friday: the complete week is Sat 14 - Fri 20 November 2026
ARTIST_ALBUMS = "GET /v1/artists/{id}/albums"
JPEG = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 4 + b"\xff\xd9"


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


def write_calls(sb, playlist_id, token, uri):
    """The three playlist writes of the job, as (name, answer)."""
    return [
        ("PUT items", sb.call("PUT", f"/v1/playlists/{playlist_id}/items", {"uris": [uri]}, token=token)),
        ("POST items", sb.call("POST", f"/v1/playlists/{playlist_id}/items", {"uris": [uri]}, token=token)),
        ("PUT images", sb.call("PUT", f"/v1/playlists/{playlist_id}/images", base64.b64encode(JPEG),
                               {"Content-Type": "image/jpeg"}, token=token)),
    ]


def stored_playlist(sb, playlist_id):
    return next(p for p in sb.control("playlists")["playlists"] if p["id"] == playlist_id)


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


# ------------------------------------------------------------------------ playlists
def test_delete_playlists_makes_any_playlist_answer_404_to_writes(sb, cat):
    people = [u for u in users(sb) if not u["revoked"]]
    owner = people[0]
    token = sb.token(owner["id"])
    uri = cat.doc["albums"][0]["tracks"][0]["uri"]
    made = sb.call("POST", "/v1/me/playlists", {"name": "Xomify Weekly Release Radar", "public": True}, token=token)
    assert made.status == 201
    pid = made.json["id"]
    assert [a.status for _, a in write_calls(sb, pid, token, uri)] == [200, 201, 202]

    config = sb.configure(deletePlaylists=[pid])
    assert "deletePlaylists" not in config  # the answer is the config; deletions show on the playlists
    assert stored_playlist(sb, pid)["deleted"] is True
    for name, answer in write_calls(sb, pid, token, uri):
        assert error_shape(answer, 404)["message"] == "Resource not found", name
    assert pid not in [p["id"] for p in sb.call("GET", "/v1/me/playlists?limit=50", token=token).json["items"]]
    assert stored_playlist(sb, pid)["uris"] == [uri, uri]  # nothing written after the deletion
    sb.configure(deletePlaylists=[pid])  # deleting again changes nothing
    assert sb.call("POST", "/_sandbox/config", {"deletePlaylists": ["0000000000000000000000"]}).status == 400
    assert sb.call("POST", "/_sandbox/config", {"deletePlaylists": pid}).status == 400

    # The catalogue's deleted playlist (hard case) answers 404 to all three writes too.
    case = cat.doc["hardCases"]["deletedPlaylist"]
    listed = next(u for u in users(sb) if u["id"] == case["userId"])
    assert listed["deletedPlaylistId"] == case["playlistId"]
    for name, answer in write_calls(sb, case["playlistId"], sb.token(case["userId"]), uri):
        error_shape(answer, 404)


def test_writes_to_another_users_playlist_answer_403(sb, cat):
    people = [u for u in users(sb) if not u["revoked"]]
    owner, other = people[0], people[1]
    uri = cat.doc["albums"][0]["tracks"][0]["uri"]
    pid = sb.call("POST", "/v1/me/playlists", {"name": "Xomify Weekly Release Radar"},
                  token=sb.token(owner["id"])).json["id"]
    before = stored_playlist(sb, pid)
    for name, answer in write_calls(sb, pid, sb.token(other["id"]), uri):
        assert error_shape(answer, 403)["message"] == "You cannot modify a playlist you don't own.", name
    after = stored_playlist(sb, pid)
    assert (after["uris"], after["coverBytes"], after["snapshotId"]) == (before["uris"], None, before["snapshotId"])
    # Deleted wins over foreign: a deleted playlist is not found, whoever asks.
    sb.configure(deletePlaylists=[pid])
    for name, answer in write_calls(sb, pid, sb.token(other["id"]), uri):
        error_shape(answer, 404)


# ------------------------------------------------------------------------ album_group
def test_album_group_is_required_by_the_reference_and_always_sent(sb, cat, schemas):
    """The reference marks album_group deprecated but keeps it required on artist-album items, so
    the sandbox cannot leave it out and stay faithful (no --omit-album-group setting)."""
    schema = schemas.doc["components"]["schemas"]["ArtistDiscographyAlbumObject"]
    own = schema["allOf"][1]
    assert "album_group" in own["required"] and own["properties"]["album_group"]["deprecated"] is True
    body = sb.get(f"/v1/artists/{cat.doc['hardCases']['manyAlbumsArtist']['artistId']}/albums?limit=10",
                  cat.doc["hardCases"]["multiPageFollower"]["userId"]).json
    without = {**body, "items": [{k: v for k, v in i.items() if k != "album_group"} for i in body["items"]]}
    assert list(schemas.validator("/artists/{id}/albums", "GET", 200).iter_errors(without))
    assert all("album_group" in i for i in body["items"])
    assert sb.call("POST", "/_sandbox/config", {"omitAlbumGroup": True}).status == 400


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

"""Tests of what the weekly release-radar job's tests and benchmark need from the sandbox (SPEC §8.2,
§9, §12): the month-precision hard case, deleted and foreign playlists, artist-album counts by
include_groups, and a catalogue at benchmark scale (overlapping follows, weekly releases).

Like test_sandbox.py, every test talks HTTP to a sandbox process started through its command line.
"""

import base64
import collections
import re
import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import pytest

from test_sandbox import (CatalogueView, ReferenceSchemas, check_hard_cases, error_shape, iso_week_key,
                          saturday_of, start_sandbox, stop_sandbox, users)

NOW = "2026-11-27T12:00:00Z"  # a Friday: the complete week is Sat 14 - Fri 20 November 2026
ARTIST_ALBUMS = "GET /v1/artists/{id}/albums"
JPEG = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 4 + b"\xff\xd9"
SCALE = ("--users", "500", "--artists", "3000", "--follows-min", "50", "--follows-max", "300")


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


# ------------------------------------------------------------------------------ scale
@pytest.fixture(scope="module")
def big(tmp_path_factory):
    started = time.monotonic()
    sandbox = start_sandbox(tmp_path_factory.mktemp("big"), "--now", NOW, "--seed", "7", *SCALE)
    sandbox.startup_seconds = time.monotonic() - started
    yield sandbox
    assert stop_sandbox(sandbox) == 0


@pytest.fixture(scope="module")
def big_cat(big):
    started = time.monotonic()
    answer = big.call("GET", "/_sandbox/catalogue", timeout=30)
    big.catalogue_seconds = time.monotonic() - started
    assert answer.status == 200
    big.catalogue_bytes = len(answer.body)
    return CatalogueView(answer.json, NOW)


def test_scale_starts_quickly_and_serves_the_catalogue_quickly(big, big_cat):
    print(f"\n500 users, 3000 artists: started in {big.startup_seconds:.1f} s, catalogue "
          f"{big.catalogue_bytes / 1e6:.1f} MB in {big.catalogue_seconds:.2f} s", file=sys.stderr)
    assert big.startup_seconds < 20
    assert big.catalogue_seconds < 3
    started = time.monotonic()
    assert big.call("GET", "/_sandbox/catalogue", timeout=30).status == 200  # served from one cached copy
    assert time.monotonic() - started < 3
    doc = big_cat.doc
    assert len(doc["follows"]) == 500 and len(doc["artists"]) == 3001  # and Various Artists
    album = doc["albums"][0]
    assert set(album) == {"id", "name", "albumType", "artistIds", "releaseDate", "releaseDatePrecision",
                          "totalTracks", "tracks"}
    assert set(album["tracks"][0]) == {"id", "uri", "name", "artistIds", "durationMs"}
    assert all(a["totalTracks"] == len(a["tracks"]) for a in doc["albums"])


def test_scale_keeps_every_hard_case(big_cat):
    check_hard_cases(big_cat)


def test_scale_follows_overlap_with_a_popularity_skew(big_cat):
    follows = big_cat.follows
    first = big_cat.doc["hardCases"]["multiPageFollower"]["userId"]
    sizes = {uid: len(aids) for uid, aids in follows.items()}
    assert all(50 <= n <= 300 for n in sizes.values()) and sizes[first] > 50
    assert all(len(set(aids)) == len(aids) for aids in follows.values())
    assert statistics.mean(sizes.values()) > 120
    counts = collections.Counter(aid for aids in follows.values() for aid in aids)
    total = sum(sizes.values())
    assert len(counts) < total / 20  # distinct followed artists far fewer than follows
    # In the first 200 users alone too.
    some = list(follows)[:200]
    assert len({aid for uid in some for aid in follows[uid]}) < sum(sizes[uid] for uid in some) / 10
    ranked = [n for _, n in counts.most_common()]
    assert ranked[0] > 0.8 * len(follows)  # a popular artist followed by most users
    assert statistics.median(ranked) < 0.1 * len(follows)  # a long tail followed by few
    assert sum(ranked[:len(ranked) // 10]) > 0.3 * total
    # Nobody follows the least popular tenth (the compilation hard case relies on that).
    by_popularity = [a["id"] for a in big_cat.doc["artists"] if not a.get("variousArtists")]
    assert not set(by_popularity[-300:]) & set(counts)


def releases_in(cat, week_start):
    return [a for a in cat.doc["albums"] if cat.counts_in_week(a, week_start)]


def test_scale_releases_every_week_like_spotify(big_cat):
    cat = big_cat
    artists = [a["id"] for a in cat.doc["artists"] if not a.get("variousArtists")]
    for k in range(0, 8):
        week = cat.week_start - timedelta(weeks=k)
        found = releases_in(cat, week)
        releasing = {a["artistIds"][0] for a in found if a["artistIds"][0] in set(artists)}
        assert 0.05 <= len(releasing) / len(artists) <= 0.15, week
        kinds = collections.Counter(a["albumType"] for a in found)
        assert kinds["single"] > 1.5 * kinds["album"] > 0 and kinds["compilation"] > 0, (week, kinds)

    week = releases_in(cat, cat.week_start)
    # Albums of more than 50 tracks in the week, besides the hard case.
    long_ids = {a["id"] for a in week if a["totalTracks"] > 50}
    assert long_ids - {cat.doc["hardCases"]["longAlbum"]["albumId"]}
    # Features: followed artists appear on releases of artists that are not credited on the album.
    guests = {aid for a in week for t in a["tracks"] for aid in t["artistIds"] if aid not in a["artistIds"]}
    assert len(guests & cat.followed) >= 20
    assert any("(feat. " in t["name"] or "[with " in t["name"] for a in week for t in a["tracks"])
    # Artists with more than ten albums whose week single the combined call of ten cannot show.
    hidden = []
    for aid in {a["artistIds"][0] for a in week if a["albumType"] == "single"} & cat.followed:
        albums = [al for g, al in cat.discography(aid) if g == "album"]
        if len(albums) > 10 and not any(cat.counts_in_week(al, cat.week_start) for al in albums):
            hidden.append(aid)
    assert len(hidden) >= 3
    # Singles that come back on an album of the same week (a single and its album version), besides
    # the hard case; over eight weeks, some only match once "(feat. X)" is taken off the title.
    pairs = collections.Counter()
    for k in range(8):
        found = releases_in(cat, cat.week_start - timedelta(weeks=k))
        singles = collections.defaultdict(list)
        for single in (a for a in found if a["albumType"] == "single"):
            singles[tuple(single["artistIds"])].append(single["tracks"][0])
        for album in (a for a in found if a["albumType"] == "album"):
            for lead in singles[tuple(album["artistIds"])]:
                for track in album["tracks"]:
                    if base_title(track["name"]) == base_title(lead["name"]) and track["id"] != lead["id"]:
                        pairs["this week" if k == 0 else "earlier"] += 1
                        pairs["feat. dropped"] += track["name"] != lead["name"]
    assert pairs["this week"] >= 4 and pairs["earlier"] >= 20 and pairs["feat. dropped"] >= 1, pairs


def base_title(name):
    """SPEC §8.2's normalised title: case-folded, trimmed, a trailing (feat. …)/[with …] part removed."""
    text = name.strip().casefold()
    match = re.search(r"\s*[(\[](feat\.|ft\.|with)\s[^)\]]*[)\]]$", text)
    return (text[:match.start()] if match else text).strip()


def period_start(release_date):
    """The first day of a release date's period (its day, month or year)."""
    return date.fromisoformat((release_date + "-01-01")[:10])


def scan(big, uid, artist_id, groups, week_start):
    """One group of an artist's albums, newest first, pages of 10 until dates fall before the week."""
    found, url = [], f"/v1/artists/{artist_id}/albums?include_groups={groups}&limit=10"
    while url:
        page = big.get(url, uid).json
        found.extend(page["items"])
        if not page["items"] or period_start(page["items"][-1]["release_date"]) < week_start:
            break
        url = page["next"]
    return found


def test_scale_web_api_agrees_with_the_catalogue(big, big_cat, schemas):
    """What a job scans through the Web API matches what a test computes from the catalogue."""
    cat = big_cat
    uid = list(cat.follows)[3]
    week = cat.week_start
    checked = 0
    for artist_id in cat.follows[uid][:40]:
        expected = collections.defaultdict(set)
        for group, album in cat.discography(artist_id):
            if cat.counts_in_week(album, week):
                expected[group].add(album["id"])
        for group in ("album", "single", "appears_on", "compilation"):
            items = scan(big, uid, artist_id, group, week)
            seen = {i["id"] for i in items if cat.counts_in_week(cat.albums[i["id"]], week)}
            assert seen == expected[group], (artist_id, group)
            assert all(i["album_group"] == group for i in items)
            checked += len(seen)
        page = big.get(f"/v1/artists/{artist_id}/albums?include_groups=album,single&limit=10", uid).json
        schemas.check("/artists/{id}/albums", "GET", 200, page)
    assert checked >= 5
    # The week's long albums, features and compilations validate too, with every page of tracks.
    week = releases_in(cat, week)
    sample = [a for a in week if a["totalTracks"] > 50][:3] + [a for a in week if a["albumType"] == "compilation"][:2]
    sample += [a for a in week if any(len(t["artistIds"]) > 1 for t in a["tracks"])][:3]
    sample.append(cat.albums[cat.doc["hardCases"]["featureOnOthersRelease"]["albumId"]])
    for album in sample:
        full = big.get(f"/v1/albums/{album['id']}", uid)
        schemas.check("/albums/{id}", "GET", 200, full.json)
        tracks = full.json["tracks"]["items"]
        for offset in range(50, album["totalTracks"], 50):
            page = big.get(f"/v1/albums/{album['id']}/tracks?limit=50&offset={offset}", uid).json
            schemas.check("/albums/{id}/tracks", "GET", 200, page)
            tracks.extend(page["items"])
        assert [(t["id"], t["name"], t["duration_ms"], [a["id"] for a in t["artists"]]) for t in tracks] == \
            [(t["id"], t["name"], t["durationMs"], t["artistIds"]) for t in album["tracks"]]
    # A follower of 300 artists pages through six cursor pages.
    heavy = max(cat.follows, key=lambda u: len(cat.follows[u]))
    seen, url = [], "/v1/me/following?type=artist&limit=50"
    while url:
        answer = big.get(url, heavy).json
        schemas.check("/me/following", "GET", 200, answer)
        seen.extend(a["id"] for a in answer["artists"]["items"])
        url = answer["artists"].get("next")
    assert seen == cat.follows[heavy] and len(seen) > 250


def test_scale_catalogue_is_deterministic_per_seed_and_follow_range():
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from spotify_sandbox.catalogue import Catalogue
    from spotify_sandbox.clock import parse_iso8601
    from spotify_sandbox.control import catalogue_document

    now = parse_iso8601(NOW)
    one = catalogue_document(Catalogue(5, 40, 600, now, 50, 300))
    assert catalogue_document(Catalogue(5, 40, 600, now, 50, 300)) == one
    assert catalogue_document(Catalogue(5, 40, 600, now, 50, 200)) != one
    with pytest.raises(ValueError):
        Catalogue(5, 40, 600, now, 80, 50)

"""Tests of the Spotify sandbox, run through its real command line (SPEC §6, §9).

Every test talks HTTP to a sandbox process started on port 0. Hard cases are found by reading
the catalogue (never by hard-coded ids) and then checked through the Web API.
"""

import base64
import http.client
import json
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from openapi_schema_validator import OAS30Validator

HERE = Path(__file__).resolve().parent
SANDBOX = HERE / "sandbox.py"
REFERENCE = HERE / "reference" / "spotify-web-api.openapi.yml"
NOW = "2026-11-25T10:00:00Z"  # a Wednesday: the complete week is Sat 14 – Fri 20 November 2026
CLIENT = ("sandbox-client", "sandbox-secret")
GROUPS = ["album", "single", "appears_on", "compilation"]


# --------------------------------------------------------------------------- harness
class Answer:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    @property
    def json(self):
        return json.loads(self.body) if self.body else None


class Sandbox:
    def __init__(self, process, port, port_file):
        self.process = process
        self.port = port
        self.port_file = port_file
        self.base = f"http://127.0.0.1:{port}"
        self._tokens = {}

    def call(self, method, path, body=None, headers=None, token=None, timeout=10):
        url = path if path.startswith("http") else self.base + path
        headers = dict(headers or {})
        if token:
            headers["Authorization"] = f"Bearer {token}"
        data = body
        if isinstance(body, (dict, list)):
            data = json.dumps(body).encode()
            headers.setdefault("Content-Type", "application/json")
        elif isinstance(body, str):
            data = body.encode()
        request = urllib.request.Request(url, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return Answer(response.status, response.headers, response.read())
        except urllib.error.HTTPError as error:
            return Answer(error.code, error.headers, error.read())

    def control(self, path, body=None):
        answer = self.call("POST" if body is not None else "GET", "/_sandbox/" + path, body)
        assert answer.status == 200, answer.body
        return answer.json

    def configure(self, **changes):
        return self.control("config", changes)

    def token_request(self, form, client=CLIENT):
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        if client is not None:
            headers["Authorization"] = "Basic " + base64.b64encode(f"{client[0]}:{client[1]}".encode()).decode()
        return self.call("POST", "/api/token", body=form, headers=headers)

    def refresh(self, refresh_token):
        return self.token_request(f"grant_type=refresh_token&refresh_token={refresh_token}")

    def token(self, user_id):
        users = {u["id"]: u for u in self.control("users")["users"]}
        answer = self.refresh(users[user_id]["refreshToken"])
        assert answer.status == 200, answer.body
        return answer.json["access_token"]

    def get(self, path, user_id, **kwargs):
        return self.call("GET", path, token=self.token_for(user_id), **kwargs)

    def token_for(self, user_id):
        if user_id not in self._tokens:
            self._tokens[user_id] = self.token(user_id)
        return self._tokens[user_id]

    def forget_tokens(self):
        self._tokens.clear()


def start_sandbox(tmp_dir, *args):
    port_file = Path(tmp_dir) / f"port-{time.monotonic_ns()}"
    process = subprocess.Popen(
        [sys.executable, str(SANDBOX), "--port", "0", "--port-file", str(port_file), *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 20
    while not port_file.exists():
        if process.poll() is not None:
            raise RuntimeError(f"sandbox exited: {process.stderr.read().decode()}")
        if time.monotonic() > deadline:
            process.kill()
            raise RuntimeError("sandbox did not write its port file")
        time.sleep(0.02)
    return Sandbox(process, int(port_file.read_text().strip()), port_file)


def stop_sandbox(sandbox):
    sandbox.process.send_signal(signal.SIGTERM)
    code = sandbox.process.wait(timeout=10)
    sandbox.process.stdout.close()
    sandbox.process.stderr.close()
    return code


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    sandbox = start_sandbox(tmp_path_factory.mktemp("sandbox"), "--now", NOW, "--seed", "1")
    yield sandbox
    assert stop_sandbox(sandbox) == 0, "the sandbox must exit cleanly on SIGTERM"
    assert not sandbox.port_file.exists()


@pytest.fixture
def sb(server):
    """The module's sandbox, put back in its start state after each test."""
    yield server
    server.control("reset", {})
    server.forget_tokens()


@pytest.fixture(scope="module")
def catalogue(server):
    return server.control("catalogue")


@pytest.fixture(scope="module")
def cat(catalogue):
    return CatalogueView(catalogue, NOW)


class CatalogueView:
    """Derived facts about a /_sandbox/catalogue document."""

    def __init__(self, doc, now):
        self.doc = doc
        self.artists = {a["id"]: a for a in doc["artists"]}
        self.albums = {a["id"]: a for a in doc["albums"]}
        self.follows = doc["follows"]
        self.followed = {aid for aids in doc["follows"].values() for aid in aids}
        now = datetime.fromisoformat(now.replace("Z", "+00:00"))
        this_saturday = saturday_of(now.date())
        self.week_start = this_saturday - timedelta(days=7)
        self.week_end = this_saturday - timedelta(days=1)
        self.current_week_start = this_saturday
        self._discography = None

    def day(self, album):
        return date.fromisoformat(album["releaseDate"]) if album["releaseDatePrecision"] == "day" else None

    def in_week(self, album):
        day = self.day(album)
        return day is not None and self.week_start <= day <= self.week_end

    def counts_in_week(self, album, week_start):
        """SPEC §8.2: day precision inside the week; month precision only in the week holding the
        month's 1st; year precision never."""
        precision = album["releaseDatePrecision"]
        if precision == "day":
            return week_start <= date.fromisoformat(album["releaseDate"]) <= week_start + timedelta(days=6)
        if precision == "month":
            return saturday_of(date.fromisoformat(album["releaseDate"] + "-01")) == week_start
        return False

    def discography(self, artist_id):
        """(group, album) pairs of an artist as Spotify groups them (unordered)."""
        if self._discography is None:
            index = {}
            for album in self.doc["albums"]:
                for aid in album["artistIds"]:
                    index.setdefault(aid, []).append((album["albumType"], album))
                guests = {aid for t in album["tracks"] for aid in t["artistIds"]} - set(album["artistIds"])
                for aid in guests:
                    index.setdefault(aid, []).append(("appears_on", album))
            self._discography = index
        return list(self._discography.get(artist_id, []))

    def followers_of(self, artist_id):
        return [uid for uid, aids in self.follows.items() if artist_id in aids]


def saturday_of(day):
    """The Saturday starting the release-radar week (Saturday-Friday) that holds ``day``."""
    return day - timedelta(days=(day.weekday() - 5) % 7)


def iso_week_key(saturday):
    year, week, _ = saturday.isocalendar()
    return f"{year:04d}-{week:02d}"


# ------------------------------------------------------------------------ schemas
class ReferenceSchemas:
    def __init__(self):
        self.doc = yaml.load(REFERENCE.read_text(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        self._validators = {}

    def _resolve(self, node):
        while "$ref" in node:
            target = self.doc
            for part in node["$ref"].lstrip("#/").split("/"):
                target = target[part]
            node = target
        return node

    def validator(self, path, method, status):
        key = (path, method, status)
        if key not in self._validators:
            operation = self.doc["paths"][path][method.lower()]
            response = self._resolve(operation["responses"][str(status)])
            schema = response["content"]["application/json"]["schema"]
            root = {"allOf": [schema], "components": self.doc["components"]}
            self._validators[key] = OAS30Validator(root)
        return self._validators[key]

    def check(self, path, method, status, body):
        errors = sorted(self.validator(path, method, status).iter_errors(body), key=str)
        assert not errors, f"{method} {path} {status}: " + "; ".join(
            f"{list(e.absolute_path)}: {e.message}" for e in errors[:5])


@pytest.fixture(scope="module")
def schemas():
    return ReferenceSchemas()


def error_shape(answer, status):
    assert answer.status == status, (answer.status, answer.body)
    body = answer.json
    assert isinstance(body["error"], dict)
    assert body["error"]["status"] == status and isinstance(body["error"]["message"], str)
    return body["error"]


def users(sb):
    return sb.control("users")["users"]


def active_user(sb):
    return next(u for u in users(sb) if not u["revoked"] and "deletedPlaylistId" not in u)


def walk_offset_pages(sb, user_id, first_url):
    """Follows ``next`` links; returns all items and checks offsets and totals."""
    items, url, expected_offset, total = [], first_url, 0, None
    while url:
        answer = sb.get(url, user_id)
        assert answer.status == 200, answer.body
        page = answer.json
        assert page["offset"] == expected_offset
        total = page["total"] if total is None else total
        assert page["total"] == total
        items.extend(page["items"])
        expected_offset += len(page["items"])
        url = page["next"]
        assert url is None or url.startswith(sb.base)
    assert len(items) == total
    return items


# -------------------------------------------------------------------------- tests
def test_help_documents_every_option():
    out = subprocess.run([sys.executable, str(SANDBOX), "--help"], capture_output=True, text=True, timeout=20)
    assert out.returncode == 0
    for option in ("--host", "--port", "--port-file", "--seed", "--users", "--artists", "--follows-min",
                   "--follows-max", "--now", "--rate-limit", "--daily-quota"):
        assert option in out.stdout


def test_week_and_hard_cases_are_in_the_catalogue(cat):
    check_hard_cases(cat)


@pytest.mark.parametrize("seed, now, users_count, artists_count", [
    ("2", "2026-11-28T00:00:00Z", "3", "60"),  # a Saturday at midnight: the week ended just now
    ("3", "2026-11-08T18:30:00Z", "4", "70"),  # the week (Oct 31 - Nov 6) spans two months
    ("4", "2027-01-01T23:59:59Z", "8", "120"),  # a Friday just before the new year
])
def test_hard_cases_hold_for_other_seeds_dates_and_sizes(tmp_path, seed, now, users_count, artists_count):
    other = start_sandbox(tmp_path, "--seed", seed, "--now", now, "--users", users_count, "--artists", artists_count)
    try:
        view = CatalogueView(other.control("catalogue"), now)
        assert len(users(other)) == int(users_count)
        check_hard_cases(view)
    finally:
        assert stop_sandbox(other) == 0


def test_too_small_catalogues_are_refused():
    out = subprocess.run([sys.executable, str(SANDBOX), "--users", "2", "--port", "0"],
                         capture_output=True, text=True, timeout=20)
    assert out.returncode != 0 and "--users" in out.stderr


def check_hard_cases(cat):
    doc = cat.doc
    assert doc["week"] == {"start": cat.week_start.isoformat(), "end": cat.week_end.isoformat(),
                           "weekKey": iso_week_key(cat.week_start)}
    hard = doc["hardCases"]

    # Several followed artists release in the week; some also just before it and in the current week.
    week_artists = {aid for a in doc["albums"] if cat.in_week(a) for aid in a["artistIds"] if aid in cat.followed}
    assert len(week_artists) >= 5
    before = [a for a in doc["albums"] if cat.day(a) and cat.week_start - timedelta(days=14) <= cat.day(a) < cat.week_start
              and set(a["artistIds"]) & cat.followed]
    current = [a for a in doc["albums"] if cat.day(a) and cat.day(a) >= cat.current_week_start
               and set(a["artistIds"]) & cat.followed]
    assert before and current
    assert any(cat.day(a) == cat.week_start - timedelta(days=1) for a in before)
    assert any(cat.day(a) == cat.current_week_start for a in current)

    # An artist (followed) with more than ten albums, all older than the week, and a new single in it.
    many = [aid for aid in cat.followed
            if len([a for g, a in cat.discography(aid) if g == "album"]) > 10
            and all(cat.day(a) and cat.day(a) < cat.week_start for g, a in cat.discography(aid) if g == "album")
            and any(g == "single" and cat.in_week(a) for g, a in cat.discography(aid))]
    assert hard["manyAlbumsArtist"]["artistId"] in many

    # A month-precision release counts only in the week holding its month's 1st (SPEC §8.2): here a
    # month whose 1st is in one of the last eight complete weeks, by an artist the first user follows.
    case = hard["monthPrecisionRelease"]
    month = cat.albums[case["albumId"]]
    assert month["releaseDatePrecision"] == "month" and month["releaseDate"] == case["releaseDate"]
    first_user = hard["multiPageFollower"]["userId"]
    assert case["artistId"] in month["artistIds"] and case["artistId"] in cat.follows[first_user]
    first = date.fromisoformat(case["releaseDate"] + "-01")
    saturday = saturday_of(first)
    assert case["weekStart"] == saturday.isoformat() and case["weekKey"] == iso_week_key(saturday)
    assert cat.week_start - timedelta(weeks=7) <= saturday <= cat.week_start
    assert [k for k in range(-8, 9) if cat.counts_in_week(month, saturday + timedelta(weeks=k))] == [0]
    # A year-precision release of the week's year, which never counts.
    year = [a for a in doc["albums"] if a["releaseDatePrecision"] == "year"
            and a["releaseDate"] == str(cat.week_start.year) and set(a["artistIds"]) & cat.followed]
    assert hard["yearPrecisionRelease"]["albumId"] in {a["id"] for a in year}

    # A followed artist featured on an unfollowed artist's single in the week (appears_on): only its
    # first track credits the followed artist.
    case = hard["featureOnOthersRelease"]
    feature = cat.albums[case["albumId"]]
    assert cat.in_week(feature) and feature["albumType"] == "single"
    assert feature["artistIds"] == [case["primaryArtistId"]] and case["primaryArtistId"] not in cat.followed
    assert case["artistId"] in cat.follows[first_user]
    credited = [t["id"] for t in feature["tracks"] if case["artistId"] in t["artistIds"]]
    assert credited == [case["trackId"]] and len(feature["tracks"]) > 1
    assert ("appears_on", feature) in cat.discography(case["artistId"])

    # An album of more than 50 tracks in the week, by a followed artist.
    long_albums = [a for a in doc["albums"] if cat.in_week(a) and len(a["tracks"]) > 50
                   and set(a["artistIds"]) & cat.followed]
    assert hard["longAlbum"]["albumId"] in {a["id"] for a in long_albums}

    # One song as a single and on an album in the week: same title and primary artist, ±2 s, other ids.
    pairs = []
    for single in (a for a in doc["albums"] if a["albumType"] == "single" and cat.in_week(a)):
        for album in (a for a in doc["albums"] if a["albumType"] == "album" and cat.in_week(a)):
            for s in single["tracks"]:
                for t in album["tracks"]:
                    if (s["name"] == t["name"] and s["artistIds"][0] == t["artistIds"][0]
                            and abs(s["durationMs"] - t["durationMs"]) <= 2000 and s["id"] != t["id"]
                            and s["uri"] != t["uri"]):
                        pairs.append((single["id"], album["id"]))
    case = hard["singleAndAlbumVersion"]
    assert (case["singleId"], case["albumId"]) in pairs

    # An album credited to two artists that one user follows both of.
    duos = [a for a in doc["albums"] if cat.in_week(a) and len(a["artistIds"]) == 2
            and any(set(a["artistIds"]) <= set(aids) for aids in cat.follows.values())]
    assert hard["twoArtistAlbum"]["albumId"] in {a["id"] for a in duos}

    # A various-artists compilation in the week: exactly one track by a followed artist.
    comps = []
    for a in doc["albums"]:
        if a["albumType"] == "compilation" and cat.in_week(a) and \
                all(cat.artists[x].get("variousArtists") for x in a["artistIds"]):
            followed_tracks = [t for t in a["tracks"] if set(t["artistIds"]) & cat.followed]
            if len(followed_tracks) == 1 and len(a["tracks"]) > 1:
                comps.append(a["id"])
    assert hard["compilation"]["albumId"] in comps

    # A user whose follow list spans more than one page of 50.
    assert max(len(aids) for aids in cat.follows.values()) > 50

    # Genres: most artists have some (mixed case, stray whitespace), some none, some no key at all.
    artists = [a for a in doc["artists"] if not a.get("variousArtists")]
    assert sum(1 for a in artists if "genres" not in a) >= 3
    assert sum(1 for a in artists if a.get("genres") == []) >= 3
    all_genres = [g for a in artists for g in a.get("genres", [])]
    assert any(g != g.strip() for g in all_genres) and any(g != g.lower() for g in all_genres)


def test_revoked_user_and_deleted_playlist(sb):
    people = users(sb)
    revoked = [u for u in people if u["revoked"]]
    assert revoked
    answer = sb.refresh(revoked[0]["refreshToken"])
    assert answer.status == 400
    assert answer.json == {"error": "invalid_grant", "error_description": "Refresh token revoked"}

    owner = next(u for u in people if "deletedPlaylistId" in u)
    playlist_id = owner["deletedPlaylistId"]
    listed = sb.control(f"playlists?user={owner['id']}")["playlists"]
    assert any(p["id"] == playlist_id and p["deleted"] is True for p in listed)
    token = sb.token(owner["id"])
    some_uri = sb.control("catalogue")["albums"][0]["tracks"][0]["uri"]
    for method in ("PUT", "POST"):
        answer = sb.call(method, f"/v1/playlists/{playlist_id}/items", {"uris": [some_uri]}, token=token)
        error_shape(answer, 404)


def test_many_albums_artist_hides_its_new_single_behind_ten_albums(sb, cat):
    case = cat.doc["hardCases"]["manyAlbumsArtist"]
    uid = cat.followers_of(case["artistId"])[0]
    page = sb.get(f"/v1/artists/{case['artistId']}/albums?include_groups=album,single&limit=10", uid).json
    assert len(page["items"]) == 10
    assert all(item["album_group"] == "album" for item in page["items"])
    assert all(date.fromisoformat(item["release_date"]) < cat.week_start for item in page["items"])
    assert page["next"]
    everything = walk_offset_pages(sb, uid, f"/v1/artists/{case['artistId']}/albums?include_groups=album,single&limit=10")
    singles = [i for i in everything if i["album_group"] == "single"]
    assert case["newSingleId"] == singles[0]["id"]  # newest single first
    single_only = sb.get(f"/v1/artists/{case['artistId']}/albums?include_groups=single&limit=1", uid).json
    assert single_only["items"][0]["id"] == case["newSingleId"]


def test_artist_albums_are_grouped_and_ordered_like_spotify(sb, cat):
    uid = active_user(sb)["id"]
    # Artists with at least three different groups, plus the hard-case artists.
    candidates = [aid for aid in cat.artists if len({g for g, _ in cat.discography(aid)}) >= 3][:6]
    candidates.append(cat.doc["hardCases"]["manyAlbumsArtist"]["artistId"])
    candidates.append(cat.doc["hardCases"]["compilation"]["variousArtistsId"])
    for artist_id in candidates:
        items = walk_offset_pages(sb, uid, f"/v1/artists/{artist_id}/albums?limit=10")
        groups = [GROUPS.index(i["album_group"]) for i in items]
        assert groups == sorted(groups), "grouped album, single, appears_on, compilation"
        for group in set(groups):
            dates = [i["release_date"] for i in items if GROUPS.index(i["album_group"]) == group]
            assert dates == sorted(dates, reverse=True), "newest first within a group"
        expected = sorted((g, a["id"]) for g, a in cat.discography(artist_id))
        assert sorted((i["album_group"], i["id"]) for i in items) == expected
        for item in items:
            album = cat.albums[item["id"]]
            assert item["album_type"] == album["albumType"]
            assert item["release_date"] == album["releaseDate"]
            assert item["release_date_precision"] == album["releaseDatePrecision"]
            assert item["total_tracks"] == len(album["tracks"])
            assert [a["id"] for a in item["artists"]] == album["artistIds"]
    some = candidates[0]
    error_shape(sb.get(f"/v1/artists/{some}/albums?limit=11", uid), 400)
    error_shape(sb.get(f"/v1/artists/{some}/albums?limit=0", uid), 400)
    error_shape(sb.get(f"/v1/artists/{some}/albums?include_groups=bogus", uid), 400)
    assert sb.get(f"/v1/artists/{some}/albums", uid).json["limit"] == 5  # Spotify's default
    error_shape(sb.get("/v1/artists/0000000000000000000000/albums", uid), 404)


def test_gone_endpoints_answer_403_and_are_counted(sb, cat):
    uid = active_user(sb)["id"]
    token = sb.token(uid)
    album_id = next(iter(cat.albums))
    before = sb.control("stats")["gone"]
    calls = [
        ("GET", f"/v1/albums?ids={album_id}"),
        ("GET", f"/v1/artists?ids={next(iter(cat.artists))}"),
        ("GET", f"/v1/tracks?ids={cat.doc['albums'][0]['tracks'][0]['id']}"),
        ("POST", f"/v1/users/{uid}/playlists"),
        ("GET", "/v1/playlists/0000000000000000000000/tracks"),
        ("POST", "/v1/playlists/0000000000000000000000/tracks"),
        ("PUT", "/v1/playlists/0000000000000000000000/tracks"),
        ("DELETE", "/v1/playlists/0000000000000000000000/tracks"),
        ("GET", "/v1/browse/new-releases"),
    ]
    for method, path in calls:
        body = {"name": "x"} if method in ("POST", "PUT") else None
        error_shape(sb.call(method, path, body, token=token), 403)
    stats = sb.control("stats")
    assert stats["gone"] - before == len(calls)
    for key in ("GET /v1/albums", "GET /v1/artists", "GET /v1/tracks", "POST /v1/users/{id}/playlists",
                "GET /v1/playlists/{id}/tracks", "DELETE /v1/playlists/{id}/tracks", "GET /v1/browse/new-releases"):
        assert stats["byRoute"][key] >= 1
    error_shape(sb.call("GET", "/v1/no/such/endpoint", token=token), 404)


def test_cursor_and_offset_paging_is_complete_and_disjoint(sb, cat):
    uid = max(cat.follows, key=lambda u: len(cat.follows[u]))
    for limit in (50, 7):
        seen, url, pages = [], f"/v1/me/following?type=artist&limit={limit}", 0
        while url:
            page = sb.get(url, uid).json["artists"]
            assert page["total"] == len(cat.follows[uid]) and page["limit"] == limit
            seen.extend(a["id"] for a in page["items"])
            url = page.get("next")
            pages += 1
            if url:
                assert url.startswith(sb.base) and page["cursors"]["after"] == page["items"][-1]["id"]
        assert seen == cat.follows[uid] and len(set(seen)) == len(seen)
        assert pages == -(-len(seen) // limit)
    error_shape(sb.get("/v1/me/following?type=user", uid), 400)
    error_shape(sb.get("/v1/me/following?type=artist&limit=51", uid), 400)

    long_album = cat.albums[cat.doc["hardCases"]["longAlbum"]["albumId"]]
    full = sb.get(f"/v1/albums/{long_album['id']}", uid).json
    assert len(full["tracks"]["items"]) == 50 and full["tracks"]["next"] and full["tracks"]["total"] == len(long_album["tracks"])
    for limit in (50, 7):
        tracks = walk_offset_pages(sb, uid, f"/v1/albums/{long_album['id']}/tracks?limit={limit}")
        assert [t["id"] for t in tracks] == [t["id"] for t in long_album["tracks"]]
    error_shape(sb.get(f"/v1/albums/{long_album['id']}/tracks?limit=51", uid), 400)

    artist_id = cat.doc["hardCases"]["manyAlbumsArtist"]["artistId"]
    for limit in (10, 3):
        albums = walk_offset_pages(sb, uid, f"/v1/artists/{artist_id}/albums?include_groups=album,single&limit={limit}")
        ids = [a["id"] for a in albums]
        assert len(ids) == len(set(ids))
        assert set(ids) == {a["id"] for g, a in cat.discography(artist_id) if g in ("album", "single")}
    last = sb.get(f"/v1/artists/{artist_id}/albums?limit=10&offset=10", uid).json
    assert last["previous"] and "offset=0" in last["previous"]


def test_every_web_api_answer_validates_against_the_reference(sb, cat, schemas):
    uid = active_user(sb)["id"]
    token = sb.token(uid)

    def check(path_template, method, status, answer):
        assert answer.status == status, answer.body
        schemas.check(path_template, method, status, answer.json)

    check("/me", "GET", 200, sb.call("GET", "/v1/me", token=token))
    for kind in ("tracks", "artists"):
        for time_range in ("short_term", "medium_term", "long_term"):
            answer = sb.call("GET", f"/v1/me/top/{kind}?time_range={time_range}&limit=50", token=token)
            check(f"/me/top/{kind}", "GET", 200, answer)
    url = "/v1/me/following?type=artist&limit=50"
    while url:
        answer = sb.call("GET", url, token=token)
        check("/me/following", "GET", 200, answer)
        url = answer.json["artists"].get("next")
    hard = cat.doc["hardCases"]
    artist_ids = [hard["manyAlbumsArtist"]["artistId"], hard["compilation"]["variousArtistsId"],
                  hard["compilation"]["followedArtistId"], *cat.doc["follows"][uid][:5]]
    for artist_id in artist_ids:
        for offset in (0, 10):
            answer = sb.call("GET", f"/v1/artists/{artist_id}/albums?limit=10&offset={offset}", token=token)
            check("/artists/{id}/albums", "GET", 200, answer)
    album_ids = [hard[k]["albumId"] for k in ("longAlbum", "monthPrecisionRelease", "yearPrecisionRelease",
                                              "twoArtistAlbum", "compilation")]
    for album_id in album_ids:
        check("/albums/{id}", "GET", 200, sb.call("GET", f"/v1/albums/{album_id}", token=token))
        check("/albums/{id}/tracks", "GET", 200,
              sb.call("GET", f"/v1/albums/{album_id}/tracks?limit=50&offset=0", token=token))
    created = sb.call("POST", "/v1/me/playlists", {"name": "Schema check", "description": "d", "public": False},
                      token=token)
    check("/me/playlists", "POST", 201, created)
    uris = [t["uri"] for t in cat.doc["albums"][1]["tracks"]]
    pid = created.json["id"]
    check("/playlists/{playlist_id}/items", "PUT", 200,
          sb.call("PUT", f"/v1/playlists/{pid}/items", {"uris": uris}, token=token))
    check("/playlists/{playlist_id}/items", "POST", 201,
          sb.call("POST", f"/v1/playlists/{pid}/items", {"uris": uris}, token=token))
    # Error answers carry Spotify's error object too.
    schemas.check("/me", "GET", 401, sb.call("GET", "/v1/me").json)
    schemas.check("/albums", "GET", 403, sb.call("GET", "/v1/albums?ids=x", token=token).json)


def test_top_items_differ_per_range_and_reject_bad_parameters(sb, cat):
    uid = active_user(sb)["id"]
    top = cat.doc["top"][uid]
    lists = {}
    for kind in ("tracks", "artists"):
        for time_range in ("short_term", "medium_term", "long_term"):
            answer = sb.get(f"/v1/me/top/{kind}?time_range={time_range}&limit=50", uid).json
            ids = [i["id"] for i in answer["items"]]
            assert ids == top[kind][time_range][:50] and 1 <= len(ids) <= 50
            lists[(kind, time_range)] = ids
        assert len({tuple(lists[(kind, r)]) for r in ("short_term", "medium_term", "long_term")}) == 3
    page = sb.get("/v1/me/top/artists?time_range=long_term&limit=10&offset=10", uid).json
    assert [a["id"] for a in page["items"]] == top["artists"]["long_term"][10:20]
    assert sb.get("/v1/me/top/tracks", uid).json["limit"] == 20
    error_shape(sb.get("/v1/me/top/tracks?time_range=forever", uid), 400)
    error_shape(sb.get("/v1/me/top/tracks?limit=51", uid), 400)
    error_shape(sb.get("/v1/me/top/tracks?limit=0", uid), 400)
    error_shape(sb.get("/v1/me/top/albums", uid), 400)


def test_token_endpoint_checks_client_grant_and_rotates(sb):
    user = active_user(sb)
    good = f"grant_type=refresh_token&refresh_token={user['refreshToken']}"
    for client in (("sandbox-client", "wrong"), ("someone-else", "sandbox-secret"), None):
        answer = sb.token_request(good, client=client)
        assert answer.status == 400 and answer.json["error"] == "invalid_client"
    unknown = sb.refresh("AQ-not-a-token")
    assert unknown.status == 400 and unknown.json["error"] == "invalid_grant"
    assert sb.token_request("grant_type=password").status == 400

    answer = sb.refresh(user["refreshToken"])
    assert answer.status == 200
    grant = answer.json
    assert grant["token_type"] == "Bearer" and grant["expires_in"] == 3600 and grant["scope"]
    assert "refresh_token" not in grant
    assert sb.call("GET", "/v1/me", token=grant["access_token"]).json["id"] == user["id"]
    error = error_shape(sb.call("GET", "/v1/me", token="not-a-token"), 401)
    assert error["message"] == "Invalid access token"
    error_shape(sb.call("GET", "/v1/me"), 401)

    sb.configure(rotateRefreshTokens=True)
    rotated = sb.refresh(user["refreshToken"]).json
    assert rotated["refresh_token"] != user["refreshToken"]
    assert sb.refresh(user["refreshToken"]).json["error"] == "invalid_grant"
    listed = next(u for u in users(sb) if u["id"] == user["id"])
    assert listed["refreshToken"] == rotated["refresh_token"]
    assert sb.refresh(rotated["refresh_token"]).status == 200

    sb.configure(revoke=[user["id"]])
    assert sb.refresh(listed["refreshToken"]).status == 400
    assert next(u for u in users(sb) if u["id"] == user["id"])["revoked"] is True
    error_shape(sb.call("GET", "/v1/me", token=rotated["access_token"]), 401)


def test_rate_limit_answers_429_with_retry_after(sb):
    uid = active_user(sb)["id"]
    token = sb.token(uid)
    sb.configure(rateLimit=5)
    statuses = [sb.call("GET", "/v1/me", token=token).status for _ in range(8)]
    assert statuses == [200] * 5 + [429] * 3
    answer = sb.call("GET", "/v1/me", token=token)
    error = error_shape(answer, 429)
    assert "reason" not in error
    assert 1 <= int(answer.headers["Retry-After"]) <= 30
    assert sb.refresh(active_user(sb)["refreshToken"]).status == 200  # the accounts service is not limited
    stats = sb.control("stats")
    assert stats["status429"] == 4 and stats["quotaExceeded"] == 0
    assert stats["maxIn30s"] == 9 and stats["byRoute"]["POST /api/token"] >= 2
    sb.configure(now="2026-11-25T10:05:00Z")  # the window moves with the sandbox clock
    assert sb.call("GET", "/v1/me", token=sb.token(uid)).status == 200


def test_daily_quota_answers_quota_exceeded_until_the_clock_moves_a_day(sb):
    uid = active_user(sb)["id"]
    sb.configure(dailyQuota=3, now="2026-11-25T12:00:00Z")
    token = sb.token(uid)
    assert [sb.call("GET", "/v1/me", token=token).status for _ in range(3)] == [200] * 3
    answer = sb.call("GET", "/v1/me", token=token)
    assert answer.status == 429
    assert answer.json == {"error": {"status": 429, "message": "API rate limit exceeded", "reason": "QUOTA_EXCEEDED"}}
    assert 23 * 3600 < int(answer.headers["Retry-After"]) <= 24 * 3600 + 1
    sb.configure(now="2026-11-26T12:00:02Z")
    fresh = sb.token(uid)  # the old access token expired meanwhile
    assert sb.call("GET", "/v1/me", token=token).status == 401
    assert sb.call("GET", "/v1/me", token=fresh).status == 200
    stats = sb.control("stats")
    assert stats["quotaExceeded"] == 1 and stats["status429"] == 1


def test_catalogue_is_deterministic_per_seed(tmp_path, server):
    same = start_sandbox(tmp_path, "--now", NOW, "--seed", "1")
    other = start_sandbox(tmp_path, "--now", NOW, "--seed", "2")
    try:
        reference = server.call("GET", "/_sandbox/catalogue").body
        assert same.call("GET", "/_sandbox/catalogue").body == reference
        assert other.call("GET", "/_sandbox/catalogue").body != reference
        assert [u["id"] for u in users(same)] == [u["id"] for u in users(server)]
        assert [u["id"] for u in users(other)] != [u["id"] for u in users(server)]
    finally:
        assert stop_sandbox(same) == 0
        assert stop_sandbox(other) == 0


def test_my_playlists_lists_owned_playlists_newest_first(sb, schemas):
    owner = [u for u in users(sb) if not u["revoked"]][2]
    token = sb.token(owner["id"])
    made = [sb.call("POST", "/v1/me/playlists", {"name": f"List {i}", "public": False}, token=token).json["id"]
            for i in range(3)]
    answer = sb.call("GET", "/v1/me/playlists?limit=2", token=token)
    assert answer.status == 200
    schemas.check("/me/playlists", "GET", 200, answer.json)
    assert [p["id"] for p in answer.json["items"]] == made[::-1][:2]
    assert answer.json["next"]
    rest = sb.call("GET", "/v1/me/playlists?limit=2&offset=2", token=token).json
    assert made[0] in [p["id"] for p in rest["items"]]
    sb.configure(deletePlaylists=[made[2]])
    listed = [p["id"] for p in sb.call("GET", "/v1/me/playlists?limit=50", token=token).json["items"]]
    assert made[2] not in listed and made[1] in listed


def test_playlist_create_replace_append_cover_round_trip(sb, cat):
    people = [u for u in users(sb) if not u["revoked"]]
    owner, stranger = people[0], people[1]
    token = sb.token(owner["id"])
    uris = [t["uri"] for a in cat.doc["albums"] for t in a["tracks"]][:130]
    assert len(uris) == 130
    created = sb.call("POST", "/v1/me/playlists",
                      {"name": "Xomify November'26", "description": "Your Top 25 songs", "public": False}, token=token)
    assert created.status == 201
    playlist = created.json
    assert playlist["owner"]["id"] == owner["id"] and playlist["public"] is False
    pid = playlist["id"]

    def stored():
        found = [p for p in sb.control(f"playlists?user={owner['id']}")["playlists"] if p["id"] == pid]
        assert len(found) == 1
        return found[0]

    assert stored()["name"] == "Xomify November'26" and stored()["uris"] == [] and stored()["coverBytes"] is None
    assert sb.call("PUT", f"/v1/playlists/{pid}/items", {"uris": uris[:100]}, token=token).status == 200
    assert stored()["uris"] == uris[:100]
    assert sb.call("POST", f"/v1/playlists/{pid}/items", {"uris": uris[100:120]}, token=token).status == 201
    assert sb.call("POST", f"/v1/playlists/{pid}/items?uris={','.join(uris[120:125])}", token=token).status == 201
    assert stored()["uris"] == uris[:125]
    assert sb.call("PUT", f"/v1/playlists/{pid}/items", {"uris": uris[:3]}, token=token).status == 200
    assert stored()["uris"] == uris[:3]
    assert sb.call("PUT", f"/v1/playlists/{pid}/items", {"uris": []}, token=token).status == 200
    assert stored()["uris"] == []

    error_shape(sb.call("PUT", f"/v1/playlists/{pid}/items", {"uris": uris[:101]}, token=token), 400)
    error_shape(sb.call("POST", f"/v1/playlists/{pid}/items", {"uris": uris[:101]}, token=token), 400)
    error_shape(sb.call("POST", f"/v1/playlists/{pid}/items", {"uris": ["spotify:track:nope"]}, token=token), 400)
    error_shape(sb.call("PUT", f"/v1/playlists/{pid}/items", {"uris": uris[:2]}, token=sb.token(stranger["id"])), 403)
    error_shape(sb.call("PUT", "/v1/playlists/0000000000000000000000/items", {"uris": uris[:2]}, token=token), 404)

    jpeg = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 40 + b"\xff\xd9"
    cover_headers = {"Content-Type": "image/jpeg"}
    answer = sb.call("PUT", f"/v1/playlists/{pid}/images", base64.b64encode(jpeg), cover_headers, token=token)
    assert answer.status == 202 and answer.body == b""
    assert stored()["coverBytes"] == len(jpeg)
    too_big = base64.b64encode(b"\xff\xd8" + b"\0" * 200_000)  # 266,668 bytes of base64
    error_shape(sb.call("PUT", f"/v1/playlists/{pid}/images", too_big, cover_headers, token=token), 413)
    error_shape(sb.call("PUT", f"/v1/playlists/{pid}/images", b"not base64 !!", cover_headers, token=token), 400)
    png = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\0" * 100)
    error_shape(sb.call("PUT", f"/v1/playlists/{pid}/images", png, cover_headers, token=token), 400)
    assert stored()["coverBytes"] == len(jpeg)

    sb.configure(deletePlaylists=[pid])
    assert stored()["deleted"] is True
    error_shape(sb.call("PUT", f"/v1/playlists/{pid}/items", {"uris": uris[:2]}, token=token), 404)


def test_faults_latency_errors_and_drops(sb):
    uid = active_user(sb)["id"]
    token = sb.token(uid)
    sb.configure(errorRate=1.0)
    answer = sb.call("GET", "/v1/me", token=token)
    assert answer.status in (500, 502, 503) and answer.json["error"]["status"] == answer.status
    assert sb.refresh(active_user(sb)["refreshToken"]).status in (500, 502, 503)
    sb.configure(errorRate=0.0, dropRate=1.0)
    with pytest.raises((http.client.RemoteDisconnected, ConnectionError, urllib.error.URLError)):
        sb.call("GET", "/v1/me", token=token)
    sb.configure(dropRate=0.0, latencyMs=250)
    started = time.monotonic()
    assert sb.call("GET", "/v1/me", token=token).status == 200
    assert time.monotonic() - started >= 0.25
    stats = sb.control("stats")
    assert stats["faults"] == 3 and stats["dropped"] == 1
    sb.configure(latencyMs=0, errorRate=0.5)
    statuses = [sb.call("GET", "/v1/me", token=token).status for _ in range(40)]
    assert 5 <= sum(s >= 500 for s in statuses) <= 35


def test_control_rejects_unknown_config_keys_and_resets_stats(sb):
    answer = sb.call("POST", "/_sandbox/config", {"rateLimit": 5, "bogus": 1})
    assert answer.status == 400 and "bogus" in answer.json["error"]
    assert sb.control("config")["rateLimit"] == 0  # nothing applied
    assert sb.call("POST", "/_sandbox/config", {"errorRate": 2}).status == 400
    assert sb.call("POST", "/_sandbox/config", {"revoke": ["nobody"]}).status == 400
    sb.call("GET", "/v1/me")
    assert sb.control("stats")["total"] >= 1
    zero = sb.control("reset-stats", {})
    assert zero["total"] == 0 and zero["byRoute"] == {} and zero["maxIn30s"] == 0
    assert sb.call("GET", "/_sandbox/nothing").status == 404


def test_keep_alive_under_200_concurrent_connections(sb):
    uid = active_user(sb)["id"]
    token = sb.token(uid)
    album_id = sb.control("catalogue")["hardCases"]["longAlbum"]["albumId"]
    sb.control("reset-stats", {})
    failures, statuses = [], []
    barrier = threading.Barrier(200)

    def client():
        try:
            connection = http.client.HTTPConnection("127.0.0.1", sb.port, timeout=30)
            barrier.wait()
            for i in range(5):
                path = "/v1/me" if i % 2 else f"/v1/albums/{album_id}"
                connection.request("GET", path, headers={"Authorization": f"Bearer {token}"})
                response = connection.getresponse()
                response.read()
                statuses.append(response.status)
            connection.close()
        except Exception as error:  # noqa: BLE001 - collected and asserted below
            failures.append(repr(error))

    threads = [threading.Thread(target=client) for _ in range(200)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    elapsed = time.monotonic() - started
    # (No bound on how fast: speed belongs in the benchmarks. The joins above are a liveness bound.)
    assert not any(t.is_alive() for t in threads), "clients still running after 60 s"
    assert not failures, failures[:3]
    assert statuses.count(200) == 1000
    stats = sb.control("stats")
    assert stats["total"] == 1000
    # Every request fell in one rolling 30 s window when the whole run took less than 30 s (it takes a few);
    # otherwise the window holds fewer, which says nothing about keep-alive.
    if elapsed < 30:
        assert stats["maxIn30s"] == 1000, stats

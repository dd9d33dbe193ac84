"""Helpers of the API tests: users and tokens, the error envelope, rows written with psql exactly as the stores
write them, the week model of SPEC §5.3 computed independently, and raw HTTPS for what http.client refuses to
send."""

import base64
import datetime
import json
import os
import re
import secrets
import socket
import ssl
import time
import urllib.parse
import urllib.request
import uuid

from api_client import Api
from xomify_rig import make_jwt

TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")
JSON_CONTENT_TYPE = "application/json; charset=utf-8"
TIME_RANGES = ("short_term", "medium_term", "long_term")
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


# -- users and tokens -------------------------------------------------------------------------------

def unique_email(prefix="user"):
    return f"{prefix}-{uuid.uuid4().hex[:12]}@xomify.test"


def new_refresh_token():
    """Looks like Spotify's, and is long and unique enough for the secret scans to find it anywhere."""
    return "AQ" + secrets.token_urlsafe(60)


def user_api(rig, email, user_id="default", **claims):
    """An Api client holding a user token for `email` (user id `spotify-<hex>` unless given; None for none)."""
    if user_id == "default":
        user_id = "sp" + uuid.uuid4().hex[:20]
    now = int(time.time())
    payload = {"email": email, "iat": now, "exp": now + 3600}
    if user_id is not None:
        payload["userId"] = user_id
    payload.update(claims)
    api = Api(rig.https_port, token=make_jwt(rig.jwt_secret, payload))
    api.email = email
    api.user_id = user_id
    return api


def enrol(api, email=None, **fields):
    """Creates or updates the caller's user through POST /user/update with a fresh refresh token."""
    body = {"refreshToken": new_refresh_token()}
    if email:
        body["email"] = email
    body.update(fields)
    response = api.post("/user/update", body)
    assert response.status == 200, response
    return response.json()


def sandbox_access_token(rig, index):
    """An access token of the sandbox's user number `index`, got like a client does (refresh-token grant)."""
    user = rig.sandbox.get("/_sandbox/users")["users"][index]
    return user, spotify_refresh(rig, user["refreshToken"])["access_token"]


def spotify_refresh(rig, refresh_token):
    """The sandbox's token endpoint answer to a refresh with `refresh_token`, asked as the apps ask Spotify
    (`refresh_token` in it when the sandbox rotates tokens)."""
    request = urllib.request.Request(
        rig.sandbox.url + "/api/token",
        data=urllib.parse.urlencode({"grant_type": "refresh_token", "refresh_token": refresh_token}).encode(),
        headers={"Authorization": "Basic " + base64.b64encode(b"sandbox-client:sandbox-secret").decode(),
                 "Content-Type": "application/x-www-form-urlencoded"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def jwt_claims(token):
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


# -- the rig ----------------------------------------------------------------------------------------

def assert_serves_this_rig(rig):
    """The rig's HTTPS port answers for this rig's own pool, not for another system that holds the port. The
    rig picks a free port before nginx binds it; another test run on the machine can take it in between, and
    then this rig's nginx fails to bind while the port still answers: tests would talk to someone else's
    server and could pass (or fail) by accident. Found by comparing the workers /status names with ours."""
    status = Api(rig.https_port).get("/status")
    ours = sorted(rig.worker_pids())
    theirs = sorted(w["pid"] for w in status.json()["workers"]) if status.status == 200 else status
    assert theirs == ours, (f"port {rig.https_port} answers for another system (workers {theirs}, this rig's "
                            f"{ours}): a port taken by a concurrent run between the rig's choice and nginx's bind, "
                            f"or a worker lost; the pool's log ends:\n{log_tail(rig.pool_log)}\nnginx's error log "
                            f"ends:\n{log_tail(os.path.join(rig.directory, 'nginx-error.log'))}")


def log_tail(path, lines=30):
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-lines:])
    except OSError as error:
        return f"({error})"


# -- answers ----------------------------------------------------------------------------------------

def assert_common_headers(response):
    """SPEC §5: every answer but /ping carries these."""
    assert response.header("content-type") == JSON_CONTENT_TYPE, response.headers
    assert response.header("cache-control") == "private, no-cache", response.headers
    assert re.fullmatch(r"[0-9A-Za-z._-]{1,64}", response.header("x-request-id") or ""), response.headers


def assert_error(response, status, code, missing=None, unexpected=None, invalid=None, handler=None):
    """The error envelope of SPEC §5.2, with the fields named exactly when given."""
    assert response.status == status, response
    assert_common_headers(response)
    error = response.json()["error"]
    assert error["status"] == status and error["code"] == code, error
    assert error["requestId"] == response.header("x-request-id")
    assert isinstance(error["message"], str) and error["message"]
    if handler:
        assert error["handler"] == handler, error
    if missing is not None or unexpected is not None or invalid is not None:
        assert error["message"].startswith("Invalid User Input - "), error
        fields = error["fields"]
        assert sorted(fields["missing"]) == sorted(missing or []), fields
        assert sorted(fields["unexpected"]) == sorted(unexpected or []), fields
        assert sorted(fields["invalid"]) == sorted(invalid or []), fields
    if status == 401:
        assert response.header("www-authenticate") == 'Bearer error="invalid_token"'
    return error


def assert_not_modified(response, etag):
    assert response.status == 304, response
    assert response.body == b""
    assert response.header("etag") == etag
    assert response.header("x-request-id")
    assert response.header("cache-control") == "private, no-cache"


def strong_etag(response):
    tag = response.header("etag")
    assert tag and re.fullmatch(r'"[!#-~]+"', tag), response.headers  # strong: no W/ prefix
    return tag


def get_ok(api, path, **kwargs):
    """A GET of user data that must answer 200 with the common headers and a strong ETag."""
    response = api.get(path, **kwargs)
    assert response.status == 200, (path, response)
    assert_common_headers(response)
    strong_etag(response)
    return response


def ordered(body):
    """JSON with objects as lists of pairs, to check key order."""
    return json.loads(body, object_pairs_hook=lambda pairs: pairs)


# -- rows written with psql -------------------------------------------------------------------------

def sql_text(value):
    if value is None:
        return "NULL"
    return "'" + str(value).replace("'", "''") + "'"


def sql_array(values):
    return "ARRAY[" + ",".join(sql_text(v) for v in values) + "]::text[]" if values else "'{}'::text[]"


def api_timestamp(epoch):
    return datetime.datetime.fromtimestamp(epoch, datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


def render_wrap(email, month, songs, artists, genres, playlist_id, created_epoch):
    """The API JSON of a wrap, as Wrap.apiJSON renders it (genres: per range, (genre, score) pairs in order)."""
    def ranges(lists):
        return "{" + ",".join(f'"{r}":{json.dumps(lists[r])}' for r in TIME_RANGES) + "}"

    def genre_object(pairs):
        return "{" + ",".join(f"{json.dumps(g, ensure_ascii=False)}:{int(s)}" for g, s in pairs) + "}"

    return ("{" + f'"email":{json.dumps(email)},"monthKey":"{month}","topSongIds":{ranges(songs)},'
            f'"topArtistIds":{ranges(artists)},'
            '"topGenres":{' + ",".join(f'"{r}":{genre_object(genres[r])}' for r in TIME_RANGES) + "},"
            f'"playlistId":{json.dumps(playlist_id)},"createdAt":"{api_timestamp(created_epoch)}"' + "}")


def insert_wrap(rig, email, month, songs=None, artists=None, genres=None, playlist_id=None, created_epoch=None):
    """Writes a wrap row as WrapStore.save does (columns, pairs of genre scores, the rendered api_json, replacing
    the month's row). Revisions are left to the database's triggers (sql/0007), so every ETag test built on
    this also tests them. Returns the wrap as the API must answer it."""
    songs = songs or {r: [f"{r[:1]}song{i}{month}" for i in range(3)] for r in TIME_RANGES}
    artists = artists or {r: [f"{r[:1]}artist{i}" for i in range(2)] for r in TIME_RANGES}
    genres = genres or {r: [("pop", 9), ("rock", 4)] for r in TIME_RANGES}
    created_epoch = created_epoch if created_epoch is not None else int(time.time())
    api_json = render_wrap(email, month, songs, artists, genres, playlist_id, created_epoch)
    pairs = json.dumps({r: [[g, s] for g, s in genres[r]] for r in TIME_RANGES})
    rig.postgres.psql(f"""
        INSERT INTO wrapped_months AS w (email, month_key, short_term_track_ids, medium_term_track_ids,
            long_term_track_ids, short_term_artist_ids, medium_term_artist_ids, long_term_artist_ids,
            genre_scores, playlist_id, created_at, api_json)
        VALUES ({sql_text(email)}, {sql_text(month)}, {sql_array(songs['short_term'])}, {sql_array(songs['medium_term'])},
            {sql_array(songs['long_term'])}, {sql_array(artists['short_term'])}, {sql_array(artists['medium_term'])},
            {sql_array(artists['long_term'])}, {sql_text(pairs)}::jsonb, {sql_text(playlist_id)},
            to_timestamp({created_epoch}), {sql_text(api_json)})
        ON CONFLICT (email, month_key) DO UPDATE SET
            short_term_track_ids = EXCLUDED.short_term_track_ids, medium_term_track_ids = EXCLUDED.medium_term_track_ids,
            long_term_track_ids = EXCLUDED.long_term_track_ids, short_term_artist_ids = EXCLUDED.short_term_artist_ids,
            medium_term_artist_ids = EXCLUDED.medium_term_artist_ids, long_term_artist_ids = EXCLUDED.long_term_artist_ids,
            genre_scores = EXCLUDED.genre_scores, playlist_id = EXCLUDED.playlist_id, created_at = EXCLUDED.created_at,
            api_json = EXCLUDED.api_json;
        """)
    return json.loads(api_json)


def make_release(n, album_type="album"):
    return {"albumId": f"album{n}", "albumName": f"Album {n}", "albumType": album_type, "artistId": f"artist{n}",
            "artistName": f"Artist {n}", "releaseDate": "2026-01-05", "totalTracks": 10 + n,
            "imageUrl": f"https://i.scdn.co/image/{n}", "spotifyUrl": f"https://open.spotify.com/album/album{n}",
            "uri": f"spotify:album:album{n}"}


def insert_week(rig, email, saturday, releases=(), stats=None, playlist_id=None, created_epoch=None):
    """Writes a release radar week row (the schema's columns); the user's weeks revision is the database's
    trigger's to bump (sql/0007), as for the job's own writes. `saturday` is a datetime.date."""
    assert saturday.isoweekday() == 6
    stats = stats or {"artistCount": len(releases), "releaseCount": len(releases), "trackCount": 0,
                      "albumCount": 0, "singleCount": 0}
    created_epoch = created_epoch if created_epoch is not None else int(time.time())
    rig.postgres.psql(f"""
        INSERT INTO release_radar_weeks (email, week_key, start_date, end_date, releases, artist_count,
            release_count, track_count, album_count, single_count, playlist_id, created_at)
        VALUES ({sql_text(email)}, {sql_text(week_key(saturday))}, '{saturday}', '{saturday + datetime.timedelta(days=6)}',
            {sql_text(json.dumps(list(releases)))}::jsonb, {stats['artistCount']}, {stats['releaseCount']},
            {stats['trackCount']}, {stats['albumCount']}, {stats['singleCount']}, {sql_text(playlist_id)},
            to_timestamp({created_epoch}));
        """)


# -- the week model of SPEC §5.3, computed here independently of the server --------------------------

def week_start(day):
    """The Saturday starting the Saturday–Friday week that contains `day`."""
    return day - datetime.timedelta(days=(day.isoweekday() + 1) % 7)


def week_key(saturday):
    year, week, _ = saturday.isocalendar()
    return f"{year:04d}-{week:02d}"


def week_display(saturday):
    end = saturday + datetime.timedelta(days=6)
    if saturday.month == end.month:
        return f"{MONTHS[saturday.month - 1]} {saturday.day:02d} - {end.day:02d}, {end.year}"
    return f"{MONTHS[saturday.month - 1]} {saturday.day:02d} - {MONTHS[end.month - 1]} {end.day:02d}, {end.year}"


def utc_today():
    return datetime.datetime.now(datetime.timezone.utc).date()


# -- raw HTTPS --------------------------------------------------------------------------------------

def raw_https(port, request_bytes, timeout=10):
    """Sends bytes as they are over TLS (HTTP/1.1) and returns (status, headers dict, body)."""
    context = ssl._create_unverified_context()
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as plain:
        with context.wrap_socket(plain, server_hostname="localhost") as tls:
            tls.sendall(request_bytes)
            data = b""
            while True:
                chunk = tls.recv(65536)
                if not chunk:
                    break
                data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return status, headers, body

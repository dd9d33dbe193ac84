"""The existing apps against this backend, unchanged but for its address (SPEC §5, §10, §13;
/work/shared/reference/clients.md): the old web app, the old iOS app, and the later web and iOS apps, each as
a short sequence of the requests it makes (its token, its profile load and token update, the enrolment toggle,
the wrapped history, one month, one year, the release radar check and history), through the rig's nginx site
(which runs the production site's CORS allow-list, /dev prefix and preflight), with the browser's CORS
preflights for the web apps. Each step asserts what the app decodes: field names, types, the statuses it
branches on."""

import datetime
import time

import pytest

from api_client import Api
from api_helpers import (insert_week, insert_wrap, make_release, sandbox_access_token, spotify_refresh, utc_today,
                         week_start)
from xomify_rig import make_jwt

OLD_WEB = "https://xomify.com"
LATER_WEB = "https://xomify.xomware.com"
RANGES = ("short_term", "medium_term", "long_term")


@pytest.fixture(scope="module")
def compat_rig():
    """Legacy tokens allowed, as an operator runs while old builds remain (SPEC §13)."""
    from xomify_rig import Rig
    with Rig(settings={"XOMIFY_LEGACY_TOKENS": "allow"}) as rig:
        yield rig


def shared_token(rig):
    """The old apps' one token for every install: HS256 with the server secret, the jwt.io sample claims."""
    return make_jwt(rig.jwt_secret, {"sub": "1234567890", "name": "John Doe", "iat": 1516239022})


class App:
    """Requests as one app makes them: its base path, its Origin (web apps), its headers on every call."""

    def __init__(self, rig, token, origin=None, prefix=""):
        self.api = Api(rig.https_port, token=token)
        self.origin = origin
        self.prefix = prefix
        self.preflighted = set()

    def headers(self, extra=None):
        headers = {"Content-Type": "application/json"}  # every call, GETs included (clients.md)
        if self.origin:
            headers["Origin"] = self.origin
        headers.update(extra or {})
        return headers

    def preflight(self, method, path, extra_headers=()):
        """What a browser sends before a request with Authorization: nginx must allow it for the origin."""
        requested = ["authorization", "content-type", *extra_headers]
        answer = self.api.request("OPTIONS", self.prefix + path.split("?")[0], token=None, headers={
            "Origin": self.origin, "Access-Control-Request-Method": method,
            "Access-Control-Request-Headers": ",".join(requested)})
        assert answer.status == 204, (path, answer)
        assert answer.header("access-control-allow-origin") == self.origin
        assert method in answer.header("access-control-allow-methods")
        allowed = {h.strip().lower() for h in answer.header("access-control-allow-headers").split(",")}
        assert set(requested) <= allowed, (requested, allowed)

    def call(self, method, path, body=None, extra=None, token="default"):
        if self.origin and (method, path.split("?")[0]) not in self.preflighted:
            self.preflight(method, path, [h.lower() for h in (extra or {}) if h.lower().startswith("x-")])
            self.preflighted.add((method, path.split("?")[0]))
        answer = self.api.request(method, self.prefix + path, body=body, headers=self.headers(extra), token=token)
        if self.origin:
            assert answer.header("access-control-allow-origin") == self.origin, (path, answer.headers)
        return answer


def seed_history(rig, email):
    """Two wraps and a week, written as the jobs write them."""
    insert_wrap(rig, email, "2026-10", playlist_id="plOct")
    insert_wrap(rig, email, "2025-12", playlist_id="plDec")
    insert_week(rig, email, week_start(utc_today()) - datetime.timedelta(days=7),
                releases=[make_release(1), make_release(2, "single")])


def check_user(user, email=None):
    """The user object as the apps decode it."""
    assert isinstance(user["active"], bool) and isinstance(user["activeWrapped"], bool)
    assert isinstance(user["activeReleaseRadar"], bool)
    for key in ("email", "userId", "displayName", "avatar", "releaseRadarId", "tokenStatus", "createdAt", "updatedAt"):
        assert key in user, key
    assert "refreshToken" not in user
    if email:
        assert user["email"] == email


def check_wrapped_all(body, months):
    """The wrapped history as both apps decode it (the iOS app converts snake_case keys and needs the three flags
    as non-null booleans and integer genre scores)."""
    assert all(isinstance(body[k], bool) for k in ("active", "activeWrapped", "activeReleaseRadar"))
    assert [w["monthKey"] for w in body["wraps"]] == months
    for wrap in body["wraps"]:
        for key in ("topSongIds", "topArtistIds", "topGenres"):
            assert sorted(wrap[key]) == sorted(RANGES), key
        assert all(isinstance(i, str) for r in RANGES for i in wrap["topSongIds"][r])
        assert all(isinstance(v, int) and not isinstance(v, bool) for r in RANGES for v in wrap["topGenres"][r].values())


def check_radar(check, history, count):
    assert isinstance(check["hasHistory"], bool) and check["hasHistory"] is (count > 0)
    assert isinstance(check["currentWeek"], str) and isinstance(check["enrolled"], bool)
    assert history["count"] == count == len(history["weeks"])
    for week in history["weeks"]:
        assert isinstance(week["weekKey"], str) and isinstance(week["releases"], list)
        assert all(isinstance(v, int) for v in week["stats"].values())
        assert {"albumId", "albumName", "artistName", "releaseDate", "uri"} <= set(week["releases"][0])


def test_the_old_web_app(compat_rig):
    rig = compat_rig
    user, _ = sandbox_access_token(rig, 5)
    email = user["email"]  # the old app sends the Spotify profile's email as it got it
    app = App(rig, shared_token(rig), origin=OLD_WEB, prefix="/dev")
    # Profile load: 404 means a new user; then it posts the profile with the refresh token.
    assert app.call("GET", f"/user/user-table?email={email}").status == 404
    posted = app.call("POST", "/user/user-table", {"email": email, "userId": user["id"],
                                                    "displayName": user["displayName"],
                                                    "refreshToken": user["refreshToken"],
                                                    "avatar": "https://i.scdn.co/image/ab67"})
    assert posted.status == 200, posted
    check_user(posted.json(), email.lower())
    assert app.call("GET", f"/user/user-table?email={email}").json()["userId"] == user["id"]
    # The enrolment toggle: always both keys.
    toggled = app.call("POST", "/user/user-table", {"email": email, "wrappedEnrolled": True, "releaseRadarEnrolled": True})
    assert toggled.status == 200 and toggled.json()["activeWrapped"] is True and toggled.json()["activeReleaseRadar"] is True
    seed_history(rig, email.lower())
    # The wrapped page, one month, one year.
    check_wrapped_all(app.call("GET", f"/wrapped/data?email={email}").json(), ["2026-10", "2025-12"])
    month = app.call("GET", f"/wrapped/month?email={email}&monthKey=2026-10")
    assert month.status == 200 and month.json()["monthKey"] == "2026-10"
    year = app.call("GET", f"/wrapped/year?email={email}&year=2025")
    assert [w["monthKey"] for w in year.json()] == ["2025-12"]
    # The release radar page; with no history it posts a backfill and ignores a 404.
    check_radar(app.call("GET", f"/release-radar/check?email={email}").json(),
                app.call("GET", f"/release-radar/history?email={email}&limit=26").json(), 1)
    backfill = app.call("POST", "/release-radar/backfill", {"user": posted.json()})
    assert backfill.status == 404 and backfill.json()["error"]["code"] == "not_found"


def test_the_old_ios_app(compat_rig):
    rig = compat_rig
    user, _ = sandbox_access_token(rig, 6)
    email = user["email"]
    app = App(rig, shared_token(rig), prefix="/dev")  # a native app: no Origin, no preflight
    # After sign-in, and whenever Spotify rotates its refresh token: the app posts the token Spotify gave it (under
    # the shared token, a new one is stored once Spotify confirms it is this account's, SPEC §5.1).
    def post_profile(refresh_token):
        posted = app.call("POST", "/user/user-table", {"email": email, "userId": user["id"],
                                                        "displayName": user["displayName"], "refreshToken": refresh_token})
        assert posted.status == 200, posted
        check_user(posted.json(), email.lower())

    post_profile(user["refreshToken"])
    # The app refreshes with Spotify, which rotates the token, and posts the new one.
    rig.sandbox.post("/_sandbox/config", {"rotateRefreshTokens": True})
    try:
        rotated = spotify_refresh(rig, user["refreshToken"])["refresh_token"]
    finally:
        rig.sandbox.post("/_sandbox/config", {"rotateRefreshTokens": False})
    assert rotated != user["refreshToken"]
    post_profile(rotated)
    # The enrolment toggle with the old keys.
    toggled = app.call("POST", "/user/user-table", {"email": email, "activeWrapped": True, "activeReleaseRadar": False})
    assert toggled.json()["activeWrapped"] is True and toggled.json()["activeReleaseRadar"] is False
    seed_history(rig, email.lower())
    check_wrapped_all(app.call("GET", f"/wrapped/data?email={email}").json(), ["2026-10", "2025-12"])
    history = app.call("GET", f"/release-radar/history?email={email}&limit=12").json()
    assert history["count"] == 1 and all(isinstance(v, int) for v in history["weeks"][0]["stats"].values())


def test_the_later_web_app(compat_rig):
    rig = compat_rig
    user, access_token = sandbox_access_token(rig, 0)
    app = App(rig, None, origin=LATER_WEB)
    login = app.call("POST", "/auth/login", {"spotifyAccessToken": access_token}, token=None)
    assert login.status == 200, login
    token, expires = login.json()["token"], login.json()["expiresAt"]
    assert isinstance(token, str) and expires.endswith("Z")
    app.api.token = token
    updated = app.call("POST", "/user/update", {"displayName": user["displayName"], "refreshToken": user["refreshToken"],
                                                "avatar": None})
    assert updated.status == 200, updated
    email = updated.json()["email"]
    check_user(app.call("GET", "/user/data").json(), email)
    assert app.call("POST", "/user/update", {"wrappedEnrolled": True, "releaseRadarEnrolled": True}).status == 200
    seed_history(rig, email)
    # The profile has no email in development mode: the app appends email=undefined.
    check_wrapped_all(app.call("GET", "/wrapped/all?email=undefined").json(), ["2026-10", "2025-12"])
    assert app.call("GET", "/wrapped/month?email=undefined&monthKey=2026-10").json()["monthKey"] == "2026-10"
    assert [w["monthKey"] for w in app.call("GET", "/wrapped/year?email=undefined&year=2026").json()] == ["2026-10"]
    check_radar(app.call("GET", "/release-radar/check").json(), app.call("GET", "/release-radar/history?limit=26").json(), 1)
    # Its 401 retry: an expired token is refused; it logs in again and retries once, marked by a header the
    # preflight must allow.
    expired = make_jwt(rig.jwt_secret, {"email": email, "userId": user["id"], "iat": int(time.time()) - 9000,
                                        "exp": int(time.time()) - 3600})
    refused = app.call("GET", "/wrapped/all?email=undefined", token=expired)
    assert refused.status == 401 and refused.header("www-authenticate") == 'Bearer error="invalid_token"'
    relogin = app.call("POST", "/auth/login", {"spotifyAccessToken": access_token}, token=None)
    retried = app.call("GET", "/wrapped/all?email=undefined", extra={"X-Xomify-Auth-Retry": "1"},
                       token=relogin.json()["token"])
    assert retried.status == 200, retried


def test_the_later_ios_app(compat_rig):
    rig = compat_rig
    user, access_token = sandbox_access_token(rig, 1)
    app = App(rig, shared_token(rig))
    # A fresh install posts its profile with the shared token before it has its own: no email to name the user,
    # so a clear 400 the app moves past (never a 5xx).
    first = app.call("POST", "/user/update", {"displayName": user["displayName"], "refreshToken": user["refreshToken"],
                                              "avatar": None})
    assert first.status == 400 and first.json()["error"]["code"] == "invalid_input"
    login = app.call("POST", "/auth/login", {"spotifyAccessToken": access_token}, token=None)
    assert login.status == 200, login
    app.api.token = login.json()["token"]
    assert app.call("POST", "/user/update", {"displayName": user["displayName"], "refreshToken": user["refreshToken"],
                                             "avatar": None}).status == 200
    email = app.call("GET", "/user/data").json()["email"]
    seed_history(rig, email)
    check_wrapped_all(app.call("GET", "/wrapped/all").json(), ["2026-10", "2025-12"])
    assert app.call("POST", "/user/update", {"wrappedEnrolled": False, "releaseRadarEnrolled": True}).status == 200
    history = app.call("GET", "/release-radar/history?limit=12").json()
    assert history["count"] == 1


def test_a_preflight_from_an_origin_not_on_the_list_is_refused(compat_rig):
    answer = Api(compat_rig.https_port).request("OPTIONS", "/wrapped/all", token=None, headers={
        "Origin": "https://evil.example", "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "authorization,x-xomify-auth-retry"})
    assert answer.header("access-control-allow-origin") is None

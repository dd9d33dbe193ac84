"""The authorizer of SPEC §5.1 and POST /auth/login, through nginx against the real pool, PostgreSQL and the
Spotify sandbox."""

import base64
import hashlib
import hmac
import json
import re
import time
import urllib.parse

import pytest

from api_client import Api
from api_helpers import (assert_common_headers, assert_error, enrol, jwt_claims, new_refresh_token,
                         sandbox_access_token, unique_email, user_api)
from xomify_rig import make_jwt, wait_until

# One protected route of each handler, read-only, answering 200 for a caller without any data.
PROTECTED_GETS = ["/wrapped/data", "/wrapped/all", "/wrapped/year?year=2025", "/release-radar/history",
                  "/release-radar/check"]


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


NONE_HEADER = b64(b'{"alg":"none","typ":"JWT"}')


def signed(secret, header_bytes, payload_bytes):
    """A token over arbitrary header and payload bytes with a correct HS256 signature."""
    head, body = b64(header_bytes), b64(payload_bytes)
    signature = hmac.new(secret.encode(), f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{b64(signature)}"


def claims_for(email, **extra):
    now = int(time.time())
    claims = {"email": email, "userId": "spotify-auth", "iat": now, "exp": now + 3600}
    claims.update(extra)
    return claims


def bad_authorizations(rig):
    """Name → Authorization header value (None: no header) that must all be refused with 401."""
    secret = rig.jwt_secret
    email = "victim@xomify.test"
    now = int(time.time())
    good = make_jwt(secret, claims_for(email))
    head, body, signature = good.split(".")
    flipped = signature[:-4] + ("AAAA" if not signature.endswith("AAAA") else "BBBB")
    return {
        "no header": None,
        "empty header": "",
        "Bearer with nothing": "Bearer",
        "Bearer and spaces": "Bearer    ",
        "garbage": "Bearer garbage-that-is-not-a-token",
        "two segments": f"Bearer {head}.{body}",
        "four segments": f"Bearer {good}.{signature}",
        "empty signature": f"Bearer {head}.{body}.",
        "alg none, no signature": f"Bearer {NONE_HEADER}.{body}.",
        "alg none, any signature": f"Bearer {NONE_HEADER}.{body}.{signature}",
        "alg HS512": "Bearer " + make_jwt(secret, claims_for(email), {"alg": "HS512", "typ": "JWT"}),
        "alg RS256": "Bearer " + make_jwt(secret, claims_for(email), {"alg": "RS256", "typ": "JWT"}),
        "alg missing": "Bearer " + make_jwt(secret, claims_for(email), {"typ": "JWT"}),
        "header not base64url": f"Bearer ***.{body}.{signature}",
        "header not JSON": "Bearer " + signed(secret, b"not json", json.dumps(claims_for(email)).encode()),
        "payload not base64url": f"Bearer {head}.%%%.{signature}",
        "payload not JSON": "Bearer " + signed(secret, b'{"alg":"HS256"}', b"{nope"),
        "payload is a JSON array": "Bearer " + signed(secret, b'{"alg":"HS256"}', json.dumps([claims_for(email)]).encode()),
        "payload is a string": "Bearer " + signed(secret, b'{"alg":"HS256"}', b'"a@b.c"'),
        "wrong signature": f"Bearer {head}.{body}.{flipped}",
        "signed with another secret": "Bearer " + make_jwt("another-secret-of-at-least-32-bytes!!", claims_for(email)),
        "expired beyond the leeway": "Bearer " + make_jwt(secret, claims_for(email, iat=now - 7200, exp=now - 90)),
        "not yet valid beyond the leeway": "Bearer " + make_jwt(secret, claims_for(email, nbf=now + 120)),
        "exp not a number": "Bearer " + make_jwt(secret, claims_for(email, exp="tomorrow")),
        "user token without exp": "Bearer " + make_jwt(secret, {"email": email, "userId": "x", "iat": now}),
        "user token valid 8 days": "Bearer " + make_jwt(secret, claims_for(email, exp=now + 8 * 86400)),
        "email claim not a string": "Bearer " + make_jwt(secret, claims_for(["a@b.c"])),
        "email claim not an email": "Bearer " + make_jwt(secret, claims_for("not-an-email")),
        "email claim empty": "Bearer " + make_jwt(secret, claims_for("")),
        "legacy token (deny)": "Bearer " + make_jwt(secret, {"iat": now}),
        "basic scheme": "Basic " + base64.b64encode(b"user:password").decode(),
        # (nginx refuses header lines over 8 KB itself.)
        "token with a long tail": "Bearer " + good + "A" * 7000,
    }


def test_every_bad_token_is_refused_with_401_on_every_protected_route(rig):
    api = Api(rig.https_port)
    cases = bad_authorizations(rig)
    for name, value in cases.items():
        for path in PROTECTED_GETS + ["/user/data"]:
            headers = {} if value is None else {"Authorization": value}
            response = api.get(path, token=None, headers=headers)
            assert response.status == 401, (name, path, response)
            error = assert_error(response, 401, "invalid_token")
            # Neither the token nor its claims are echoed back.
            assert "victim" not in error["message"]
            if value and len(value) > 20:
                assert value.split(" ")[-1].encode() not in response.body
        # And on a POST, before the body is even looked at.
        response = api.post("/user/update", raw=b"{not json", token=None, headers=headers)
        assert_error(response, 401, "invalid_token")


def test_a_valid_token_is_accepted_with_or_without_bearer_and_in_any_case(rig):
    email = unique_email("bearer")
    token = rig.token(email)
    api = Api(rig.https_port)
    for value in [f"Bearer {token}", token, f"bearer {token}", f"BEARER   {token}  "]:
        response = api.get("/wrapped/data", token=None, headers={"Authorization": value})
        assert response.status == 200, (value[:12], response)
        assert_common_headers(response)


def test_expiry_and_not_before_have_sixty_seconds_leeway(rig):
    now = int(time.time())
    email = unique_email("leeway")
    api = Api(rig.https_port)
    inside = [claims_for(email, iat=now - 3600, exp=now - 30), claims_for(email, nbf=now + 30)]
    beyond = [claims_for(email, iat=now - 3600, exp=now - 75), claims_for(email, nbf=now + 75)]
    for claims in inside:
        assert api.get("/wrapped/data", token=make_jwt(rig.jwt_secret, claims)).status == 200, claims
    for claims in beyond:
        response = api.get("/wrapped/data", token=make_jwt(rig.jwt_secret, claims))
        assert_error(response, 401, "invalid_token")


def test_public_routes_need_no_token_and_ignore_a_bad_one(rig):
    api = Api(rig.https_port)
    for headers in [{}, {"Authorization": "Bearer garbage"}]:
        assert api.get("/ping", token=None, headers=headers).body == b"pong"
        assert api.get("/health", token=None, headers=headers).json() == {"status": "ok"}
        # /auth/login is public: a bad body is a 400, not a 401.
        response = api.post("/auth/login", {}, token=None, headers=headers)
        assert_error(response, 400, "invalid_input", missing=["spotifyAccessToken"])


def test_legacy_token_is_refused_by_default(rig):
    legacy = make_jwt(rig.jwt_secret, {"iat": int(time.time()), "scope": "xomify"})
    api = Api(rig.https_port, token=legacy)
    for path in ["/wrapped/data?email=old@xomify.test", "/user/data?email=old@xomify.test"]:
        error = assert_error(api.get(path), 401, "invalid_token")
        assert "legacy" in error["message"]


def test_user_token_for_a_cannot_act_for_b(rig):
    a = user_api(rig, unique_email("a"))
    b_email = unique_email("b")
    b = user_api(rig, b_email)
    enrol(b, displayName="B")
    before = b.get("/user/data").json()
    for path in [f"/wrapped/data?email={b_email}", f"/wrapped/all?email={b_email}",
                 f"/wrapped/month?email={b_email}&monthKey=2025-01", f"/wrapped/year?email={b_email}&year=2025",
                 f"/user/user-table?email={b_email}", f"/user/data?email={b_email}",
                 f"/release-radar/history?email={b_email}", f"/release-radar/check?email={b_email}"]:
        assert_error(a.get(path), 403, "forbidden")
    for path in ["/user/update", "/user/user-table"]:
        assert_error(a.post(path, {"email": b_email, "wrappedEnrolled": True}), 403, "forbidden")
        assert_error(a.post(path, {"email": b_email, "refreshToken": new_refresh_token()}), 403, "forbidden")
    for path in ["/wrapped/data", "/wrapped/update"]:
        assert_error(a.post(path, {"email": b_email, "refreshToken": new_refresh_token(), "active": True}),
                     403, "forbidden")
    # Nothing of B's changed.
    assert b.get("/user/data").json() == before


def test_an_admin_may_act_for_anyone(rig):
    admin = user_api(rig, "admin@xomify.test")
    b_email = unique_email("managed")
    assert_error(admin.get(f"/user/data?email={b_email}"), 404, "not_found")
    created = admin.post("/user/update", {"email": b_email, "userId": "managed-sp", "refreshToken": new_refresh_token()})
    assert created.status == 200, created
    assert created.json()["email"] == b_email and created.json()["userId"] == "managed-sp"
    assert admin.get(f"/user/data?email={b_email}").json()["email"] == b_email
    assert admin.post("/user/update", {"email": b_email, "releaseRadarEnrolled": True}).json()["activeReleaseRadar"]
    assert admin.get(f"/wrapped/data?email={b_email}").json()["activeReleaseRadar"] is True
    assert admin.get(f"/release-radar/check?email={b_email}").json()["enrolled"] is True
    assert admin.get(f"/wrapped/year?email={b_email}&year=2025").json() == []
    # A body's userId defaults to the token's only for the token's own user: an admin acting for someone else
    # must name it (the admin's Spotify id is not theirs).
    other = unique_email("managed-too")
    assert_error(admin.post("/user/update", {"email": other, "refreshToken": new_refresh_token()}), 400,
                 "invalid_input", missing=["userId"])
    assert_error(admin.post("/wrapped/data", {"email": other, "refreshToken": new_refresh_token(), "active": True}),
                 400, "invalid_input", missing=["userId"])
    own = admin.post("/user/update", {"email": "Admin@xomify.test", "refreshToken": new_refresh_token()})
    assert own.status == 200 and own.json()["userId"] == admin.user_id
    # The admin list compares emails case-insensitively too.
    shouting = user_api(rig, "ADMIN@Xomify.TEST")
    assert shouting.get(f"/user/data?email={b_email}").status == 200
    # The admin's own identity is still the default.
    assert admin.get("/user/data").json()["email"] == "admin@xomify.test"


def test_email_case_differences_are_the_same_user(rig):
    lower = unique_email("case")
    upper = lower.upper()
    mixed = lower.capitalize()
    api = user_api(rig, upper)
    created = enrol(api, email=mixed, displayName="Case")
    assert created["email"] == lower
    for path in [f"/user/data?email={lower}", f"/user/data?email={upper}", "/user/data"]:
        response = api.get(path)
        assert response.status == 200, (path, response)
        assert response.json()["email"] == lower
    other = user_api(rig, lower)
    assert other.get(f"/user/data?email={mixed}").json()["displayName"] == "Case"
    assert rig.postgres.psql(f"SELECT count(*) FROM users WHERE lower(email) = '{lower}'").strip() == "1"


@pytest.mark.parametrize("local", ["Zoë", "ΑΣ", "İstanbul", "ǅemal", "Straẞe", "Ωmega"])
def test_non_ascii_emails_fold_consistently(rig, local):
    """Case folding beyond ASCII: whatever the token's spelling, one user, one row, and never a 5xx."""
    suffix = unique_email("u")
    token_email = f"{local}.{suffix}"
    api = user_api(rig, token_email)
    created = enrol(api)
    stored = rig.postgres.psql(f"SELECT email FROM users WHERE spotify_user_id = '{api.user_id}'").strip()
    assert created["email"] == stored
    # Each spelling differs from the token's email only in case (all three lower-case to the same text), so it
    # is the caller's own email, not another's (SPEC §5.1: "different from the token's (case-insensitively)").
    for spelling in [token_email, token_email.upper(), token_email.lower()]:
        assert spelling.lower() == token_email.lower()
        response = api.get("/user/data?email=" + urllib.parse.quote(spelling))
        assert response.status == 200, (spelling, response)
        assert response.json()["email"] == stored
    assert api.get("/user/data").json()["email"] == stored


def test_legacy_tokens_when_allowed(make_rig):
    rig = make_rig(workers=1, threads=2, settings={"XOMIFY_LEGACY_TOKENS": "allow"})
    # A refresh token posted under the legacy token is stored only once Spotify confirms it is the account's
    # (test_legacy_takeover.py): a sandbox user's real one.
    owner = rig.sandbox.get("/_sandbox/users")["users"][0]
    legacy = make_jwt(rig.jwt_secret, {"iat": int(time.time()), "app": "xomify-ios"})
    api = Api(rig.https_port, token=legacy)
    email = unique_email("legacy")
    refused, served = [], []  # the requests made with the legacy token
    # The request's email is trusted; without one there is nobody to act for.
    refused.append(api.get("/wrapped/data"))
    assert_error(refused[-1], 400, "invalid_input", missing=["email"])
    # Under a legacy token the email names the user: "undefined" or nothing is no email, and an error.
    refused.append(api.get("/wrapped/data?email=undefined"))
    assert_error(refused[-1], 400, "invalid_input", invalid=["email"])
    refused.append(api.get("/wrapped/data?email="))
    assert_error(refused[-1], 400, "invalid_input", invalid=["email"])
    refused.append(api.post("/user/update", {"refreshToken": new_refresh_token(), "userId": "legacy-sp"}))
    assert_error(refused[-1], 400, "invalid_input", missing=["email"])
    # No userId claim to default to: the body must carry it.
    refused.append(api.post("/user/update", {"email": email, "refreshToken": new_refresh_token()}))
    assert_error(refused[-1], 400, "invalid_input", missing=["userId"])
    created = api.post("/wrapped/data", {"email": email, "userId": owner["id"], "refreshToken": owner["refreshToken"],
                                         "active": True})
    served.append(created)
    assert created.status == 200 and created.json() == "User Opted into Monthly Wrapped Success."
    data = api.get(f"/wrapped/data?email={email}")
    served.append(data)
    assert data.json() == {"active": True, "activeWrapped": True, "activeReleaseRadar": False, "wraps": []}
    user = api.get(f"/user/data?email={email}")
    served.append(user)
    assert user.json()["userId"] == owner["id"]
    # Still only with a valid signature.
    forged = make_jwt("not-the-secret-but-long-enough-to-be-one", {"iat": int(time.time())})
    forged_answer = api.get(f"/wrapped/data?email={email}", token=forged)
    assert_error(forged_answer, 401, "invalid_token")
    # User tokens keep their rules under the legacy policy.
    other = user_api(rig, unique_email("other")).get(f"/wrapped/data?email={email}")
    assert_error(other, 403, "forbidden")
    # Each legacy request is logged at warning level, without the token.
    logged = api.get(f"/user/data?email={email}")
    assert logged.status == 200, logged
    served.append(logged)

    def warnings():
        return [line for line in open(rig.pool_log, errors="replace") if "legacy shared token" in line]

    def logged_ids():
        return {match.group(1) for line in warnings() for match in [re.search(r"request_id=(\S+)", line)] if match}

    # Polled in the log (30 s is a liveness bound). Every request served under the legacy token has its warning
    # line; no other request has one. (Whether a request refused for its input, like the first three, is logged
    # too the SPEC leaves open: "each such request is logged".)
    served_ids = {response.header("x-request-id") for response in served}
    wait_until(lambda: served_ids <= logged_ids(), 30, what="a legacy warning for each request served")
    assert logged_ids() <= served_ids | {response.header("x-request-id") for response in refused}, warnings()
    assert forged_answer.header("x-request-id") not in logged_ids() and other.header("x-request-id") not in logged_ids()
    assert all("level=warning" in line for line in warnings()), warnings()
    text = open(rig.pool_log, errors="replace").read()
    assert legacy not in text and legacy.split(".")[2] not in text


def test_login_issues_a_user_token_for_a_sandbox_user(rig):
    user, access_token = sandbox_access_token(rig, 0)
    api = Api(rig.https_port)
    email = unique_email("login")
    started = int(time.time())
    response = api.post("/auth/login", {"spotifyAccessToken": access_token, "email": email.upper()}, token=None)
    assert response.status == 200, response
    assert_common_headers(response)
    assert response.header("etag") is None
    body = response.json()
    assert sorted(body) == ["expiresAt", "token"]
    claims = jwt_claims(body["token"])
    assert claims["email"] == email and claims["userId"] == user["id"]
    assert claims["exp"] - claims["iat"] == 7 * 86400
    assert started - 5 <= claims["iat"] <= time.time() + 5
    assert body["expiresAt"] == time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(claims["exp"]))
    # The token works on the API, and the user was created with the Spotify id.
    me = Api(rig.https_port, token=body["token"]).get("/user/data")
    assert me.status == 200, me
    assert me.json()["email"] == email and me.json()["userId"] == user["id"]
    assert me.json()["displayName"] == user["displayName"]
    assert me.json()["tokenStatus"] == "missing" and me.json()["active"] is False
    assert rig.postgres.psql(f"SELECT spotify_user_id FROM users WHERE email = '{email}'").strip() == user["id"]
    # Later logins find the user by Spotify id, with or without the email.
    again = api.post("/auth/login", {"spotifyAccessToken": access_token}, token=None)
    assert again.status == 200 and jwt_claims(again.json()["token"])["email"] == email
    again = api.post("/auth/login", {"spotifyAccessToken": access_token, "email": email}, token=None)
    assert again.status == 200 and jwt_claims(again.json()["token"])["email"] == email
    # The new token's userId is what a body's missing userId defaults to.
    api = Api(rig.https_port, token=again.json()["token"])
    assert api.post("/user/update", {"refreshToken": new_refresh_token()}).json()["userId"] == user["id"]


def test_a_first_login_without_any_email_registers_under_the_reserved_domain(rig):
    """SPEC §5.3: development-mode profiles carry no email and later clients send only the access token; the user
    is created as <spotify id, lower-cased>@spotify.invalid and then reads its own data through every route."""
    user, access_token = sandbox_access_token(rig, 4)
    api = Api(rig.https_port)
    response = api.post("/auth/login", {"spotifyAccessToken": access_token}, token=None)
    assert response.status == 200, response
    email = user["id"].lower() + "@spotify.invalid"
    claims = jwt_claims(response.json()["token"])
    assert claims["email"] == email and claims["userId"] == user["id"]
    me = Api(rig.https_port, token=response.json()["token"])
    assert me.get("/user/data").json()["email"] == email
    # The later web app's sequence: its token update (no email, no userId), enrolment, then every read, with the
    # email=undefined it appends when the profile has none, and with no email at all.
    updated = me.post("/user/update", {"displayName": user["displayName"], "refreshToken": user["refreshToken"],
                                       "avatar": None})
    assert updated.status == 200 and updated.json()["userId"] == user["id"] and updated.json()["tokenStatus"] == "ok"
    assert me.post("/user/update", {"wrappedEnrolled": True, "releaseRadarEnrolled": True}).status == 200
    for query in ("", "email=undefined", "email=", "email=null"):
        for path in ("/user/data", "/wrapped/all", "/wrapped/year?year=2026", "/release-radar/check",
                     "/release-radar/history?limit=26"):
            separator = "&" if "?" in path else "?"
            target = path + (separator + query if query else "")
            answer = me.get(target)
            assert answer.status == 200, (target, answer)
        month = me.get("/wrapped/month?monthKey=2026-10" + ("&" + query if query else ""))
        assert month.status == 404 and month.json()["error"]["code"] == "not_found", month
    # Another user's real email is still refused; a legacy (shared) token still needs a real email.
    assert_error(me.get("/wrapped/all?email=someone-else%40xomify.test"), 403, "forbidden")
    # Logging in again finds the same user by its Spotify id.
    again = api.post("/auth/login", {"spotifyAccessToken": access_token}, token=None)
    assert jwt_claims(again.json()["token"])["email"] == email


def test_login_never_holds_a_thread_waiting_on_spotify(make_rig):
    """A Spotify 429 is the client's to wait for (503 with Retry-After), and a Spotify that does not answer is a
    502 after a few seconds: a responder thread is never held for Spotify's Retry-After (which used to be up to
    ten minutes). The time bounds are liveness bounds, several times the 5 s the API allows itself."""
    rig = make_rig(workers=1, threads=2)
    user, access_token = sandbox_access_token(rig, 0)
    api = Api(rig.https_port, timeout=60)
    body = {"spotifyAccessToken": access_token, "email": unique_email("bounded")}
    assert api.post("/auth/login", body, token=None).status == 200
    rig.sandbox.post("/_sandbox/config", {"rateLimit": 1})  # the window already holds a request: the next is 429
    started = time.monotonic()
    limited = api.post("/auth/login", body, token=None)
    assert time.monotonic() - started < 20
    assert_error(limited, 503, "service_unavailable", handler="auth")
    assert 1 <= int(limited.header("retry-after")) <= 30
    rig.sandbox.post("/_sandbox/config", {"rateLimit": 0, "latencyMs": 30000})
    started = time.monotonic()
    slow = api.post("/auth/login", body, token=None)
    assert time.monotonic() - started < 20
    assert_error(slow, 502, "bad_gateway", handler="auth")
    rig.sandbox.post("/_sandbox/config", {"latencyMs": 0})
    # Both threads are free again: the pool answers at once.
    assert api.get("/ping").status == 200


def test_login_refuses_a_bad_access_token(rig):
    api = Api(rig.https_port)
    for token in ["not-a-spotify-token", "BQ" + "x" * 100]:
        response = api.post("/auth/login", {"spotifyAccessToken": token, "email": unique_email("bad")}, token=None)
        assert_error(response, 401, "invalid_token", handler="auth")


def test_login_conflicts_when_the_email_belongs_to_another_spotify_id(rig):
    api = Api(rig.https_port)
    # An email enrolled with another Spotify id (through the API).
    taken = unique_email("taken")
    someone_else = "someone-else-" + taken[6:14]
    enrol(user_api(rig, taken, user_id=someone_else))
    _, access_token = sandbox_access_token(rig, 1)
    assert_error(api.post("/auth/login", {"spotifyAccessToken": access_token, "email": taken}, token=None), 409,
                 "conflict", handler="auth")
    assert rig.postgres.psql(f"SELECT spotify_user_id FROM users WHERE email = '{taken}'").strip() == someone_else
    # The sandbox user logs in with a free email; later, the row with its Spotify id is who it is (SPEC §5.3:
    # "identity = the user row with that Spotify id, else the email given ..."), whatever email is asked for.
    own = unique_email("own")
    assert api.post("/auth/login", {"spotifyAccessToken": access_token, "email": own}, token=None).status == 200
    again = api.post("/auth/login", {"spotifyAccessToken": access_token, "email": unique_email("second")}, token=None)
    assert again.status == 200 and jwt_claims(again.json()["token"])["email"] == own
    # A user created without a Spotify id (by an admin, say) is claimed by the first login naming it.
    _, third_token = sandbox_access_token(rig, 2)
    unclaimed = unique_email("unclaimed")
    rig.postgres.psql(f"INSERT INTO users (email) VALUES ('{unclaimed}')")
    response = api.post("/auth/login", {"spotifyAccessToken": third_token, "email": unclaimed}, token=None)
    assert response.status == 200, response


def test_login_validates_its_body(rig):
    api = Api(rig.https_port)
    assert_error(api.post("/auth/login", {"spotifyAccessToken": 5}, token=None), 400, "invalid_input",
                 invalid=["spotifyAccessToken"])
    assert_error(api.post("/auth/login", {"spotifyAccessToken": "", "email": "x"}, token=None), 400, "invalid_input",
                 invalid=["spotifyAccessToken", "email"])
    assert_error(api.post("/auth/login", {"spotifyAccessToken": "t" * 4097}, token=None), 400, "invalid_input",
                 invalid=["spotifyAccessToken"])
    assert_error(api.post("/auth/login", {"spotifyAccessToken": "t", "userId": "x"}, token=None), 400,
                 "invalid_input", unexpected=["userId"])

"""Legacy-token mode without account takeover (issue 14, SPEC §5.1), through nginx against the real pool,
PostgreSQL and the Spotify sandbox.

The old clients' shared token is public (every old web bundle ships it) and names the user by the request's
`email`. With `XOMIFY_LEGACY_TOKENS=allow`, a token write under it (`POST /user/user-table` [`/user/update`],
`POST /wrapped/data` [`/wrapped/update`]) may not bind a row to another Spotify id (409), and a refresh token
other than the stored one is stored only once Spotify confirms it is that account's: a refresh with it works and
`GET /v1/me` names the row's Spotify id (else 403). A refused write changes nothing: not the row, not the
ciphertext's bytes, not the revision. The old apps keep working: a token posted again costs no Spotify request,
and a token Spotify rotated passes the check."""

import json
import os
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor

from api_client import Api
from api_helpers import assert_error, new_refresh_token, spotify_refresh, unique_email, user_api
from job_helpers import run_job as run_wrapped
from secret_scan import SCAN
from xomify_rig import bin_dir, make_jwt, wait_until

LEGACY = {"XOMIFY_LEGACY_TOKENS": "allow"}
TOKEN_WRITES = ["/user/user-table", "/user/update", "/wrapped/data", "/wrapped/update"]


def shared_token(rig):
    """The old apps' one token for every install, as test_client_compatibility.py makes it."""
    return make_jwt(rig.jwt_secret, {"sub": "1234567890", "name": "John Doe", "iat": 1516239022})


def legacy_api(rig):
    return Api(rig.https_port, token=shared_token(rig), timeout=60)


def sandbox_users(rig):
    """The sandbox's users that are not revoked, with their current refresh tokens."""
    return [u for u in rig.sandbox.get("/_sandbox/users")["users"] if not u["revoked"]]


def current_token(rig, user_id):
    """The refresh token the sandbox currently accepts for a user (registered with the secret scan)."""
    token = next(u for u in rig.sandbox.get("/_sandbox/users")["users"] if u["id"] == user_id)["refreshToken"]
    SCAN.add_refresh_tokens([token])
    return token


def requests_made(rig):
    return rig.sandbox.get("/_sandbox/stats")["total"]


def row(rig, email):
    """The whole users row as PostgreSQL has it (ciphertext bytes, revision and timestamps included), or None."""
    text = rig.postgres.psql(f"SELECT row_to_json(u)::text FROM users u WHERE email = '{email}'").strip()
    return json.loads(text) if text else None


def token_write(path, email, user_id, refresh_token, **extra):
    """The body an old app posts to a token-write route (`active` for the wrapped routes)."""
    body = {"email": email, "userId": user_id, "refreshToken": refresh_token}
    if path.startswith("/wrapped"):
        body["active"] = True
        extra.pop("displayName", None)  # the user routes' field only
    body.update(extra)
    return body


def enrolled_victim(rig, api, user, email=None):
    """The victim's row, made as the old web app makes it on its first profile load: email, Spotify id, display
    name and their real refresh token (confirmed with Spotify, since nothing is stored yet)."""
    email = email or unique_email("victim")
    posted = api.post("/user/user-table", {"email": email, "userId": user["id"], "displayName": user["displayName"],
                                           "refreshToken": user["refreshToken"]})
    assert posted.status == 200, posted
    assert posted.json()["userId"] == user["id"] and posted.json()["tokenStatus"] == "ok"
    assert api.post("/user/user-table", {"email": email, "wrappedEnrolled": True, "releaseRadarEnrolled": True}).status == 200
    return email


def assert_refused_and_unchanged(rig, response, status, code, email, before, requests_before, spotify_requests):
    """The error envelope, nothing changed in the row, and exactly the Spotify requests expected (0 for a rebinding,
    which needs no Spotify; 1 for a token Spotify refuses; 2 for a token that works for another account)."""
    assert_error(response, status, code)
    assert row(rig, email) == before
    assert requests_made(rig) - requests_before == spotify_requests, rig.sandbox.get("/_sandbox/stats")["byRoute"]


def legacy_warnings(rig):
    return [line for line in open(rig.pool_log, errors="replace") if "legacy shared token" in line]


def test_rebinding_a_row_to_another_spotify_id_is_refused_with_409(make_rig):
    rig = make_rig(workers=1, threads=2, settings=LEGACY)
    victim, attacker = sandbox_users(rig)[:2]
    api = legacy_api(rig)
    email = enrolled_victim(rig, api, victim)
    before = row(rig, email)
    for path in TOKEN_WRITES:
        # The attacker's own Spotify id with the attacker's real token: refused before any Spotify request.
        for body in (token_write(path, email, attacker["id"], attacker["refreshToken"]),
                     token_write(path, email, attacker["id"], attacker["refreshToken"], displayName="Mallory"),
                     token_write(path, email.upper(), attacker["id"], new_refresh_token())):
            requests_before = requests_made(rig)
            response = api.post(path, body)
            assert_refused_and_unchanged(rig, response, 409, "conflict", email, before, requests_before, 0)
    # The refusals are warnings an operator sees with the other legacy lines, without any token.
    wait_until(lambda: any("write refused" in line and email in line for line in legacy_warnings(rig)), 30,
               what="a warning for the refused write")
    assert all("level=warning" in line for line in legacy_warnings(rig))
    text = open(rig.pool_log, errors="replace").read()
    assert attacker["refreshToken"] not in text and victim["refreshToken"] not in text
    # The victim's row is still theirs: their own profile load goes on working.
    again = api.post("/user/user-table", {"email": email, "userId": victim["id"], "refreshToken": victim["refreshToken"]})
    assert again.status == 200 and again.json()["userId"] == victim["id"]


def test_planting_another_accounts_valid_refresh_token_is_refused_with_403(make_rig):
    """The body names the victim's own Spotify id (so no rebinding) but carries the attacker's working token: the
    refresh works, and /v1/me names the attacker, not the row's id."""
    rig = make_rig(workers=1, threads=2, settings=LEGACY)
    victim, attacker = sandbox_users(rig)[:2]
    api = legacy_api(rig)
    email = enrolled_victim(rig, api, victim)
    before = row(rig, email)
    for path in TOKEN_WRITES:
        requests_before = requests_made(rig)
        response = api.post(path, token_write(path, email, victim["id"], attacker["refreshToken"], displayName="x"))
        assert_refused_and_unchanged(rig, response, 403, "forbidden", email, before, requests_before, 2)
    # Not on a new row either: a row made for the victim's Spotify id needs the victim's token.
    fresh = unique_email("fresh")
    requests_before = requests_made(rig)
    response = api.post("/wrapped/data", token_write("/wrapped/data", fresh, victim["id"] + "-new", attacker["refreshToken"]))
    assert_refused_and_unchanged(rig, response, 403, "forbidden", fresh, None, requests_before, 2)


def test_a_garbage_refresh_token_is_refused_with_403(make_rig):
    rig = make_rig(workers=1, threads=2, settings=LEGACY)
    victim = sandbox_users(rig)[0]
    api = legacy_api(rig)
    email = enrolled_victim(rig, api, victim)
    before = row(rig, email)
    for path in TOKEN_WRITES:
        for garbage in (new_refresh_token(), "x", victim["refreshToken"][:-3] + "abc"):
            requests_before = requests_made(rig)
            response = api.post(path, token_write(path, email, victim["id"], garbage))
            assert_refused_and_unchanged(rig, response, 403, "forbidden", email, before, requests_before, 1)
    # And no row is made for a new email with one.
    fresh = unique_email("garbage")
    requests_before = requests_made(rig)
    response = api.post("/user/update", token_write("/user/update", fresh, "someone", new_refresh_token()))
    assert_refused_and_unchanged(rig, response, 403, "forbidden", fresh, None, requests_before, 1)


def test_a_revoked_refresh_token_is_refused_with_403(make_rig):
    rig = make_rig(workers=1, threads=2, settings=LEGACY)
    victim, other = sandbox_users(rig)[:2]
    api = legacy_api(rig)
    email = enrolled_victim(rig, api, victim)
    # The victim signs in again (a new token, stored once confirmed): the token they had before is revoked.
    old_token = victim["refreshToken"]
    rig.sandbox.post("/_sandbox/config", {"reauthorize": [victim["id"]]})
    new_token = current_token(rig, victim["id"])
    assert new_token != old_token
    assert api.post("/user/update", token_write("/user/update", email, victim["id"], new_token)).status == 200
    before = row(rig, email)
    for path in TOKEN_WRITES:
        requests_before = requests_made(rig)
        response = api.post(path, token_write(path, email, victim["id"], old_token))
        assert_refused_and_unchanged(rig, response, 403, "forbidden", email, before, requests_before, 1)
    # An account Spotify revoked altogether: its token creates nothing.
    rig.sandbox.post("/_sandbox/config", {"revoke": [other["id"]]})
    fresh = unique_email("revoked")
    requests_before = requests_made(rig)
    response = api.post("/user/user-table", token_write("/user/user-table", fresh, other["id"], other["refreshToken"]))
    assert_refused_and_unchanged(rig, response, 403, "forbidden", fresh, None, requests_before, 1)
    # A user the jobs marked needs_reauth stays so until Spotify confirms a token.
    rig.postgres.psql(f"UPDATE users SET token_state = 'needs_reauth', token_state_reason = 'invalid_grant', "
                      f"token_state_at = now(), refresh_token_ciphertext = NULL WHERE email = '{email}'")
    before = row(rig, email)
    requests_before = requests_made(rig)
    response = api.post("/user/user-table", token_write("/user/user-table", email, victim["id"], old_token))
    assert_refused_and_unchanged(rig, response, 403, "forbidden", email, before, requests_before, 1)
    healed = api.post("/user/user-table", token_write("/user/user-table", email, victim["id"], new_token))
    assert healed.status == 200 and healed.json()["tokenStatus"] == "ok"


def test_a_genuinely_rotated_token_is_accepted_and_the_token_the_check_got_is_stored(make_rig):
    """The old iOS app posts the token Spotify rotated to. The check's own refresh rotates it again (the sandbox
    then kills the posted one at once): the token it got is the one stored, and the jobs work with it."""
    rig = make_rig(workers=1, threads=2, settings=LEGACY)
    victim = sandbox_users(rig)[0]
    api = legacy_api(rig)
    email = enrolled_victim(rig, api, victim)
    rig.sandbox.post("/_sandbox/config", {"rotateRefreshTokens": True})
    # The app's own refresh with Spotify: a new token, the old one dead.
    posted_token = spotify_refresh(rig, victim["refreshToken"])["refresh_token"]
    SCAN.add_refresh_tokens([posted_token])
    assert posted_token != victim["refreshToken"]
    before = row(rig, email)
    requests_before = requests_made(rig)
    response = api.post("/user/user-table", {"email": email, "userId": victim["id"], "displayName": "Renamed",
                                             "refreshToken": posted_token})
    assert response.status == 200, response
    assert response.json()["displayName"] == "Renamed" and response.json()["tokenStatus"] == "ok"
    assert requests_made(rig) - requests_before == 2  # the refresh and GET /v1/me
    after = row(rig, email)
    assert after["refresh_token_ciphertext"] != before["refresh_token_ciphertext"]
    assert int(after["revision"]) > int(before["revision"])
    # What is stored is what Spotify now accepts, not the posted token (dead since the check's refresh): posting
    # it needs no Spotify request (it is the stored one) ...
    stored = current_token(rig, victim["id"])
    assert stored != posted_token
    requests_before = requests_made(rig)
    assert api.post("/wrapped/data", token_write("/wrapped/data", email, victim["id"], stored)).status == 200
    assert requests_made(rig) == requests_before
    # ... while the posted one is now refused, changing nothing ...
    before = row(rig, email)
    requests_before = requests_made(rig)
    response = api.post("/user/user-table", token_write("/user/user-table", email, victim["id"], posted_token))
    assert_refused_and_unchanged(rig, response, 403, "forbidden", email, before, requests_before, 1)
    # ... and the wrapped job refreshes with the stored token.
    rig.sandbox.post("/_sandbox/config", {"rotateRefreshTokens": False})
    result = run_wrapped(rig, "--user", email, "--period", "2026-10")
    assert result.returncode == 0, result.stderr[-2000:]
    assert rig.postgres.psql(f"SELECT token_state FROM users WHERE email = '{email}'").strip() == "ok"
    assert rig.postgres.psql(f"SELECT count(*) FROM wrapped_months WHERE email = '{email}'").strip() == "1"


def test_the_old_web_apps_profile_loads_cost_no_spotify_request(make_rig):
    """Every profile load of the old web app posts the same refresh token: it is the stored one (compared by the
    store after decrypting), so no Spotify request is made, whatever route and however often."""
    rig = make_rig(workers=1, threads=2, settings=LEGACY)
    victim = sandbox_users(rig)[0]
    api = legacy_api(rig)
    email = enrolled_victim(rig, api, victim)
    rig.sandbox.post("/_sandbox/reset-stats")
    for load in range(3):
        assert api.get(f"/user/user-table?email={email}").status == 200
        posted = api.post("/user/user-table", {"email": email, "userId": victim["id"], "displayName": victim["displayName"],
                                               "refreshToken": victim["refreshToken"],
                                               "avatar": f"https://i.scdn.co/image/ab{load}"})
        assert posted.status == 200, posted
        assert posted.json()["avatar"] == f"https://i.scdn.co/image/ab{load}"
    for path in TOKEN_WRITES:
        assert api.post(path, token_write(path, email, victim["id"], victim["refreshToken"])).status == 200
    assert requests_made(rig) == 0, rig.sandbox.get("/_sandbox/stats")["byRoute"]


def test_a_new_user_under_the_legacy_token_is_confirmed_against_the_body_user_id(make_rig):
    """A row that has no Spotify id yet (a new one, or one made without it) takes the body's userId, once Spotify
    says the token is that account's."""
    rig = make_rig(workers=1, threads=2, settings=LEGACY)
    first, second = sandbox_users(rig)[:2]
    api = legacy_api(rig)
    email = unique_email("new")
    created = api.post("/wrapped/update", token_write("/wrapped/update", email, first["id"], first["refreshToken"]))
    assert created.status == 200, created
    assert row(rig, email)["spotify_user_id"] == first["id"]
    # A row without a Spotify id (as an admin may make one) is bound by the first confirmed token write.
    unbound = unique_email("unbound")
    rig.postgres.psql(f"INSERT INTO users (email) VALUES ('{unbound}')")
    before = row(rig, unbound)
    requests_before = requests_made(rig)
    response = api.post("/user/update", token_write("/user/update", unbound, second["id"], first["refreshToken"]))
    assert_refused_and_unchanged(rig, response, 403, "forbidden", unbound, before, requests_before, 2)
    bound = api.post("/user/update", token_write("/user/update", unbound, second["id"], second["refreshToken"]))
    assert bound.status == 200 and bound.json()["userId"] == second["id"]


def test_a_row_bound_elsewhere_while_spotify_is_asked_is_not_rebound(make_rig):
    """The Spotify id is checked again in the write itself: a row that gets a Spotify id (or is created) by someone
    else while the check is in flight is refused with 409 and left as that other write made it."""
    rig = make_rig(workers=1, threads=2, settings=LEGACY)
    first = sandbox_users(rig)[0]
    api = legacy_api(rig)
    for existing in (True, False):
        email = unique_email("race")
        elsewhere = "elsewhere" + email[5:17]
        if existing:
            rig.postgres.psql(f"INSERT INTO users (email) VALUES ('{email}')")
        rig.sandbox.post("/_sandbox/config", {"latencyMs": 1500})  # the check's two requests: 3 s
        try:
            with ThreadPoolExecutor(1) as pool:
                pending = pool.submit(api.post, "/user/update",
                                      token_write("/user/update", email, first["id"], first["refreshToken"]))
                time.sleep(0.7)
                rig.postgres.psql(f"INSERT INTO users (email, spotify_user_id) VALUES ('{email}', '{elsewhere}') "
                                  f"ON CONFLICT (email) DO UPDATE SET spotify_user_id = EXCLUDED.spotify_user_id")
                before = row(rig, email)
                response = pending.result(30)
        finally:
            rig.sandbox.post("/_sandbox/config", {"latencyMs": 0})
        assert_error(response, 409, "conflict")
        assert row(rig, email) == before and before["spotify_user_id"] == elsewhere


def test_a_rate_limited_or_absent_spotify_is_a_quick_503_with_retry_after(make_rig):
    rig = make_rig(workers=1, threads=2, settings=LEGACY)
    victim = sandbox_users(rig)[0]
    api = legacy_api(rig)
    email = enrolled_victim(rig, api, victim)  # a GET /v1/me in the sandbox's 30 s window
    rig.sandbox.post("/_sandbox/config", {"reauthorize": [victim["id"]]})
    new_token = current_token(rig, victim["id"])
    before = row(rig, email)
    # The window already holds a request: the check's GET /v1/me is answered 429.
    rig.sandbox.post("/_sandbox/config", {"rateLimit": 1})
    started = time.monotonic()
    limited = api.post("/user/user-table", token_write("/user/user-table", email, victim["id"], new_token))
    assert time.monotonic() - started < 10
    assert_error(limited, 503, "service_unavailable", handler="user")
    assert 1 <= int(limited.header("retry-after")) <= 30
    assert row(rig, email) == before
    # A Spotify that does not answer: the thread waits 5 s at most, and nothing changes.
    rig.sandbox.post("/_sandbox/config", {"rateLimit": 0, "latencyMs": 30000})
    started = time.monotonic()
    slow = api.post("/wrapped/data", token_write("/wrapped/data", email, victim["id"], new_token))
    assert time.monotonic() - started < 15
    assert_error(slow, 503, "service_unavailable", handler="wrapped")
    assert 1 <= int(slow.header("retry-after")) <= 60
    assert row(rig, email) == before
    rig.sandbox.post("/_sandbox/config", {"latencyMs": 0})
    # Spotify back: the same post goes through.
    assert api.post("/user/user-table", token_write("/user/user-table", email, victim["id"], new_token)).status == 200


def test_reads_and_enrolment_flags_stay_open_and_user_tokens_are_unchanged(make_rig):
    """What legacy mode still exposes, as the old system did (docs/DEPLOY.md says so): anyone with the shared token
    reads any user's data and flips their enrolment flags. User tokens keep their rules: no Spotify check."""
    rig = make_rig(workers=1, threads=2, settings=LEGACY)
    victim = sandbox_users(rig)[0]
    api = legacy_api(rig)
    email = enrolled_victim(rig, api, victim)
    assert api.get(f"/wrapped/data?email={email}").json()["activeWrapped"] is True
    assert api.get(f"/user/data?email={email}").json()["userId"] == victim["id"]
    flipped = api.post("/user/update", {"email": email, "wrappedEnrolled": False, "releaseRadarEnrolled": False})
    assert flipped.status == 200 and flipped.json()["activeWrapped"] is False
    requests_before = requests_made(rig)
    mine = user_api(rig, unique_email("own"))
    created = mine.post("/user/update", {"refreshToken": new_refresh_token()})
    assert created.status == 200 and created.json()["userId"] == mine.user_id
    assert requests_made(rig) == requests_before


def test_legacy_mode_needs_the_spotify_client_secret(make_rig, tmp_path):
    """The check refreshes with the app's credentials: with legacy tokens allowed the API refuses to start
    without the secret (one line naming the setting, exit 78); denied, it starts without one. --help lists it."""
    rig = make_rig(sandbox=False, settings=LEGACY)
    xomify_api = os.path.join(bin_dir(), "xomify-api")
    socket = str(tmp_path / "api.sock")
    for missing in ({"XOMIFY_SPOTIFY_CLIENT_SECRET_FILE": ""},
                    {"XOMIFY_SPOTIFY_CLIENT_SECRET_FILE": str(tmp_path / "nope")},
                    {"XOMIFY_SPOTIFY_CLIENT_ID": ""}):
        result = subprocess.run([xomify_api], env=rig.settings(XOMIFY_LISTEN=socket, **missing), capture_output=True,
                                text=True, timeout=30)
        assert result.returncode == 78, result.stderr
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        assert len(lines) == 1, result.stderr
        assert next(iter(missing)) in lines[0]
        assert not os.path.exists(socket)
    denied = subprocess.Popen([xomify_api], env=rig.settings(XOMIFY_LISTEN=socket, XOMIFY_LEGACY_TOKENS="deny",
                                                             XOMIFY_SPOTIFY_CLIENT_SECRET_FILE=""),
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_until(lambda: os.path.exists(socket) or denied.poll() is not None, 30, what="the pool's socket")
        assert denied.poll() is None, denied.stderr.read()
    finally:
        denied.terminate()
        denied.wait(30)
    help_text = subprocess.run([xomify_api, "--help"], capture_output=True, text=True, timeout=30).stdout
    assert "--spotify-client-secret-file" in help_text and "XOMIFY_SPOTIFY_CLIENT_SECRET_FILE" in help_text

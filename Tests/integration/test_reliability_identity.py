"""Reliability probe: the identity matrix (SPEC §5.1). User A's valid token aimed at user B through every field that
can name a user (query `email`, body `email`, body `userId`, a query string on a POST, `If-None-Match` with B's
ETag, `/auth/login` with A's or an unknown Spotify account and B's email), in every spelling; and every kind of bad
token (expired, not yet valid, alg none, other algs, bad signatures, the legacy shared token while legacy is denied,
garbage) naming B, on every route. Any answer that reads B (B's data in a body, a 2xx or 304 for B) or changes B
(B's rows in PostgreSQL compared before and after each write) is a failure; a bad token must get 401."""

import datetime
import json
import urllib.parse

import pytest

import reliability as R
from api_client import Api
from api_helpers import (insert_week, insert_wrap, jwt_claims, make_release, new_refresh_token, sandbox_access_token,
                         unique_email, user_api, utc_today, week_start)
from reliability import LEAK, WRONG, budget, probe, timed
from secret_scan import SCAN

GET_ROUTES = ["/wrapped/data", "/wrapped/all", "/wrapped/month?monthKey=2025-10", "/wrapped/year?year=2025",
              "/user/user-table", "/user/data", "/release-radar/history", "/release-radar/check"]
POST_ROUTES = ["/wrapped/data", "/wrapped/update", "/user/user-table", "/user/update"]


class Person:
    pass


def make_person(rig, index, tag):
    """A user enrolled with the Spotify id of the sandbox's user `index`, with a wrap and a week carrying markers
    that appear nowhere else."""
    sandbox_user, access_token = sandbox_access_token(rig, index)
    person = Person()
    person.email = unique_email(f"identity-{tag}")
    person.spotify_id = sandbox_user["id"]
    person.access_token = access_token
    person.api = user_api(rig, person.email, user_id=person.spotify_id)
    person.token = person.api.token
    marker = person.email.split("@")[0]
    person.markers = [f"name-{marker}", f"pl-{marker}", f"rr-{marker}", f"https://i.example/{marker}.png"]
    response = person.api.post("/user/update", {"refreshToken": sandbox_user["refreshToken"], "userId": person.spotify_id,
                                                "displayName": person.markers[0], "avatar": person.markers[3],
                                                "wrappedEnrolled": True, "releaseRadarEnrolled": True})
    assert response.status == 200, response
    insert_wrap(rig, person.email, "2025-10", playlist_id=person.markers[1])
    insert_week(rig, person.email, week_start(utc_today()) - datetime.timedelta(days=7),
                releases=[make_release(7)], playlist_id=person.markers[2])
    return person


@pytest.fixture(scope="module")
def people(reliability_rig):
    rig = reliability_rig
    a = make_person(rig, 0, "a")
    b = make_person(rig, 1, "b")
    return a, b


def rows_of(rig, email):
    """Everything PostgreSQL holds about a user (as JSON text, row by row)."""
    quoted = email.replace("'", "''")
    return rig.postgres.psql(f"""
        SELECT coalesce((SELECT json_agg(row_to_json(u))::text FROM users u WHERE lower(u.email) = '{quoted}'), '')
            || coalesce((SELECT json_agg(row_to_json(w) ORDER BY w.month_key)::text FROM wrapped_months w
                         WHERE w.email = '{quoted}'), '')
            || coalesce((SELECT json_agg(row_to_json(r) ORDER BY r.week_key)::text FROM release_radar_weeks r
                         WHERE r.email = '{quoted}'), '')
            || coalesce((SELECT string_agg(email, ',') FROM users WHERE spotify_user_id = (
                         SELECT spotify_user_id FROM users WHERE email = '{quoted}')), '')""")


def reads(b, response):
    """Why `response` shows B's data, or None."""
    text = response.body.decode("utf-8", "replace")
    for marker in b.markers:
        if marker in text:
            return f"B's data ({marker}) in the answer"
    if 200 <= response.status < 300:
        try:
            document = json.loads(response.body)
        except ValueError:
            document = None
        if isinstance(document, dict) and str(document.get("email", "")).lower() == b.email:
            return "an answer about B"
    if response.status == 304:
        return "304: B's ETag confirmed"
    return None


def email_spellings(b):
    local, _, domain = b.email.partition("@")
    return [b.email, b.email.upper(), local.capitalize() + "@" + domain, urllib.parse.quote(b.email, safe=""),
            "%" + b.email.encode().hex("%").upper(), b.email + "%20", "%20" + b.email, b.email + "%00",
            b.email + ".", local + "@" + domain.upper(), local + "%40" + domain, "mailto:" + b.email]


def test_identity_matrix_user_a_aimed_at_user_b(reliability_rig, people):
    rig = reliability_rig
    a, b = people
    target = probe("identity: A's token aimed at B")
    api = Api(rig.https_port, token=a.token)
    before = rows_of(rig, b.email)
    # The detectors see B when B is there: B's own token reading B's data, and B's rows in the snapshot.
    assert reads(b, Api(rig.https_port, token=b.token).get("/user/data")), "the matrix would be blind to B's data"
    assert b.email in before and b.markers[1] in before and b.markers[2] in before, before[:300]
    b_etags = {route: Api(rig.https_port, token=b.token).get(route).header("etag") for route in GET_ROUTES}

    def judge(case, response, wrote=False, reproduction=None):
        SCAN.add_body(response.body)
        problem = reads(b, response)
        if wrote:
            now = rows_of(rig, b.email)
            if now != before:
                problem = (problem + "; " if problem else "") + "B's rows changed"
        if problem:
            target.failed(case, f"{problem}: {response.status} {response.body[:160]!r}", LEAK, reproduction)
        elif response.status >= 500:
            target.failed(case, f"{response.status} {response.body[:160]!r}", R.SERVER_ERROR, reproduction)
        else:
            target.passed()

    spellings = email_spellings(b)
    with timed(target):
        for route in GET_ROUTES:
            separator = "&" if "?" in route else "?"
            for spelling in spellings[:budget(6, len(spellings))]:
                path = f"{route}{separator}email={spelling}"
                judge(f"GET {path.replace(b.email, 'B')}", api.get(path),
                      reproduction=f"curl -k -H 'Authorization: Bearer TOKEN_OF_A' 'https://127.0.0.1:PORT{path}'")
            # B's own ETag, asked for B under A's token: a 304 would confirm B's state.
            path = f"{route}{separator}email={b.email}"
            judge(f"GET {route} for B with If-None-Match: B's ETag", api.get(path, headers={"If-None-Match": b_etags[route]}))
            path = f"{route}{separator}email={a.email}&email={b.email}"
            judge(f"GET {route} with email=A&email=B", api.get(path))
            path = f"{route}{separator}email={b.email}&email={a.email}"
            judge(f"GET {route} with email=B&email=A", api.get(path))
        for route in POST_ROUTES:
            base = {"refreshToken": new_refresh_token()}
            if route.startswith("/wrapped"):
                base["active"] = False
            bodies = [("body email B", dict(base, email=b.email)),
                      ("body email B (upper case)", dict(base, email=b.email.upper())),
                      ("body userId B's Spotify id", dict(base, userId=b.spotify_id)),
                      ("body email B and userId B's Spotify id", dict(base, email=b.email, userId=b.spotify_id)),
                      ("body userId B's Spotify id (upper case)", dict(base, userId=b.spotify_id.upper()))]
            if not route.startswith("/wrapped"):
                bodies += [("enrolment flags for email B", {"email": b.email, "wrappedEnrolled": False,
                                                            "releaseRadarEnrolled": False}),
                           ("old flag names for email B", {"email": b.email, "activeWrapped": False,
                                                           "activeReleaseRadar": False}),
                           ("displayName for email B", dict(base, email=b.email, displayName="taken over"))]
            for name, values in bodies:
                judge(f"POST {route} {name}", api.post(route, values), wrote=True,
                      reproduction=f"curl -k -H 'Authorization: Bearer TOKEN_OF_A' -H 'Content-Type: application/json' "
                                   f"-d '{json.dumps(values).replace(b.email, 'B_EMAIL')}' https://127.0.0.1:PORT{route}")
            # The same in a body with the key spelled by escapes, and in a query string on the POST.
            raw = json.dumps(dict(base, email="@@")).replace('"email"', '"\\u0065mail"').replace('"@@"', json.dumps(b.email))
            judge(f"POST {route} body \\u0065mail B", api.post(route, raw=raw.encode()), wrote=True)
            judge(f"POST {route}?email=B", api.post(f"{route}?email={b.email}", dict(base)), wrote=True,
                  reproduction=f"curl -k -H 'Authorization: Bearer TOKEN_OF_A' -H 'Content-Type: application/json' "
                               f"-d '{{\"refreshToken\":\"…\"}}' 'https://127.0.0.1:PORT{route}?email=B_EMAIL'")
            judge(f"POST {route}?userId=<B's Spotify id>", api.post(f"{route}?userId={b.spotify_id}", dict(base)), wrote=True)
        # A's row must not have been bound to B's Spotify id either.
        a_spotify = rig.postgres.psql(f"SELECT spotify_user_id FROM users WHERE email = '{a.email}'").strip()
        if a_spotify == b.spotify_id:
            target.failed("A's row after the writes", "A's row holds B's Spotify id", LEAK)
        # /auth/login: A's Spotify account with B's email gives A's token; an account without a row and B's email
        # gives 409, never B's token.
        public = Api(rig.https_port)
        for name, access_token in [("A's Spotify account", a.access_token),
                                   ("an account without a row", sandbox_access_token(rig, 2)[1])]:
            for email in [b.email, b.email.upper()]:
                response = public.post("/auth/login", {"spotifyAccessToken": access_token, "email": email}, token=None)
                SCAN.add_refresh_tokens([access_token])
                case = f"POST /auth/login with {name} and email {('B' if email == b.email else 'B upper case')}"
                issued = None
                if response.status == 200:
                    issued = jwt_claims(response.json()["token"]).get("email", "")
                if issued and issued.lower() == b.email:
                    target.failed(case, "a token for B was issued", LEAK)
                elif response.status >= 500:
                    target.failed(case, f"{response.status} {response.body[:160]!r}", R.SERVER_ERROR)
                else:
                    judge(case, response, wrote=True)
    after = rows_of(rig, b.email)
    if after != before:
        target.failed("the whole matrix", f"B's rows changed:\nbefore {before[:400]}\nafter  {after[:400]}", LEAK)
    target.check()


def test_identity_matrix_bad_tokens(reliability_rig, people):
    """Every kind of bad token, each naming B, on every route (with B named in the query or body too): 401 with
    WWW-Authenticate, nothing of B read or changed."""
    rig = reliability_rig
    a, b = people
    target = probe("identity: bad tokens")
    before = rows_of(rig, b.email)
    tokens = R.bad_tokens(rig.jwt_secret, b.email, b.spotify_id)
    api = Api(rig.https_port)
    routes = [("GET", route, None) for route in GET_ROUTES] + [("POST", route, None) for route in POST_ROUTES]
    routes += [("GET", f"{route}{'&' if '?' in route else '?'}email={b.email}", None) for route in GET_ROUTES]
    routes += [("POST", route, "email") for route in POST_ROUTES]
    if not R.FULL:
        routes = routes[::3]
    with timed(target):
        for name, authorization in tokens.items():
            for method, route, named in routes:
                body = None
                if method == "POST":
                    body = {"refreshToken": new_refresh_token(), "userId": b.spotify_id}
                    if route.startswith("/wrapped"):
                        body["active"] = False
                    if named:
                        body["email"] = b.email
                headers = {"Authorization": authorization} if authorization is not None else {}
                response = api.request(method, route, body=body, headers=headers, token=None)
                SCAN.add_bearer_token(authorization[7:] if authorization.startswith("Bearer ") else authorization)
                case = f"{method} {route.replace(b.email, 'B')} with a token {name}"
                problem = reads(b, response)
                if method == "POST" and response.status != 401:
                    if rows_of(rig, b.email) != before:
                        problem = (problem + "; " if problem else "") + "B's rows changed"
                reproduction = (f"TOKEN=$(python3 -c 'import reliability as R; print(R.bad_tokens(SECRET, \"B_EMAIL\")"
                                f"[{name!r}])'); curl -k -X {method} -H \"Authorization: $TOKEN\" https://127.0.0.1:PORT{route}")
                if problem:
                    target.failed(case, f"{problem}: {response.status} {response.body[:160]!r}", LEAK, reproduction)
                elif response.status != 401 or response.header("www-authenticate") != 'Bearer error="invalid_token"':
                    target.failed(case, f"answered {response.status} {response.body[:160]!r} "
                                        f"(WWW-Authenticate {response.header('www-authenticate')!r}), not 401", WRONG,
                                  reproduction)
                else:
                    target.passed()
    if rows_of(rig, b.email) != before:
        target.failed("the whole matrix", "B's rows changed", LEAK)
    target.check()

"""docs/openapi.yaml against the running server (SPEC §5.3: "An OpenAPI 3 document of this API lives in the
repository and is tested against the running server"): real answers of every operation, successes and errors,
must have a status documented for the operation, a body valid against its schema and the documented required
headers; and the server answers exactly the paths and methods the document lists."""

import copy
import datetime
import json
import os
import re
import urllib.parse

import pytest
import yaml
from openapi_schema_validator import OAS30Validator, oas30_format_checker

from api_client import Api
from api_helpers import (enrol, insert_week, insert_wrap, make_release, new_refresh_token, sandbox_access_token,
                         unique_email, user_api, utc_today, week_start)
from api_routes import BAD_QUERY_VALUES
from xomify_rig import REPO

DOCUMENT_PATH = os.path.join(REPO, "docs", "openapi.yaml")
METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"]


def dereference(node, root):
    """The document with every local $ref replaced by what it points to (the document has no cycles)."""
    if isinstance(node, dict):
        if "$ref" in node:
            target = root
            for part in node["$ref"].lstrip("#/").split("/"):
                target = target[part.replace("~1", "/").replace("~0", "~")]
            return dereference(target, root)
        return {key: dereference(value, root) for key, value in node.items()}
    if isinstance(node, list):
        return [dereference(item, root) for item in node]
    return node


@pytest.fixture(scope="module")
def document():
    with open(DOCUMENT_PATH) as f:
        raw = yaml.safe_load(f)
    assert raw["openapi"].startswith("3.0")
    return dereference(raw, copy.deepcopy(raw))


class Checker:
    """Validates answers against the document and remembers which statuses each operation was seen with."""

    def __init__(self, document):
        self.document = document
        self.seen = {}

    def resolve(self, method, path):
        """[(method, operation)] answering `method` on `path`: a method the path does not have is answered 405,
        documented on each of the path's operations, so the answer is checked against each of them."""
        item = self.document["paths"][path]
        if method.lower() in item:
            return [(method.upper(), item[method.lower()])]
        return [(m.upper(), item[m]) for m in METHODS if m in item]

    def operation(self, method, path):
        return self.resolve(method, path)[0][1]

    def check(self, method, path, response, expected_status=None):
        if expected_status is not None:
            assert response.status == expected_status, (method, path, response)
        for operation_method, operation in self.resolve(method, path):
            self._check(operation_method, operation, method, path, response)

    def _check(self, operation_method, operation, method, path, response):
        where = f"{method} {path} -> {response.status}"
        documented = operation["responses"].get(str(response.status)) or operation["responses"].get("default")
        assert documented, f"{where}: status not documented ({sorted(operation['responses'])})"
        self.seen.setdefault((operation_method, path), set()).add(response.status)
        for name, header in documented.get("headers", {}).items():
            value = response.header(name)
            if header.get("required"):
                assert value is not None, f"{where}: required header {name} missing ({response.headers})"
            if value is not None and "schema" in header:
                OAS30Validator(header["schema"]).validate(value)
        content = documented.get("content")
        if not content:
            assert response.body == b"", f"{where}: a body where none is documented"
            return
        media_type = (response.header("content-type") or "").split(";")[0].strip()
        assert media_type in content, f"{where}: {media_type} not documented ({sorted(content)})"
        schema = content[media_type].get("schema")
        if schema is None:
            return
        instance = json.loads(response.body) if media_type == "application/json" else response.body.decode()
        try:
            OAS30Validator(schema, format_checker=oas30_format_checker).validate(instance)
        except Exception as error:
            raise AssertionError(f"{where}: the body does not match the document: {error}\n{response.body[:500]!r}")

    def request_schema(self, method, path):
        return self.operation(method, path)["requestBody"]["content"]["application/json"]["schema"]


@pytest.fixture
def checker(document):
    """A checker of this test only: each test asserts the statuses it is responsible for (EXERCISED below), so
    that no test relies on what another one, run before it, saw."""
    return Checker(document)


def assert_exercised(checker, part):
    """The statuses this test must have produced for each operation (its part of EXERCISED) were all seen."""
    for key, statuses in EXERCISED[part].items():
        seen = checker.seen.get(key, set())
        assert statuses <= seen, (part, key, sorted(statuses - seen))


@pytest.fixture(scope="module")
def subject(rig):
    """A user with wraps and weeks, so that answers carry every kind of object."""
    api = user_api(rig, unique_email("openapi"))
    enrol(api, displayName="Doc", avatar="https://i.example/doc.png")
    genres = {"short_term": [("indie pop", 42), ("dream pop", 17)], "medium_term": [], "long_term": [("rock", 1)]}
    insert_wrap(rig, api.email, "2025-11", genres=genres, playlist_id="pl-nov")
    insert_wrap(rig, api.email, "2025-06", genres=genres)
    current = week_start(utc_today())
    insert_week(rig, api.email, current - datetime.timedelta(days=7),
                releases=[make_release(1), make_release(2, "single"), make_release(3, "compilation")],
                stats={"artistCount": 3, "releaseCount": 3, "trackCount": 30, "albumCount": 1, "singleCount": 1},
                playlist_id="rr-doc")
    insert_week(rig, api.email, current - datetime.timedelta(days=14))
    other = user_api(rig, unique_email("openapi-other"))
    enrol(other)
    api.other = other
    return api


GET_ROUTES = {
    "/wrapped/data": "", "/wrapped/all": "", "/wrapped/month": "monthKey=2025-11", "/wrapped/year": "year=2025",
    "/user/user-table": "", "/user/data": "", "/release-radar/history": "limit=5", "/release-radar/check": "",
}


@pytest.mark.parametrize("path", sorted(GET_ROUTES))
def test_user_data_gets(rig, checker, subject, path):
    query = GET_ROUTES[path]
    target = path + ("?" + query if query else "")
    joiner = "&" if query else "?"
    ok = subject.get(target)
    checker.check("GET", path, ok, 200)
    checker.check("GET", path, subject.get(target, headers={"If-None-Match": ok.header("etag")}), 304)
    checker.check("GET", path, subject.get(target + joiner + "bogus=1"), 400)
    # Under a user token, an email that is not one counts as absent (SPEC §5.1): the caller's own answer.
    checker.check("GET", path, subject.get(target + joiner + "email=undefined"), 200)
    checker.check("GET", path, subject.get(target, token=None), 401)
    checker.check("GET", path, subject.get(target, token="Bearer.garbage"), 401)
    checker.check("GET", path, subject.get(target + joiner + "email=" + subject.other.email), 403)
    checker.check("GET", path, subject.get(target, raw=b"{}"), 400)
    for method in ["PUT", "DELETE"] + (["POST"] if path in ("/wrapped/all", "/wrapped/month", "/wrapped/year",
                                                              "/user/data", "/release-radar/history",
                                                              "/release-radar/check") else []):
        checker.check(method, path, subject.request(method, target, raw=b"{}"), 405)
    if path in ("/wrapped/month", "/user/user-table", "/user/data"):
        stranger = user_api(rig, unique_email("openapi-404"))
        missing = "/wrapped/month?monthKey=1999-01" if path == "/wrapped/month" else path
        checker.check("GET", path, (subject if path == "/wrapped/month" else stranger).get(missing), 404)
    # Every documented query parameter is accepted.
    operation = checker.operation("GET", path)
    names = {p["name"] for p in operation.get("parameters", []) if p["in"] == "query"}
    examples = {"email": subject.email, "monthKey": "2025-11", "year": "2025", "limit": "3"}
    full = subject.get(path + "?" + urllib.parse.urlencode({n: examples[n] for n in sorted(names)}))
    checker.check("GET", path, full, 200)
    assert_exercised(checker, f"GET {path}")


POST_ROUTES = ["/wrapped/data", "/wrapped/update", "/user/user-table", "/user/update"]


def opt_in_body():
    return {"refreshToken": new_refresh_token(), "active": True}


def user_update_body():
    return {"refreshToken": new_refresh_token(), "displayName": "Doc", "avatar": None, "wrappedEnrolled": True}


@pytest.mark.parametrize("path", POST_ROUTES)
def test_user_data_posts(rig, checker, subject, path):
    body = opt_in_body if path.startswith("/wrapped") else user_update_body
    request_schema = checker.request_schema("POST", path)
    sent = body()
    OAS30Validator(request_schema).validate(sent)
    checker.check("POST", path, subject.post(path, sent), 200)
    if path.startswith("/user"):
        checker.check("POST", path, subject.post(path, {"releaseRadarEnrolled": True}), 200)
        checker.check("POST", path, subject.post(path, {"activeWrapped": True, "activeReleaseRadar": False}), 200)
        stranger = user_api(rig, unique_email("openapi-404"))
        checker.check("POST", path, stranger.post(path, {"wrappedEnrolled": True}), 404)
    with_unknown = dict(body(), bogus=1)
    assert not OAS30Validator(request_schema).is_valid(with_unknown)
    checker.check("POST", path, subject.post(path, with_unknown), 400)
    checker.check("POST", path, subject.post(path, raw=b"{not json"), 400)
    checker.check("POST", path, subject.post(path, body(), token=None), 401)
    checker.check("POST", path, subject.post(path, dict(body(), email=subject.other.email)), 403)
    thief = user_api(rig, unique_email("openapi-409"), user_id=subject.other.user_id)
    checker.check("POST", path, thief.post(path, body()), 409)
    checker.check("POST", path, subject.post(path, raw=b'{"refreshToken":"' + b"x" * 70000 + b'"}'), 413)
    checker.check("POST", path, subject.post(path, raw=json.dumps(body()).encode(), content_type="text/plain"), 415)
    for method in ["PUT", "PATCH"] + (["GET"] if path in ("/wrapped/update", "/user/update") else []):
        checker.check(method, path, subject.request(method, path, raw=b"{}" if method != "GET" else None), 405)
    assert_exercised(checker, f"POST {path}")


def test_login(rig, checker):
    api = Api(rig.https_port)
    user, access_token = sandbox_access_token(rig, 3)
    body = {"spotifyAccessToken": access_token, "email": unique_email("openapi-login")}
    OAS30Validator(checker.request_schema("POST", "/auth/login")).validate(body)
    checker.check("POST", "/auth/login", api.post("/auth/login", body, token=None), 200)
    checker.check("POST", "/auth/login", api.post("/auth/login", {}, token=None), 400)
    checker.check("POST", "/auth/login", api.post("/auth/login", raw=b"[]", token=None), 400)
    checker.check("POST", "/auth/login", api.post("/auth/login", {"spotifyAccessToken": "nope", "email": "a@x.test"},
                                                  token=None), 401)
    # An email that belongs to another Spotify id (a user enrolled with one), for a Spotify id not yet known.
    taken = unique_email("openapi-taken")
    assert user_api(rig, taken, user_id="another-spotify-id-" + taken[14:22]).post(
        "/user/update", {"refreshToken": new_refresh_token()}).status == 200
    _, second_token = sandbox_access_token(rig, 6)  # a sandbox user no other test of the session logs in
    checker.check("POST", "/auth/login", api.post("/auth/login", {"spotifyAccessToken": second_token, "email": taken},
                                                  token=None), 409)
    checker.check("POST", "/auth/login", api.post("/auth/login", raw=b"{" + b" " * 70000 + b"}", token=None), 413)
    checker.check("POST", "/auth/login", api.post("/auth/login", raw=b"{}", token=None, content_type="text/plain"), 415)
    checker.check("GET", "/auth/login", api.get("/auth/login", token=None), 405)
    # Spotify failing: 502.
    rig.sandbox.post("/_sandbox/config", {"errorRate": 1.0})
    try:
        checker.check("POST", "/auth/login", api.post("/auth/login", body, token=None), 502)
    finally:
        rig.sandbox.post("/_sandbox/config", {"errorRate": 0})
    assert_exercised(checker, "login")


def test_health_ping_and_status(rig, checker):
    api = Api(rig.https_port)
    for token in [None, "garbage"]:
        checker.check("GET", "/health", api.get("/health", token=token), 200)
        checker.check("GET", "/ping", api.get("/ping", token=token), 200)
        checker.check("GET", "/status", api.get("/status", token=token), 200)
    for path in ["/health", "/ping"]:
        checker.check("GET", path, api.get(path + "?x=1", token=None), 400)
    for path in ["/health", "/ping", "/status"]:
        for method in ["POST", "DELETE"]:
            checker.check(method, path, api.request(method, path, raw=b"{}", token=None), 405)
    assert_exercised(checker, "health, ping and status")


def test_outage_answers_match_the_document(make_rig, checker):
    rig = make_rig(sandbox=False, workers=1, threads=2)
    api = user_api(rig, unique_email("outage"))
    checker.check("GET", "/health", api.get("/health"), 200)
    rig.postgres.stop()
    checker.check("GET", "/health", api.get("/health"), 503)
    checker.check("GET", "/user/data", api.get("/user/data"), 503)
    checker.check("GET", "/wrapped/data", api.get("/wrapped/data"), 503)
    checker.check("POST", "/user/update", api.post("/user/update", {"refreshToken": new_refresh_token()}), 503)
    checker.check("GET", "/ping", api.get("/ping"), 200)
    assert_exercised(checker, "outage")


def query_value(text, schema):
    """A query value as the document types it: for an integer parameter, digits are an integer (anything else
    stays a string, and fails)."""
    return int(text) if schema.get("type") == "integer" and re.fullmatch(r"[0-9]+", text) else text


def test_query_parameter_schemas_refuse_what_the_server_refuses(checker):
    good = {"email": ["a@x.test", "First.Last+tag@sub.example.org"], "monthKey": ["2025-01", "1999-12"],
            "year": ["2025", "1999"], "limit": ["1", "26", "104"]}
    for path in GET_ROUTES:
        for parameter in checker.operation("GET", path).get("parameters", []):
            if parameter["in"] != "query":
                continue
            name, validator = parameter["name"], OAS30Validator(parameter["schema"])
            for value in good[name]:
                assert validator.is_valid(query_value(value, parameter["schema"])), (path, name, value)
            for encoded in BAD_QUERY_VALUES[name]:
                value = urllib.parse.unquote(encoded)
                if value.endswith("\n"):
                    continue  # Python's `$` (unlike ECMA 262's) matches before a final newline
                # An email that is not one is taken under a user token (as absent): the document accepts it too.
                accepted = name == "email"
                assert validator.is_valid(query_value(value, parameter["schema"])) == accepted, (path, name, value)


def test_request_body_schemas_agree_with_the_server(rig, checker, subject):
    """Bodies the server refuses as invalid input are invalid for the document, and bodies it takes are valid."""
    token = new_refresh_token()
    cases = {
        "/user/update": (
            [{"refreshToken": token}, {"wrappedEnrolled": True}, {"refreshToken": token, "displayName": None},
             {"activeWrapped": True, "activeReleaseRadar": False}, {"refreshToken": token, "avatar": "https://a/b"},
             {"email": subject.email, "releaseRadarEnrolled": False, "refreshToken": token, "displayName": "D"},
             # Not an email: absent under a user token (SPEC §5.1).
             {"email": "a@b@c", "wrappedEnrolled": True}, {"email": "", "wrappedEnrolled": True}],
            [{}, {"email": subject.email}, {"userId": "x"}, {"displayName": "x", "wrappedEnrolled": True},
             {"avatar": None}, {"bogus": 1, "refreshToken": token}, {"wrappedEnrolled": "true"}, {"refreshToken": ""},
             {"refreshToken": "a\nb"}, {"displayName": "x" * 1025, "refreshToken": token}, {"refreshToken": 5},
             {"email": 5, "wrappedEnrolled": True},
             {"userId": "u" * 257, "refreshToken": token}, {"activeWrapped": None}]),
        "/wrapped/data": (
            [{"refreshToken": token, "active": True}, {"refreshToken": token, "active": False, "releaseRadarId": "r"},
             {"refreshToken": token, "active": True, "email": subject.email, "userId": subject.user_id}],
            [{"refreshToken": token}, {"active": True}, {"refreshToken": token, "active": "true"},
             {"refreshToken": token, "active": True, "releaseRadarId": ""}, {"refreshToken": token, "active": None},
             {"refreshToken": token, "active": True, "userId": "u" * 257},
             {"refreshToken": token, "active": True, "wrappedEnrolled": True}]),
        "/auth/login": (
            [{"spotifyAccessToken": "not-a-real-one"}, {"spotifyAccessToken": "x", "email": "a@x.test"}],
            [{}, {"spotifyAccessToken": ""}, {"spotifyAccessToken": 5}, {"spotifyAccessToken": "x", "bogus": 1},
             {"spotifyAccessToken": "x", "email": "nope"}, {"email": "a@x.test"}]),
    }
    for path, (accepted, refused) in cases.items():
        validator = OAS30Validator(checker.request_schema("POST", path))
        for body in accepted:
            assert validator.is_valid(body), (path, body)
            response = subject.post(path, body, token=None if path == "/auth/login" else "default")
            # Taken: the subject's own update succeeds; a login gets as far as Spotify, which refuses the token.
            assert response.status == (401 if path == "/auth/login" else 200), (path, body, response)
        for body in refused:
            assert not validator.is_valid(body), (path, body)
            response = subject.post(path, body, token=None if path == "/auth/login" else "default")
            assert response.status == 400, (path, body, response)


# What the tests above must produce, test by test (429 needs nginx's limit_req, absent from the test template;
# 500 needs a real fault). Each test checks its own part at its end; the test below checks, without running
# anything, that the parts together cover every status of every operation.
EXERCISED = {
    **{f"GET {p}": {("GET", p): {200, 304, 400, 401, 403, 405}
                    | ({404} if p in ("/wrapped/month", "/user/user-table", "/user/data") else set())}
       for p in GET_ROUTES},
    **{f"POST {p}": {("POST", p): {200, 400, 401, 403, 405, 409, 413, 415}
                     | ({404} if p.startswith("/user") else set())}
       for p in POST_ROUTES},
    "login": {("POST", "/auth/login"): {200, 400, 401, 405, 409, 413, 415, 502}},
    "health, ping and status": {("GET", "/health"): {200, 400, 405}, ("GET", "/ping"): {200, 400, 405},
                                ("GET", "/status"): {200, 405}},
    "outage": {("GET", "/health"): {503}, ("GET", "/user/data"): {503}, ("GET", "/wrapped/data"): {503},
               ("POST", "/user/update"): {503}},
}

# Every status each operation of the document can give on this rig.
EXPECTED_STATUSES = {
    **{("GET", p): {200, 304, 400, 401, 403, 405} for p in GET_ROUTES},
    **{("POST", p): {200, 400, 401, 403, 405, 409, 413, 415} for p in POST_ROUTES},
    ("POST", "/auth/login"): {200, 400, 401, 405, 409, 413, 415, 502},
    ("GET", "/health"): {200, 400, 405, 503},
    ("GET", "/ping"): {200, 400, 405},
    ("GET", "/status"): {200, 405},
}
for _key in [("GET", "/wrapped/month"), ("GET", "/user/user-table"), ("GET", "/user/data"), ("POST", "/user/user-table"),
             ("POST", "/user/update")]:
    EXPECTED_STATUSES[_key] = EXPECTED_STATUSES[_key] | {404}
for _key in [("GET", "/user/data"), ("GET", "/wrapped/data"), ("POST", "/user/update")]:
    EXPECTED_STATUSES[_key] = EXPECTED_STATUSES[_key] | {503}


def test_every_status_of_every_operation_is_exercised(document):
    """Each operation of the document is exercised with its success and every error it can give on this rig,
    by the tests above between them (each asserts its own part, so this needs none of them to have run)."""
    documented = {(m.upper(), p) for p, item in document["paths"].items() for m in METHODS if m in item}
    assert documented == set(EXPECTED_STATUSES)
    covered = {}
    for part in EXERCISED.values():
        for key, statuses in part.items():
            covered[key] = covered.get(key, set()) | statuses
    assert covered == EXPECTED_STATUSES, {key: sorted(EXPECTED_STATUSES[key] ^ covered.get(key, set()))
                                          for key in EXPECTED_STATUSES if covered.get(key) != EXPECTED_STATUSES[key]}


# -- the document and the server agree on what exists -----------------------------------------------

def server_routes():
    """(method, path) pairs the server routes: Sources/API/Routes.swift (the pool's status page included)."""
    source = open(os.path.join(REPO, "Sources", "API", "Routes.swift")).read()
    routes = set()
    for method, paths in re.findall(r'add\("([A-Z]+)", \[([^\]]*)\]', source):
        for path in re.findall(r'"([^"]+)"', paths):
            routes.add((method, path))
    return routes


def test_the_document_lists_exactly_the_routes_the_server_has(rig, document):
    documented = {(m.upper(), p) for p, item in document["paths"].items() for m in METHODS if m in item}
    routes = server_routes()
    assert len(routes) > 10
    assert documented == routes, {"undocumented": sorted(routes - documented),
                                  "not served": sorted(documented - routes)}
    # And the running server agrees: on every documented path, any other method is a 405 whose Allow lists
    # exactly the documented methods; each documented operation is routed (neither 404 nor 405).
    api = Api(rig.https_port, token=rig.token(unique_email("routes")))
    for path, item in document["paths"].items():
        methods = {m.upper() for m in METHODS if m in item}
        response = api.request("DELETE", path)
        assert response.status == 405, (path, response)
        assert {m.strip() for m in response.header("allow").split(",")} == methods, (path, response.headers)
        for method in methods:
            response = api.request(method, path, raw=b"{}" if method == "POST" else None)
            assert response.status != 405, (method, path, response)
            if response.status == 404:  # a missing resource, not a missing route
                assert response.json()["error"]["handler"] != "router", (method, path, response)
    # Paths next to the documented ones are not served.
    for path in ["/wrapped", "/wrapped/months", "/user", "/user/delete", "/release-radar/weeks", "/auth",
                 "/auth/refresh", "/healthz", "/metrics", "/status/workers"]:
        assert api.get(path).status == 404, path


def test_the_document_is_consistent(document):
    """Every operation has an id, documents the errors it can give, and public operations say so."""
    ids = set()
    for path, item in document["paths"].items():
        for method in METHODS:
            if method not in item:
                continue
            operation = item[method]
            assert operation["operationId"] not in ids
            ids.add(operation["operationId"])
            responses = operation["responses"]
            assert "405" in responses and "200" in responses, (method, path)
            public = operation.get("security", document["security"]) == []
            assert public == (path in ("/auth/login", "/health", "/ping", "/status")), (method, path)
            assert ("401" in responses) == (not public or path == "/auth/login"), (method, path)
            if method == "post":
                assert {"400", "413", "415"} <= set(responses), (method, path)
            for status, response in responses.items():
                if status.startswith(("4", "5")) and not (path == "/health" and status == "503"):
                    schema = response["content"]["application/json"]["schema"]
                    assert schema["required"] == ["error"], (method, path, status)


def test_the_examples_of_the_document_are_valid(document):
    """Every example of a media type validates against that media type's schema."""
    count = 0

    def visit(node, where):
        nonlocal count
        if isinstance(node, dict):
            if "schema" in node and ("example" in node or "examples" in node):
                examples = [node["example"]] if "example" in node else [e["value"] for e in node["examples"].values()]
                for example in examples:
                    OAS30Validator(node["schema"], format_checker=oas30_format_checker).validate(example)
                    count += 1
            for key, value in node.items():
                visit(value, f"{where}/{key}")
        elif isinstance(node, list):
            for index, value in enumerate(node):
                visit(value, f"{where}/{index}")

    visit(document["paths"], "#/paths")
    assert count >= 15

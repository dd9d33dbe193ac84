"""Validation and errors (SPEC §5.2) on every route of §5.3 and each alias, through nginx against the real pool:
missing, unknown and ill-typed fields in queries and bodies, wrong methods, bodies that are too large, not JSON,
not UTF-8, not objects or too deep, wrong media types, GETs with bodies. No input may crash a worker or give a
5xx."""

import json
import urllib.parse

import pytest

from api_client import Api
from api_helpers import assert_error, new_refresh_token, raw_https, unique_email, user_api
from api_routes import ALLOWED, BAD_BODY_VALUES, BAD_QUERY_VALUES, BODY_FIELD_KINDS, ROUTE_PATHS

HANDLERS = {"/wrapped": "wrapped", "/user": "user", "/release-radar": "release-radar", "/auth": "auth",
            "/health": "health", "/ping": "ping"}


def handler_of(path):
    return next(name for prefix, name in HANDLERS.items() if path.startswith(prefix))


def valid_answer_status(operation, path):
    """The status of a valid request by `caller` (a user token for an email that has no user, no wrap and no
    week) with the operation's valid input (SPEC §5.3): the missing user or wrap is a 404, a login with an
    access token Spotify refuses a 401, everything else a 200."""
    if path in ("/user/user-table", "/user/data") and operation.method == "GET":
        return 404
    if path == "/wrapped/month":
        return 404
    if path == "/auth/login":
        return 401
    return 200


@pytest.fixture(scope="module", autouse=True)
def no_worker_dies(rig):
    """Whatever these tests send, the pool keeps the same workers and counts no crash."""
    before = sorted(rig.worker_pids())
    crashes = Api(rig.https_port).get("/status").json()["pool"]["crashes"]
    yield
    assert sorted(rig.worker_pids()) == before
    assert Api(rig.https_port).get("/status").json()["pool"]["crashes"] == crashes


@pytest.fixture
def caller(rig):
    return user_api(rig, unique_email("validation"))


def send(api, operation, path, values=None, raw_query=None, raw_body=None, **kwargs):
    """Sends `values` the way the operation takes its input (query string or JSON body)."""
    if operation.source == "query":
        query = raw_query if raw_query is not None else urllib.parse.urlencode(values or {})
        return api.request(operation.method, path + ("?" + query if query else ""), **kwargs)
    if raw_body is not None:
        return api.request(operation.method, path, raw=raw_body, **kwargs)
    return api.request(operation.method, path, body=values if values is not None else {}, **kwargs)


WITH_REQUIRED = [(o, p) for o, p in ROUTE_PATHS if o.required]


@pytest.mark.parametrize("operation,path", WITH_REQUIRED, ids=[f"{o.method} {p}" for o, p in WITH_REQUIRED])
def test_each_required_field_missing(caller, operation, path):
    for name in operation.required:
        values = operation.valid_input()
        del values[name]
        response = send(caller, operation, path, values)
        assert_error(response, 400, "invalid_input", missing=[name], handler=handler_of(path))
    # All of them at once, with an unknown one: one answer names every problem.
    if operation.required:
        values = {k: v for k, v in operation.valid_input().items() if k not in operation.required}
        values["zzUnknown"] = "1" if operation.source == "query" else 1
        response = send(caller, operation, path, values)
        assert_error(response, 400, "invalid_input", missing=operation.required, unexpected=["zzUnknown"])


@pytest.mark.parametrize("path", ["/wrapped/data", "/wrapped/update", "/user/user-table", "/user/update"])
def test_user_id_is_required_when_the_token_has_none(rig, path):
    api = user_api(rig, unique_email("no-user-id"), user_id=None)
    body = {"refreshToken": new_refresh_token()}
    if path.startswith("/wrapped"):
        body["active"] = True
    assert_error(api.post(path, body), 400, "invalid_input", missing=["userId"])
    body["userId"] = "given-" + api.email[:20]
    response = api.post(path, body)
    assert response.status == 200, response


@pytest.mark.parametrize("path", ["/user/user-table", "/user/update"])
def test_user_update_needs_a_token_group_or_an_enrolment_flag(caller, path):
    assert_error(caller.post(path, {}), 400, "invalid_input",
                 missing=["refreshToken", "wrappedEnrolled", "releaseRadarEnrolled"])
    assert_error(caller.post(path, {"email": caller.email}), 400, "invalid_input",
                 missing=["refreshToken", "wrappedEnrolled", "releaseRadarEnrolled"])
    # Any token field brings the refresh token with it.
    for body in [{"userId": "someone"}, {"displayName": "Me"}, {"avatar": None}, {"userId": "x", "wrappedEnrolled": True}]:
        assert_error(caller.post(path, body), 400, "invalid_input", missing=["refreshToken"])
    # Old and new names of one flag must agree.
    assert_error(caller.post(path, {"wrappedEnrolled": True, "activeWrapped": False}), 400, "invalid_input",
                 invalid=["activeWrapped"])
    assert_error(caller.post(path, {"releaseRadarEnrolled": False, "activeReleaseRadar": True}), 400,
                 "invalid_input", invalid=["activeReleaseRadar"])


@pytest.mark.parametrize("operation,path", ROUTE_PATHS, ids=[f"{o.method} {p}" for o, p in ROUTE_PATHS])
def test_unknown_fields_are_refused(caller, operation, path):
    for unknown in ["bogus", "Email", "email ", "EMAIL", "user_id", "__proto__"]:
        values = operation.valid_input()
        values[unknown] = "1" if operation.source == "query" else True
        response = send(caller, operation, path, values)
        assert_error(response, 400, "invalid_input", unexpected=[unknown], handler=handler_of(path))
    values = operation.valid_input()
    values.update({"one": "1", "two": "2"})
    assert_error(send(caller, operation, path, values), 400, "invalid_input", unexpected=["one", "two"])
    # The name is echoed back only short and printable.
    values = operation.valid_input()
    values["\u0001" + "n" * 100] = "1"
    error = assert_error(send(caller, operation, path, values), 400, "invalid_input")
    assert error["fields"]["unexpected"] == ["n" * 64 + "…"]


@pytest.mark.parametrize("operation,path", [(o, p) for o, p in ROUTE_PATHS if o.source == "query" and o.optional + o.required],
                         ids=[f"{o.method} {p}" for o, p in ROUTE_PATHS if o.source == "query" and o.optional + o.required])
def test_ill_typed_query_fields(caller, operation, path):
    for name in operation.fields:
        if name == "email" and not operation.public:
            continue  # under a user token an email that is not one counts as absent: the test below
        for bad in BAD_QUERY_VALUES[name]:
            values = operation.valid_input()
            values.pop(name, None)
            query = urllib.parse.urlencode(values)
            query = (query + "&" if query else "") + f"{name}={bad}"
            response = send(caller, operation, path, raw_query=query)
            assert response.status == 400, (name, bad, response)
            assert_error(response, 400, "invalid_input", invalid=[name])


@pytest.mark.parametrize("operation,path", [(o, p) for o, p in ROUTE_PATHS if o.source == "body"],
                         ids=[f"{o.method} {p}" for o, p in ROUTE_PATHS if o.source == "body"])
def test_ill_typed_body_fields(caller, operation, path):
    for name in operation.fields:
        for bad in BAD_BODY_VALUES[BODY_FIELD_KINDS[name]]:
            if name == "email" and not operation.public and isinstance(bad, str):
                continue  # not an email under a user token: absent (the test below)
            values = operation.valid_input()
            values[name] = bad
            response = send(caller, operation, path, values)
            assert response.status == 400, (name, bad, response)
            assert_error(response, 400, "invalid_input", invalid=[name])
    # A null displayName or avatar is a value (it clears the field), not an error.
    if "displayName" in operation.fields:
        values = operation.valid_input()
        values.update(displayName=None, avatar=None)
        assert send(caller, operation, path, values).status == 200


@pytest.mark.parametrize("operation,path", [(o, p) for o, p in ROUTE_PATHS if "email" in o.fields and not o.public],
                         ids=[f"{o.method} {p}" for o, p in ROUTE_PATHS if "email" in o.fields and not o.public])
def test_an_email_that_is_not_one_counts_as_absent_under_a_user_token(caller, operation, path):
    """SPEC §5.1: "Under a user token an `email` that is empty or not an email at all ... counts as absent" (later
    web builds send email=undefined): the request acts for the token's own user, exactly as without one."""
    expected = valid_answer_status(operation, path)
    bad_strings = ["undefined", "null", ""] + [urllib.parse.unquote(v) for v in BAD_QUERY_VALUES["email"]] \
        + [v for v in BAD_BODY_VALUES["email"] if isinstance(v, str)]
    for bad in bad_strings:
        values = operation.valid_input()
        values["email"] = bad
        response = send(caller, operation, path, values)
        assert response.status == expected, (bad, response)
        if response.status == 200 and operation.method == "GET" and "email" in response.json():
            assert response.json()["email"] == caller.email


def test_field_length_limits_are_inclusive(caller):
    response = caller.post("/user/update", {"refreshToken": "t" * 4096, "userId": "u" * 256, "displayName": "d" * 1024,
                                            "avatar": "a" * 2048, "email": caller.email})
    assert response.status == 200, response
    assert response.json()["userId"] == "u" * 256
    assert caller.post("/wrapped/data", {"refreshToken": new_refresh_token(), "active": True, "userId": "u" * 256,
                                         "releaseRadarId": "r" * 256}).status == 200
    local = "l" * (254 - len("@x.test"))
    assert_error(caller.get(f"/wrapped/data?email={local}@x.test"), 403, "forbidden")  # valid: someone else
    # One character more is no email at all: absent under a user token, so the caller's own data.
    assert caller.get(f"/wrapped/data?email=l{local}@x.test").status == 200


@pytest.mark.parametrize("path", sorted(ALLOWED))
def test_wrong_method_is_405_with_allow(rig, path):
    api = Api(rig.https_port)
    allowed = ALLOWED[path]
    token = rig.token(unique_email("method"))
    for method in ["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD", "PROPFIND"]:
        if method in allowed:
            continue
        for with_token in [None, token]:
            response = api.request(method, path, token=with_token, raw=b"{}" if method in ("POST", "PUT", "PATCH") else None)
            assert response.status == 405, (method, path, response)
            assert set(response.header("allow").split(", ")) == allowed, response.headers
            if method == "HEAD":
                assert response.body == b""
            else:
                assert_error(response, 405, "method_not_allowed")
    # The trailing slash is the same resource.
    response = api.request("DELETE", path + "/", token=None)
    assert response.status == 405 and set(response.header("allow").split(", ")) == allowed


def test_unknown_paths_are_404(rig):
    api = Api(rig.https_port, token=rig.token(unique_email("nowhere")))
    for path in ["/", "/wrapped", "/wrapped/", "/wrapped/data/extra", "/wrapped/months", "/Wrapped/data", "/user",
                 "/user/delete", "/release-radar", "/auth/logout", "/healthz", "/pingpong", "/index.php", "/status/x"]:
        for method in ["GET", "POST"]:
            response = api.request(method, path, raw=b"{}" if method == "POST" else None)
            assert_error(response, 404, "not_found")


@pytest.mark.parametrize("operation,path", [(o, p) for o, p in ROUTE_PATHS if o.source == "body"],
                         ids=[f"{o.method} {p}" for o, p in ROUTE_PATHS if o.source == "body"])
def test_bodies_that_are_not_json_objects(caller, operation, path):
    malformed = [b"", b" ", b"{", b"}", b"{not json}", b"{'single': 'quotes'}", b'{"a":1,}', b'{"a" 1}',
                 b'{"a":1} {"b":2}', b'{"a":1} trailing', b"\xef\xbb\xbf{}", b'{"a":tru}', b'{"a":01}', b'{"a":.5}',
                 b'{"a":"\\x41"}', b'{"a":"\\ud800"}', b'{"a":"unterminated}', b'{"a":"tab\there"}', b"nul\x00",
                 b'{"refreshToken":"a","refreshToken":"b"}', b"[" * 50000, b'{"a":' * 1000 + b"1" + b"}" * 1000]
    for body in malformed:
        response = send(caller, operation, path, raw_body=body)
        assert_error(response, 400, "invalid_json", handler=handler_of(path))
    for body in [b"[]", b'[{"refreshToken":"x"}]', b'"string"', b"123", b"-1.5e3", b"null", b"true", b"false"]:
        error = assert_error(send(caller, operation, path, raw_body=body), 400, "invalid_json")
        assert "object" in error["message"]
    # Nesting within an object: a few levels are a type error of the field, too many levels malformed JSON.
    shallow = operation.valid_input()
    shallow[operation.fields[0]] = {"a": [{"b": [1]}]}
    assert_error(send(caller, operation, path, shallow), 400, "invalid_input", invalid=[operation.fields[0]])
    deep = json.dumps(operation.valid_input())[:-1] + ', "deep": ' + "[" * 40 + "]" * 40 + "}"
    assert_error(send(caller, operation, path, raw_body=deep.encode()), 400, "invalid_json")


@pytest.mark.parametrize("operation,path", [(o, p) for o, p in ROUTE_PATHS if o.source == "body"],
                         ids=[f"{o.method} {p}" for o, p in ROUTE_PATHS if o.source == "body"])
def test_invalid_utf8_and_huge_numbers_in_bodies(caller, operation, path):
    name = (operation.required or ["refreshToken"])[0]
    for bad in [b"\xff\xfe", b"\xc0\xaf", b"\xed\xa0\x80", b"\xe2\x82", b"\xf8\x88\x80\x80\x80"]:
        body = json.dumps(operation.valid_input())[:-1].encode() + b', "x": "' + bad + b'"}'
        assert_error(send(caller, operation, path, raw_body=body), 400, "invalid_json")
        body = b'{"' + name.encode() + b'": "' + bad + b'"}'
        assert_error(send(caller, operation, path, raw_body=body), 400, "invalid_json")
    numbers = [b"1e999999", b"-1e999999", b"123456789012345678901234567890123456789", b"1e-999999"]
    for field in operation.fields:
        for number in numbers + [b"1" * 5000]:
            values = operation.valid_input()
            values[field] = "@@"
            body = json.dumps(values).replace('"@@"', number.decode()).encode()
            response = send(caller, operation, path, raw_body=body)
            if number in numbers:
                assert_error(response, 400, "invalid_input", invalid=[field])
            else:  # number literals over 64 characters are refused by the parser itself
                assert_error(response, 400, "invalid_json")


@pytest.mark.parametrize("operation,path", [(o, p) for o, p in ROUTE_PATHS if o.source == "query"],
                         ids=[f"{o.method} {p}" for o, p in ROUTE_PATHS if o.source == "query"])
def test_malformed_query_strings(rig, caller, operation, path):
    base = urllib.parse.urlencode(operation.valid_input())
    prefix = base + "&" if base else ""
    # Invalid UTF-8, percent-encoded (overlong, surrogate, truncated, not UTF-8 at all)...
    for bad in ["%ff", "%C0%AF", "%ED%A0%80", "%E2%82", "%F8%88%80%80%80", "%", "%zz", "%4"]:
        for query in [prefix + f"email={bad}x@x.test", prefix + f"{bad}=1"]:
            error = assert_error(send(caller, operation, path, raw_query=query), 400, "invalid_input")
            assert error["message"].startswith("Invalid User Input - ")
    # ...and sent raw, as bytes on the wire.
    for bad in [b"\xff", b"\xc0\xaf", b"\xed\xa0\x80"]:
        request = (f"GET {path}?{prefix}email=".encode() + bad + b"a@x.test HTTP/1.1\r\nHost: localhost\r\n"
                   b"Authorization: Bearer " + caller.token.encode() + b"\r\nConnection: close\r\n\r\n")
        status, _, body = raw_https(rig.https_port, request)
        assert status == 400, (bad, body)
        assert json.loads(body)["error"]["code"] == "invalid_input"
    # Duplicate keys, in any spelling that decodes to the same name.
    for query in [prefix + f"email={caller.email}&email={caller.email}", prefix + "email=a%40x.test&%65mail=a%40x.test"]:
        assert_error(send(caller, operation, path, raw_query=query), 400, "invalid_input", invalid=["email"])
    for name in operation.required:
        value = operation.valid_input()[name]
        assert_error(send(caller, operation, path, raw_query=f"{base}&{name}={value}"), 400, "invalid_input",
                     invalid=[name])
    # Empty pieces are ignored; a piece without a name is an unknown field.
    response = send(caller, operation, path, raw_query="&&" + base + "&&")
    assert response.status == valid_answer_status(operation, path), response
    assert_error(send(caller, operation, path, raw_query=prefix + "=1"), 400, "invalid_input", unexpected=[""])
    # A long query (under nginx's 8 KB request line) is a clean 400.
    error = assert_error(send(caller, operation, path, raw_query=prefix + "k" * 6000 + "=1"), 400, "invalid_input")
    assert error["fields"]["unexpected"] == ["k" * 64 + "…"]


@pytest.mark.parametrize("operation,path", [(o, p) for o, p in ROUTE_PATHS if o.method == "GET"],
                         ids=[f"{o.method} {p}" for o, p in ROUTE_PATHS if o.method == "GET"])
def test_a_get_with_a_body_is_400_and_content_type_alone_is_fine(rig, caller, operation, path):
    query = urllib.parse.urlencode(operation.valid_input())
    target = path + ("?" + query if query else "")
    for body in [b"{}", b'{"email":"a@x.test"}', b"x"]:
        response = caller.request("GET", target, raw=body)
        assert_error(response, 400, "invalid_input", handler=handler_of(path))
    request = (f"GET {target} HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {caller.token}\r\n"
               "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n2\r\n{}\r\n0\r\n\r\n").encode()
    status, _, body = raw_https(rig.https_port, request)
    assert status == 400 and json.loads(body)["error"]["code"] == "invalid_input"
    # Clients send Content-Type: application/json on every request, GETs included.
    response = caller.request("GET", target, headers={"Content-Type": "application/json"})
    assert response.status == valid_answer_status(operation, path), response
    response = caller.request("GET", target, headers={"Content-Type": "text/plain"})
    assert response.status == valid_answer_status(operation, path), response


@pytest.mark.parametrize("operation,path", [(o, p) for o, p in ROUTE_PATHS if o.source == "body"],
                         ids=[f"{o.method} {p}" for o, p in ROUTE_PATHS if o.source == "body"])
def test_media_types(caller, operation, path):
    body = json.dumps(operation.valid_input()).encode()
    for content_type in [None, "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x",
                         "application/json-patch+json", "text/json", "application/json; charset=latin-1",
                         "application/json; charset=utf-16"]:
        headers = {} if content_type is None else {"Content-Type": content_type}
        response = caller.request(operation.method, path, raw=body, headers=headers, content_type=None)
        assert_error(response, 415, "unsupported_media_type")
    for content_type in ["application/json", "application/json; charset=utf-8", "Application/JSON; Charset=UTF-8",
                         'application/json;charset="utf-8"']:
        body = json.dumps(operation.valid_input()).encode()
        response = caller.request(operation.method, path, raw=body, headers={"Content-Type": content_type})
        assert response.status == valid_answer_status(operation, path), (content_type, response)


@pytest.mark.parametrize("operation,path", [(o, p) for o, p in ROUTE_PATHS if o.source == "body"],
                         ids=[f"{o.method} {p}" for o, p in ROUTE_PATHS if o.source == "body"])
def test_bodies_over_64_kib_are_413(rig, caller, operation, path):
    values = operation.valid_input()
    values[operation.fields[0]] = "x" * (64 * 1024)
    response = send(caller, operation, path, values)
    assert_error(response, 413, "payload_too_large")
    # Just under the cap is read (and refused for what it says, not for its size).
    padding = 64 * 1024 - len(json.dumps(operation.valid_input())) - 20
    values = operation.valid_input()
    values["pad"] = "p" * padding
    body = json.dumps(values).encode()
    assert len(body) <= 64 * 1024
    assert_error(send(caller, operation, path, raw_body=body), 400, "invalid_input", unexpected=["pad"])


def test_many_unknown_fields_are_listed(caller):
    body = {f"k{i}": i for i in range(3000)}
    error = assert_error(caller.post("/user/update", body), 400, "invalid_input",
                         missing=["refreshToken", "wrappedEnrolled", "releaseRadarEnrolled"],
                         unexpected=[f"k{i}" for i in range(3000)])
    assert len(error["fields"]["unexpected"]) == 3000


@pytest.mark.parametrize("operation,path", [(o, p) for o, p in ROUTE_PATHS if o.method == "POST"],
                         ids=[f"{o.method} {p}" for o, p in ROUTE_PATHS if o.method == "POST"])
def test_a_query_string_on_a_post_is_refused_like_unknown_fields(caller, operation, path):
    """A POST takes its fields from the body: `POST /user/update?email=<another user>` must not be accepted and
    the query quietly ignored."""
    api = caller if not operation.public else Api(caller.port)
    token = "default" if not operation.public else None
    response = api.request("POST", path + "?email=someone-else%40xomify.test&x=1", body=operation.valid_input(),
                           token=token)
    assert_error(response, 400, "invalid_input", unexpected=["email", "x"])


def test_del_and_c1_controls_are_refused_in_text_fields(caller):
    for bad in ["del\u007f", "c1\u0085next", "csi\u009b", "\u0080"]:
        for field in ("displayName", "avatar"):
            response = caller.post("/user/update", {"refreshToken": new_refresh_token(), field: bad})
            assert_error(response, 400, "invalid_input", invalid=[field])
        response = caller.post("/user/update", {"refreshToken": new_refresh_token(), "userId": "u" + bad})
        assert_error(response, 400, "invalid_input", invalid=["userId"])
    # Other non-ASCII text is fine, including the Unicode line separators (not controls).
    assert caller.post("/user/update", {"refreshToken": new_refresh_token(), "displayName": "Zoë\u2028Ǆ"}).status == 200

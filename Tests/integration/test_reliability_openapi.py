"""Reliability probe: property-based fuzzing of every operation of docs/openapi.yaml through nginx (SPEC §5.2 "No
input, however malformed, crashes a worker or yields a 5xx", §12).

Schemathesis generates the requests from the document, in its positive mode (inputs the document allows) and its
negative mode (inputs it forbids: wrong types, missing required fields, values out of range), each sent with a
valid user token or with a hostile one (expired, alg none, bad signature, legacy, garbage...). Every answer is
judged by Schemathesis' conformance checks against the same document (status documented for the operation,
media type, required headers, body schema, and negative inputs refused with a 4xx), and the pool is watched for
worker deaths (worker pids after every case, the status page's `crashes` counter after every operation). Cases
per operation: a few dozen in the fast subset, several hundred in the full run."""

import json
import os
import time
import warnings

import pytest

import reliability as R
from api_helpers import enrol, insert_week, insert_wrap, make_release, unique_email, user_api, utc_today, week_start
from reliability import DEATH, HANG, MISMATCH, SERVER_ERROR, budget, crashes, probe, timed
from secret_scan import SCAN
from xomify_rig import REPO

import schemathesis  # noqa: E402  (Tests/requirements.txt)
import requests  # noqa: E402  (a dependency of Schemathesis)
import urllib3  # noqa: E402
from hypothesis import HealthCheck, Phase, given, seed, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from schemathesis import GenerationMode  # noqa: E402
from schemathesis.specs.openapi.checks import (content_type_conformance, negative_data_rejection,  # noqa: E402
                                               response_headers_conformance, response_schema_conformance,
                                               status_code_conformance)

DOCUMENT = os.path.join(REPO, "docs", "openapi.yaml")
CHECKS = [status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance]
# (mode, token kind, variant, cases per operation in the fast subset and the full run). Variants: "headers" adds
# random extra headers (most cases none), "unknown query" adds query fields the operation does not have, which
# must be refused with 400 on every route, POSTs included (SPEC §5.2: unknown fields in a query string are
# rejected). Operations without parameters exhaust the positive space quickly; the variants keep them busy.
PLAN = [(GenerationMode.POSITIVE, "valid", "headers", 8, 220), (GenerationMode.NEGATIVE, "valid", None, 6, 160),
        (GenerationMode.POSITIVE, "hostile", None, 3, 60), (GenerationMode.NEGATIVE, "hostile", None, 2, 40),
        (GenerationMode.POSITIVE, "valid", "unknown query", 3, 80)]
HEADER_NAMES = st.from_regex(r"X-[A-Za-z0-9-]{1,24}", fullmatch=True)
HEADER_VALUES = st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7e), max_size=60)
EXTRA_HEADERS = st.one_of(st.just({}), st.dictionaries(HEADER_NAMES, HEADER_VALUES, min_size=1, max_size=3))
QUERY_NAMES = st.text(st.characters(blacklist_categories=["Cs"]), min_size=1, max_size=20)
QUERY_VALUES = st.text(st.characters(blacklist_categories=["Cs"]), max_size=30)


def operations():
    schema = schemathesis.openapi.from_path(DOCUMENT)
    # Reproductions show what was sent (test values only; tokens are shown by name, see curl()).
    schema.config.output.sanitization.enabled = False
    found = []
    for result in schema.get_all_operations():
        operation = result.ok()
        found.append(operation)
    return found


OPERATIONS = operations()


@pytest.fixture(scope="module")
def subject(reliability_rig):
    """User A, whose valid token the fuzzer uses: enrolled, with wraps and weeks so that answers carry every kind
    of object."""
    rig = reliability_rig
    api = user_api(rig, unique_email("fuzz"))
    enrol(api, displayName="Fuzz", avatar="https://i.example/f.png")
    insert_wrap(rig, api.email, "2025-11", playlist_id="pl-fuzz")
    insert_wrap(rig, api.email, "2025-06")
    current = week_start(utc_today())
    import datetime
    insert_week(rig, api.email, current - datetime.timedelta(days=7),
                releases=[make_release(1), make_release(2, "single")], playlist_id="rr-fuzz")
    return api


def remember_secrets(case, headers, response):
    """The fuzzer's exchanges go to the secret scan like api_client's: bodies received, bearer tokens sent, and
    refresh tokens sent when they are random enough not to match log text by chance."""
    SCAN.add_body(response.content)
    authorization = headers.get("Authorization", "")
    SCAN.add_bearer_token(authorization[7:] if authorization.lower().startswith("bearer ") else authorization)
    if isinstance(case.body, dict):
        for name in ("refreshToken", "spotifyAccessToken"):
            value = case.body.get(name)
            if isinstance(value, str) and len(value) >= 16 and len(set(value)) >= 10:
                SCAN.add_refresh_tokens([value])


def curl(case, headers, token_name):
    shown = dict(headers)
    if "Authorization" in shown:
        shown["Authorization"] = token_name
    try:
        return case.as_curl_command(headers=shown, verify=False)
    except Exception as error:  # noqa: BLE001 - a reproduction is best effort
        return f"<no curl command: {error}>"


@pytest.mark.parametrize("operation", OPERATIONS, ids=[f"{o.method.upper()} {o.path}" for o in OPERATIONS])
def test_openapi_fuzz(reliability_rig, subject, operation):
    rig = reliability_rig
    name = f"fuzz: {operation.method.upper()} {operation.path}"
    target = probe(name)
    hostile = list(R.bad_tokens(rig.jwt_secret, unique_email("fuzz-victim")).items())
    session = requests.Session()
    session.verify = False
    urllib3.disable_warnings()
    pids = set(rig.worker_pids())
    crashes_before = crashes(rig)
    token_names = {value: f"<hostile token: {name}>" for name, value in hostile}
    token_names[f"Bearer {subject.token}"] = "Bearer TOKEN_OF_A"

    known = {p.name for p in operation.query} if hasattr(operation, "query") else set()

    def refused_transfer_coding(case, headers, response):
        """nginx's 501 in the JSON envelope for a request whose generated headers name a transfer coding it does not
        implement: what HTTP prescribes (RFC 9112 §6.1), before the API sees anything, not a server error."""
        sent = {**(case.headers or {}), **headers}
        codings = [v for k, v in sent.items() if k.lower() == "transfer-encoding"]
        try:
            handler = response.json()["error"]["handler"]
        except Exception:  # noqa: BLE001
            handler = None
        return response.status_code == 501 and handler == "nginx" and any(v.strip().lower() != "chunked"
                                                                           for v in codings)

    def one(case, token, mode, kind, extra_headers, extra_query):
        headers = {"Authorization": token} if token else {}
        headers.update(extra_headers or {})
        extra_query = {k: v for k, v in (extra_query or {}).items() if k not in known}
        if extra_query:
            case.query = {**(case.query or {}), **extra_query}
        token_name = token_names.get(token, "no token")
        started = time.monotonic()
        try:
            response = case.call(base_url=rig.base_url, session=session, headers=headers, timeout=15, verify=False)
        except requests.exceptions.Timeout:
            target.failed(f"{mode.value} input, {token_name}", "no answer within 15 s", HANG, curl(case, headers, token_name))
            return
        except requests.exceptions.RequestException as error:
            target.failed(f"{mode.value} input, {token_name}", f"{type(error).__name__}: {error}"[:300], HANG,
                          curl(case, headers, token_name))
            return
        took = time.monotonic() - started
        remember_secrets(case, headers, response)
        target.measure(took, f"slowest answer {took * 1000:.0f} ms")
        now = set(rig.worker_pids())
        if not pids <= now:
            pids.clear()
            pids.update(now)
            target.failed(f"{mode.value} input, {token_name}", f"a worker died (pids now {sorted(now)}); answer "
                          f"{response.status_code} {response.content[:100]!r}", DEATH, curl(case, headers, token_name))
            return
        if refused_transfer_coding(case, headers, response):
            target.passed()  # answered by nginx before the API, so not the API document's to describe
            return
        if response.status_code >= 500:
            target.failed(f"{mode.value} input, {token_name}", f"{response.status_code} {response.content[:200]!r}",
                          SERVER_ERROR, curl(case, headers, token_name))
            return
        if extra_query and operation.path != "/status":
            try:
                code = response.json()["error"]["code"]
            except Exception:  # noqa: BLE001
                code = None
            if response.status_code != 400 or code != "invalid_input":
                target.failed(f"unknown query field(s) {sorted(extra_query)!r}, {token_name}",
                              f"answered {response.status_code} {response.content[:160]!r}, not 400 invalid_input",
                              MISMATCH, curl(case, headers, token_name))
                return
        checks = CHECKS + ([negative_data_rejection] if mode == GenerationMode.NEGATIVE else [])
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                case.validate_response(response, checks=checks, headers=headers)
        except Exception as failure:  # noqa: BLE001 - Schemathesis' FailureGroup (or a check's own error)
            message = " ".join(str(failure).split())
            message = message.split(" Reproduce with:")[0]
            target.failed(f"{mode.value} input, {token_name}", f"{response.status_code}: {message[:400]}", MISMATCH,
                          curl(case, headers, token_name))
            return
        target.passed()

    with timed(target):
        for number, (mode, kind, variant, fast, full) in enumerate(PLAN):
            try:
                strategy = operation.as_strategy(generation_mode=mode)
            except Exception as error:  # noqa: BLE001 - an operation with nothing to negate
                target.measure(0, f"no {mode.value} cases: {type(error).__name__}")
                continue
            tokens = st.just(f"Bearer {subject.token}") if kind == "valid" else \
                st.sampled_from([value for _, value in hostile])

            @settings(max_examples=budget(fast, full), deadline=None, database=None, phases=[Phase.generate],
                      suppress_health_check=list(HealthCheck), report_multiple_bugs=False)
            @seed(R.SEED + number)
            @given(case=strategy, token=tokens,
                   extra_headers=EXTRA_HEADERS if variant == "headers" else st.just({}),
                   extra_query=st.dictionaries(QUERY_NAMES, QUERY_VALUES, min_size=1, max_size=3)
                   if variant == "unknown query" else st.just({}))
            def run(case, token, extra_headers, extra_query):
                one(case, token, mode, kind, extra_headers, extra_query)

            try:
                run()
            except Exception as error:  # noqa: BLE001 - generation itself failed: say so in the table
                if "Unsatisfiable" in type(error).__name__ or "no" in str(error).lower()[:40]:
                    target.measure(0, f"{mode.value}: {type(error).__name__}")
                else:
                    raise
    after = crashes(rig)
    if crashes_before is not None and after is not None and after > crashes_before:
        target.failed("the operation's whole run", f"the status page counts {after - crashes_before} crash(es)",
                      DEATH)
    target.check()

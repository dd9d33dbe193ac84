"""Moving from the old system (SPEC §13): `xomify-api import-dynamodb` on a generated export of the three DynamoDB
tables (1,000 users, 20,000 wraps, their release radar weeks, and invalid records), in both formats AWS gives.
Everything valid is imported and every invalid record reported (table, key, reason); users come first whatever
the order of the paths; a dry run writes nothing; a second import, in the same format or the other, changes
nothing; no plaintext refresh token reaches the database, a log line or the output; and the API then answers
every user's history exactly as the export held it. The rate and peak memory of the import are printed."""

import base64
import concurrent.futures
import json
import os
import random
import re
import shutil
import subprocess

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from api_client import Api
from api_helpers import TIME_RANGES, assert_serves_this_rig, enrol, get_ok, ordered, strong_etag, user_api
from conftest import check_no_secrets
from dynamodb_export import USERS, WEEKS, WRAPS, Export
from import_helpers import TABLES, expected_report, fingerprint, pg_dump, row_counts, run_import
from secret_scan import SCAN
from xomify_rig import Rig, bin_dir


@pytest.fixture(scope="module")
def export(tmp_path_factory):
    """The big export, written in both formats: an S3 export per table (the users table under the old README's
    name `xomify-user`, a line that is not JSON in a wraps data file) and scan pages (the weeks gzipped)."""
    root = tmp_path_factory.mktemp("dynamodb")
    data = Export()
    SCAN.add_refresh_tokens(data.tokens)
    s3 = {USERS: data.write_s3_export(root / "s3-users", USERS, table_name="xomify-user"),
          WRAPS: data.write_s3_export(root / "s3", WRAPS, bad_line=True),
          WEEKS: data.write_s3_export(root / "s3", WEEKS)}
    scan = {table: data.write_scan_pages(root / "scan" / table, table, compress=table == WEEKS) for table in TABLES}
    yield data, s3, scan, root
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def imported(export):
    """One system through the migration: a dry run (scan pages, the users' folder last), the import (S3 export:
    the wraps' export folder, the weeks' manifest, then the folder above the users' AWSDynamoDB/), the same
    import again, and the scan pages once more."""
    data, s3, scan, root = export
    with Rig(sandbox=False, settings={"XOMIFY_ADMIN_EMAILS": "admin@xomify.test"}) as rig:
        assert_serves_this_rig(rig)
        SCAN.add_rig(rig)
        runs, prints = {}, {}
        scan_paths = [scan[WRAPS], scan[WEEKS], scan[USERS]]
        runs["dry"] = run_import(rig, "--dry-run", *scan_paths)
        prints["dry"] = (fingerprint(rig), row_counts(rig))
        s3_paths = [s3[WRAPS], os.path.join(s3[WEEKS], "manifest-summary.json"), root / "s3-users"]
        runs["first"] = run_import(rig, *s3_paths)
        prints["first"] = fingerprint(rig)
        tags = {email: strong_etag(get_ok(Api(rig.https_port), "/wrapped/data", token=user_token(rig, data, email)))
                for email in data.emails[:20]}
        runs["second"] = run_import(rig, *s3_paths)
        prints["second"] = fingerprint(rig)
        runs["scan"] = run_import(rig, *scan_paths)
        prints["scan"] = fingerprint(rig)
        yield rig, data, runs, prints, tags
        check_no_secrets(rig)


def user_token(rig, data, email):
    """A user token for `email`, minted as api_helpers.user_api mints them."""
    return user_api(rig, email, user_id=data.expected[email]["user"]["userId"]).token


def assert_report(run, data, scan, bad_line, outcome):
    counts, skips = expected_report(data, scan, bad_line=bad_line)
    assert run.returncode == 0, run.stdout + run.stderr[-3000:]
    got = run.counts
    for table in TABLES:
        expected = counts[table]
        assert got[table]["read"] == expected["read"], (table, got[table], expected)
        assert got[table]["reasons"] == expected["reasons"], (table, got[table]["reasons"], expected["reasons"])
        assert got[table]["skipped"] == sum(expected["reasons"].values())
        if outcome == "imported":
            assert (got[table]["imported"], got[table]["unchanged"]) == (expected["valid"], 0), (table, got[table])
        else:
            assert (got[table]["imported"], got[table]["unchanged"]) == (0, expected["valid"]), (table, got[table])
    reported = sorted((t, k, r) for t, k, r in run.skips if not k.startswith("(line "))
    assert reported == sorted(skips), (reported, sorted(skips))
    return got


# -- what the import reports ----------------------------------------------------------------------------

def test_import_takes_every_valid_record_and_reports_every_other(imported):
    _, data, runs, _, _ = imported
    first = assert_report(runs["first"], data, scan=False, bad_line=True, outcome="imported")
    assert first[USERS]["imported"] == 1000 and first[WRAPS]["imported"] >= 20000
    # The line that is not JSON is named by its file and line.
    broken = [f for f in runs["first"].skips if f[1].startswith("(line ")]
    assert broken == [(WRAPS, broken[0][1], "not an item in DynamoDB JSON")]
    assert "the database holds 1000 users" in runs["first"].stdout


def test_users_come_first_whatever_the_order_of_the_paths(imported):
    """The users' export was named last: no valid wrap or week was refused for want of its user."""
    rig, data, runs, _, _ = imported
    for run in runs.values():
        assert "user neither in the database nor in the export" not in {r for t, k, r in run.skips if "ghost@" not in k}
    assert row_counts(rig) == [1000, data.valid_count(WRAPS), data.valid_count(WEEKS)]


def test_a_dry_run_counts_what_the_import_does_and_writes_nothing(imported):
    _, data, runs, prints, _ = imported
    assert_report(runs["dry"], data, scan=True, bad_line=False, outcome="imported")
    assert "dry run: nothing was written" in runs["dry"].stdout
    assert prints["dry"][1] == [0, 0, 0]


def test_a_second_import_changes_nothing(imported):
    rig, data, runs, prints, tags = imported
    assert_report(runs["second"], data, scan=False, bad_line=True, outcome="unchanged")
    assert prints["second"] == prints["first"], "revisions, updated_at or rows moved"
    api = Api(rig.https_port)
    for email, tag in tags.items():
        again = api.get("/wrapped/data", token=user_token(rig, data, email), headers={"If-None-Match": tag})
        assert again.status == 304, (email, again)


def test_the_other_format_holds_the_same_data(imported):
    """The scan pages after the S3 export: every record already stored exactly so."""
    _, data, runs, prints, _ = imported
    assert_report(runs["scan"], data, scan=True, bad_line=False, outcome="unchanged")
    assert prints["scan"] == prints["first"]


# -- secrets ---------------------------------------------------------------------------------------------

def token_like(text, tokens):
    """The export's refresh tokens found in `text`, as they are or hex-encoded (bytea in a dump): every run of
    token characters long enough to be one is looked up, so a 100 MB dump is read once, not once per token."""
    found = set()
    for pattern, wanted in ((r"AQ[A-Za-z0-9_-]{20,}", set(tokens)), (r"4151[0-9a-f]{40,}", {t.encode().hex() for t in tokens})):
        lengths = {len(t) for t in wanted}
        for run in re.findall(pattern, text):
            found |= {run[i:i + n] for n in lengths for i in range(len(run) - n + 1)} & wanted
    return found


def test_no_plaintext_refresh_token_in_the_database_the_logs_or_the_output(imported):
    rig, data, runs, _, _ = imported
    output = "".join(run.stdout + run.stderr for run in runs.values())
    assert len(token_like(" ".join(data.tokens), data.tokens)) == len(data.tokens), "the search finds them"
    assert not token_like(pg_dump(rig), data.tokens)
    assert not token_like(output, data.tokens)
    assert not token_like(rig.logs(), data.tokens)
    assert "[redacted]" not in output


def test_tokens_are_sealed_for_their_row_and_states_follow_them(imported):
    """Decrypted here with the rig's key (version byte, nonce, AES-256-GCM, the row's email as associated data)."""
    rig, data, _, _, _ = imported
    key = base64.b64decode(open(rig.token_key_file).read().strip())
    rows = rig.postgres.rows("SELECT email, token_state, encode(refresh_token_ciphertext, 'hex') FROM users")
    assert len(rows) == 1000
    for email, state, hexed in rows:
        token = data.expected[email]["token"]
        if token is None:
            assert (state, hexed) == ("missing", "")
            continue
        stored = bytes.fromhex(hexed)
        assert state == "ok" and stored[0] == 1
        assert AESGCM(key).decrypt(stored[1:13], stored[13:], email.encode()).decode() == token


# -- the API ---------------------------------------------------------------------------------------------

def check_user(rig, data, api, email):
    expected = data.expected[email]
    token = user_token(rig, data, email)
    user = get_ok(api, "/user/data", token=token).json()
    assert user == expected["user"], (email, user, expected["user"])

    response = get_ok(api, "/wrapped/data", token=token)
    body = response.json()
    flags = {k: expected["user"][k] for k in ("active", "activeWrapped", "activeReleaseRadar")}
    assert {k: body[k] for k in flags} == flags
    months = sorted(expected["wraps"], reverse=True)
    assert [w["monthKey"] for w in body["wraps"]] == months, email
    for month, wrap in zip(months, ordered(response.body)[3][1]):
        want = expected["wraps"][month]
        got = dict(wrap)
        assert dict(got["topSongIds"]) == want["topSongIds"] and dict(got["topArtistIds"]) == want["topArtistIds"]
        assert [r for r, _ in got["topGenres"]] == list(("short_term", "medium_term", "long_term"))
        # Genre scores in the job's order: descending score, ties as the export listed them.
        assert {r: [tuple(p) for p in pairs] for r, pairs in got["topGenres"]} == want["topGenres"], (email, month)
        assert (got["playlistId"], got["createdAt"]) == (want["playlistId"], want["createdAt"])

    history = get_ok(api, "/release-radar/history?limit=104", token=token).json()
    weeks = [expected["weeks"][k] for k in sorted(expected["weeks"], reverse=True)]
    assert history["weeks"] == weeks and history["count"] == len(weeks), email
    return len(months)


def test_the_api_answers_every_users_history_as_the_export_held_it(imported):
    rig, data, _, _, _ = imported
    api = Api(rig.https_port)
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        wraps = sum(pool.map(lambda email: check_user(rig, data, api, email), data.emails))
    assert wraps == data.valid_count(WRAPS)
    # The user without history: flags and no wraps, no weeks.
    alone = data.emails[0]
    assert data.expected[alone]["wraps"] == {} and data.expected[alone]["weeks"] == {}


def wrap_json(email, month, want):
    """A wrap as Wrap.apiJSON renders it: compact, UTF-8 unescaped, the time ranges and genres in their order."""
    def dump(value):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))

    def ranges(lists):
        return "{" + ",".join(f'"{r}":{dump(lists[r])}' for r in TIME_RANGES) + "}"

    genres = "{" + ",".join(f'"{r}":{{' + ",".join(f"{dump(g)}:{s}" for g, s in want["topGenres"][r]) + "}"
                            for r in TIME_RANGES) + "}"
    return (f'{{"email":{dump(email)},"monthKey":"{month}","topSongIds":{ranges(want["topSongIds"])},'
            f'"topArtistIds":{ranges(want["topArtistIds"])},"topGenres":{genres},"playlistId":{dump(want["playlistId"])},'
            f'"createdAt":"{want["createdAt"]}"}}')


def test_a_month_is_the_very_json_the_job_writes(imported):
    """GET /wrapped/month byte for byte as Wrap.apiJSON renders a wrap, for a sample of 300."""
    rig, data, _, _, _ = imported
    api = Api(rig.https_port)
    sample = random.Random(7).sample([(e, m) for e in data.emails for m in data.expected[e]["wraps"]], 300)

    def check(pair):
        email, month = pair
        want = data.expected[email]["wraps"][month]
        response = get_ok(api, f"/wrapped/month?monthKey={month}", token=user_token(rig, data, email))
        assert response.body.decode() == wrap_json(email, month, want)

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        list(pool.map(check, sample))


# -- rate and memory -------------------------------------------------------------------------------------

def test_rate_and_peak_memory(imported, capsys):
    """Printed for the record; the memory must stay flat (the whole export is ~60 MB of JSON, 25 MB gzipped)."""
    _, _, runs, _, _ = imported
    with capsys.disabled():
        for name, run in runs.items():
            print(f"\n  import-dynamodb ({name}): {run.records_per_second} records/s, peak RSS {run.peak_kib} KiB")
    for run in runs.values():
        assert run.peak_kib is None or run.peak_kib < 80 * 1024


# -- smaller exports: changes, users already there, broken files, bad paths --------------------------------

@pytest.fixture
def small(imported, tmp_path):
    rig = imported[0]
    return rig, tmp_path


def small_export(domain, seed=11):
    data = Export(seed=seed, users=20, wraps=120, weeks_per_user=2, domain=domain)
    SCAN.add_refresh_tokens(data.tokens)
    return data


def test_a_later_export_changes_only_what_changed(small, imported):
    rig, tmp = small
    first = small_export("changes.test")
    run = run_import(rig, first.write_s3_export(tmp / "one", USERS), first.write_s3_export(tmp / "one", WRAPS),
                     first.write_s3_export(tmp / "one", WEEKS))
    assert run.returncode == 0, run.stderr
    before = {row[0]: row[1:] for row in rig.postgres.rows(
        "SELECT email, revision, updated_at, wraps_revision FROM users WHERE email LIKE '%@changes.test'")}

    # The same export, with one token rotated, one flag turned off and one wrap's playlist changed.
    again = small_export("changes.test")
    rotated, flagged, rewrapped = again.emails[1], again.emails[2], again.emails[3]
    new_token = "AQ" + "r" * 100
    SCAN.add_refresh_tokens([new_token])
    for record in again.records[USERS]:
        email = record.item.get("email", {}).get("S", "").lower()
        if email == rotated:
            record.item["refreshToken"] = {"S": new_token}
        if email == flagged:
            record.item["activeWrapped"] = {"BOOL": False}
    month = max(again.expected[rewrapped]["wraps"])
    for record in again.records[WRAPS]:
        if record.item["email"]["S"] == rewrapped and record.item.get("monthKey", {}).get("S") == month:
            record.item["playlistId"] = {"S": "newPlaylist0000000000"}
    run = run_import(rig, again.write_s3_export(tmp / "two", USERS), again.write_s3_export(tmp / "two", WRAPS),
                     again.write_s3_export(tmp / "two", WEEKS))
    counts = run.counts
    assert (counts[USERS]["imported"], counts[WRAPS]["imported"], counts[WEEKS]["imported"]) == (2, 1, 0), run.stdout
    after = {row[0]: row[1:] for row in rig.postgres.rows(
        "SELECT email, revision, updated_at, wraps_revision FROM users WHERE email LIKE '%@changes.test'")}
    moved = {email for email in before if before[email] != after[email]}
    assert moved == {rotated, flagged, rewrapped}, moved
    api = Api(rig.https_port)
    token = user_api(rig, flagged, user_id=again.expected[flagged]["user"]["userId"]).token
    assert api.get("/user/data", token=token).json()["activeWrapped"] is False
    token = user_api(rig, rewrapped, user_id=again.expected[rewrapped]["user"]["userId"]).token
    assert api.get(f"/wrapped/month?monthKey={month}", token=token).json()["playlistId"] == "newPlaylist0000000000"
    key = base64.b64decode(open(rig.token_key_file).read().strip())
    stored = bytes.fromhex(rig.postgres.psql(
        f"SELECT encode(refresh_token_ciphertext, 'hex') FROM users WHERE email = '{rotated}'").strip())
    assert AESGCM(key).decrypt(stored[1:13], stored[13:], rotated.encode()).decode() == new_token


def test_history_of_a_user_already_in_the_database(small):
    """A user who signed up with the new system is not in the export: their old history is still theirs."""
    rig, tmp = small
    me = user_api(rig, "early-bird@already.test")
    enrol(me)
    data = small_export("already.test")
    record = next(r for r in data.records[WRAPS] if r.reason is None)
    record.item["email"] = {"S": "Early-Bird@Already.test"}
    pages = tmp / "pages"
    pages.mkdir()
    (pages / "page.json").write_text(json.dumps({"Items": [record.item], "Count": 1, "ScannedCount": 1}))
    run = run_import(rig, pages)
    assert run.returncode == 0 and run.counts[WRAPS]["imported"] == 1, run.stdout + run.stderr
    month = record.item["monthKey"]["S"]
    assert me.get(f"/wrapped/month?monthKey={month}").status == 200


def test_a_broken_data_file_is_reported_and_the_rest_imported(small):
    rig, tmp = small
    data = small_export("broken.test", seed=12)
    folder = data.write_s3_export(tmp, USERS, files=3)
    manifest = [json.loads(line) for line in open(os.path.join(folder, "manifest-files.json"))]
    victim = os.path.join(folder, "data", manifest[0]["dataFileS3Key"].rsplit("/", 1)[1])
    packed = open(victim, "rb").read()
    with open(victim, "wb") as f:
        f.write(packed[:len(packed) // 2])  # a download cut short
    run = run_import(rig, folder)
    assert run.returncode == 1, run.stdout
    assert "file problem" in run.stdout and "truncated" in run.stdout
    lost = manifest[0]["itemCount"]
    assert 0 < run.counts[USERS]["imported"] <= 20 and run.counts[USERS]["read"] < len(data.records[USERS])
    assert lost > 0


def test_paths_that_are_not_exports_stop_before_anything_is_written(small):
    rig, tmp = small
    before = fingerprint(rig)
    assert run_import(rig, tmp / "nowhere").returncode == 66
    odd = small_export("odd.test", seed=13)
    folder = odd.write_s3_export(tmp / "odd", USERS, table_name="orders")
    run = run_import(rig, folder)
    assert run.returncode == 66 and "orders" in run.stderr
    folder = odd.write_s3_export(tmp / "half", USERS)
    name = json.loads(open(os.path.join(folder, "manifest-files.json")).readline())["dataFileS3Key"].rsplit("/", 1)[1]
    os.remove(os.path.join(folder, "data", name))
    good = odd.write_s3_export(tmp / "good", WRAPS)
    assert run_import(rig, good, folder).returncode == 66, "a missing data file stops the run before it starts"
    assert run_import(rig).returncode == 64
    assert run_import(rig, "--everything", folder).returncode == 64
    assert fingerprint(rig) == before


def test_help_lists_the_command(imported):
    rig = imported[0]
    result = subprocess.run([os.path.join(bin_dir(), "xomify-api"), "--help"], env=rig.settings(), capture_output=True,
                            text=True, timeout=30)
    assert result.returncode == 0 and "import-dynamodb [--dry-run]" in result.stdout

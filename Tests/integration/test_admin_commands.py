"""The operator's commands of xomify-api beside serving (SPEC §2, §3): `check-config`, which systemd's
ExecReload= runs before the SIGHUP, and `mint-token`, a short-lived user token for a user of the database.
Also what makes a reload after an upgrade safe: workers run their supervisor's own executable, and
check-config under a reload refuses when the installed executable is no longer the running one."""

import base64
import json
import os
import re
import shutil
import signal
import subprocess
import time

import pytest

from api_client import Api
from xomify_rig import bin_dir, free_port, wait_until

JWT_PATTERN = re.compile(r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$")


def xomify_api(rig, *args, env_overrides=None, executable=None, **overrides):
    env = rig.settings(**overrides)
    env.update(env_overrides or {})
    return subprocess.run([executable or os.path.join(bin_dir(), "xomify-api")] + list(args), env=env,
                          capture_output=True, text=True, timeout=60)


def lines(text):
    return [line for line in text.splitlines() if line.strip()]


def claims(token):
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


# ---- check-config ---------------------------------------------------------------------------------------------

def test_check_config_accepts_a_good_configuration_without_serving(rig, tmp_path):
    socket_path = tmp_path / "api.sock"
    result = xomify_api(rig, "check-config", XOMIFY_LISTEN=str(socket_path))
    assert result.returncode == 0, result.stderr
    assert len(lines(result.stdout)) == 1 and "configuration OK" in result.stdout
    assert result.stderr == ""
    assert not socket_path.exists()


@pytest.mark.parametrize("case", ["short jwt secret", "short jwt secret in the credentials directory",
                                  "token key ring line", "token key length", "pool workers", "pool body cap flag",
                                  "legacy tokens", "sql directory", "unknown key in the file", "missing token key"])
def test_check_config_names_the_bad_setting_in_one_line(rig, tmp_path, case):
    short = "s" * 20
    overrides, env_overrides, args = {}, {}, []
    if case == "short jwt secret":
        (tmp_path / "jwt").write_text(short + "\n")
        overrides["XOMIFY_JWT_SECRET_FILE"] = str(tmp_path / "jwt")
        expected = "XOMIFY_JWT_SECRET_FILE"
    elif case == "short jwt secret in the credentials directory":
        # systemd's copy wins over the file the configuration names (which is fine here).
        (tmp_path / "jwt-secret").write_text(short)
        env_overrides["CREDENTIALS_DIRECTORY"] = str(tmp_path)
        expected = "XOMIFY_JWT_SECRET_FILE"
    elif case == "token key ring line":
        key = base64.b64encode(os.urandom(32)).decode()
        (tmp_path / "keys").write_text(f"1:{key}\nx2:{key}\n")
        overrides["XOMIFY_TOKEN_KEY_FILE"] = str(tmp_path / "keys")
        expected = "XOMIFY_TOKEN_KEY_FILE"
    elif case == "token key length":
        (tmp_path / "keys").write_text(base64.b64encode(os.urandom(16)).decode() + "\n")
        overrides["XOMIFY_TOKEN_KEY_FILE"] = str(tmp_path / "keys")
        expected = "XOMIFY_TOKEN_KEY_FILE"
    elif case == "missing token key":
        overrides["XOMIFY_TOKEN_KEY_FILE"] = str(tmp_path / "nowhere")
        expected = "XOMIFY_TOKEN_KEY_FILE"
    elif case == "pool workers":
        overrides["XOMIFY_WORKERS"] = "0"
        expected = "XOMIFY_WORKERS"
    elif case == "pool body cap flag":
        args = ["--max-body-bytes", "10"]
        expected = "XOMIFY_MAX_BODY_BYTES"
    elif case == "legacy tokens":
        overrides["XOMIFY_LEGACY_TOKENS"] = "sometimes"
        expected = "XOMIFY_LEGACY_TOKENS"
    elif case == "sql directory":
        overrides["XOMIFY_SQL_DIR"] = str(tmp_path / "no-sql-here")
        expected = "XOMIFY_SQL_DIR"
    else:
        config = tmp_path / "xomify.conf"
        config.write_text("XOMIFY_WORKERS=2\nXOMIFY_WORKRES=3\n")
        overrides["XOMIFY_CONFIG"] = str(config)
        expected = "XOMIFY_WORKRES"
    result = xomify_api(rig, "check-config", *args, env_overrides=env_overrides, **overrides)
    assert result.returncode == 78, (result.stdout, result.stderr)
    assert result.stdout == ""
    assert len(lines(result.stderr)) == 1, result.stderr
    assert expected in result.stderr
    assert short not in result.stderr


def test_check_config_under_a_reload_refuses_a_replaced_executable(make_rig, tmp_path):
    """An upgrade installs a new binary over the one the pool runs: a SIGHUP would start workers from the
    supervisor's own (old) executable, which is not what the operator meant. check-config, as ExecReload= runs
    it (MAINPID set), says so and fails the reload; before the upgrade it passes. Meanwhile a SIGHUP sent anyway
    keeps every worker on the supervisor's executable."""
    rig = make_rig(sandbox=False, workers=2, threads=1)
    installed = tmp_path / "bin" / "xomify-api"
    installed.parent.mkdir()
    shutil.copy(os.path.join(bin_dir(), "xomify-api"), installed)
    socket_path = tmp_path / "pool.sock"
    log = open(tmp_path / "pool.log", "ab")
    pool = subprocess.Popen([str(installed)], env=rig.settings(XOMIFY_LISTEN=str(socket_path)), stdout=log, stderr=log)
    try:
        def workers():
            try:
                return [int(p) for p in open(f"/proc/{pool.pid}/task/{pool.pid}/children").read().split()]
            except FileNotFoundError:
                return []
        wait_until(lambda: len(workers()) == 2, 30, what="the pool's workers")
        same = xomify_api(rig, "check-config", executable=str(installed), env_overrides={"MAINPID": str(pool.pid)})
        assert same.returncode == 0, same.stderr

        # The upgrade: a new file at the same path (install(1) replaces, it does not write in place).
        replacement = tmp_path / "bin" / "xomify-api.new"
        shutil.copy(os.path.join(bin_dir(), "xomify-api"), replacement)
        os.rename(replacement, installed)
        replaced = xomify_api(rig, "check-config", executable=str(installed), env_overrides={"MAINPID": str(pool.pid)})
        assert replaced.returncode == 78
        assert len(lines(replaced.stderr)) == 1 and "executable" in replaced.stderr
        assert "(deleted)" in replaced.stderr and "restart" in replaced.stderr
        # By hand (no MAINPID) there is nothing to compare with: the configuration itself is fine.
        assert xomify_api(rig, "check-config", executable=str(installed)).returncode == 0

        # A SIGHUP anyway: the new workers run the supervisor's executable, not the file installed since.
        before = set(workers())
        pool.send_signal(signal.SIGHUP)
        wait_until(lambda: len(workers()) == 2 and not before & set(workers()), 30, what="the reloaded workers")
        supervisor = os.stat(f"/proc/{pool.pid}/exe")
        for pid in workers():
            worker = os.stat(f"/proc/{pid}/exe")
            assert (worker.st_dev, worker.st_ino) == (supervisor.st_dev, supervisor.st_ino)
            assert os.readlink(f"/proc/{pid}/exe").endswith("(deleted)")
    finally:
        pool.send_signal(signal.SIGTERM)
        pool.wait(30)
        log.close()


# ---- mint-token -----------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def checked_user(rig):
    """A user of the database, made through the API as the apps make them."""
    email = "mint-token@xomify.test"
    api = Api(rig.https_port, token=rig.token(email, "minttoken"))
    assert api.post("/user/update", {"userId": "minttoken", "refreshToken": "r" * 24}).status == 200
    return email


def test_mint_token_prints_a_token_the_api_accepts(rig, checked_user):
    result = xomify_api(rig, "mint-token", checked_user.upper())
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    token = result.stdout.strip()
    assert result.stdout == token + "\n" and JWT_PATTERN.match(token)
    minted = claims(token)
    assert minted["email"] == checked_user and minted["userId"] == "minttoken"
    assert minted["exp"] - minted["iat"] == 600
    assert abs(minted["iat"] - time.time()) < 60

    api = Api(rig.https_port, token=token)
    first = api.get("/wrapped/data")
    assert first.status == 200 and first.json()["active"] is True
    etag = first.header("etag")
    assert etag
    assert api.get("/wrapped/data", headers={"If-None-Match": etag}).status == 304


@pytest.mark.parametrize("ttl,seconds", [("90s", 90), ("2h", 7200), ("7d", 7 * 86400)])
def test_mint_token_ttl(rig, checked_user, ttl, seconds):
    for args in (["--ttl", ttl], [f"--ttl={ttl}"]):
        result = xomify_api(rig, "mint-token", checked_user, *args)
        assert result.returncode == 0, result.stderr
        minted = claims(result.stdout.strip())
        assert minted["exp"] - minted["iat"] == seconds


@pytest.mark.parametrize("args", [[], ["--ttl", "8d"], ["--ttl", "0m"], ["--ttl", "10"], ["not-an-email"],
                                  ["a@xomify.test", "b@xomify.test"]])
def test_mint_token_usage_errors(rig, args):
    result = xomify_api(rig, "mint-token", *args)
    assert result.returncode == 64
    assert result.stdout == "" and len(lines(result.stderr)) == 1


def test_mint_token_refuses_an_email_not_in_the_database(rig):
    result = xomify_api(rig, "mint-token", "nobody-here@xomify.test")
    assert result.returncode == 67
    assert result.stdout == ""
    assert len(lines(result.stderr)) == 1 and "nobody-here@xomify.test" in result.stderr
    assert rig.postgres.psql("SELECT count(*) FROM users WHERE email = 'nobody-here@xomify.test'").strip() == "0"


def test_mint_token_without_a_database_or_a_secret(rig, checked_user, tmp_path):
    down = xomify_api(rig, "mint-token", checked_user,
                      XOMIFY_DATABASE_URL=f"host=127.0.0.1 port={free_port()} dbname=xomify connect_timeout=2")
    assert down.returncode == 69 and down.stdout == ""
    (tmp_path / "short").write_text("too short")
    short = xomify_api(rig, "mint-token", checked_user, XOMIFY_JWT_SECRET_FILE=str(tmp_path / "short"))
    assert short.returncode == 78 and short.stdout == "" and "XOMIFY_JWT_SECRET_FILE" in short.stderr

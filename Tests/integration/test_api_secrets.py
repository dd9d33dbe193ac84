"""Refresh tokens at rest (SPEC §4: AES-256-GCM, random nonce, key version byte, the row's email as associated
data) and secrets kept out of every answer and log line (SPEC §3, §5.3)."""

import base64

import pytest
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from api_client import Api
from api_helpers import enrol, new_refresh_token, unique_email, user_api
from secret_scan import SCAN


def token_key(rig):
    """The refresh-token key from the rig's secrets directory (one base64 line: version 1)."""
    lines = [line.strip() for line in open(rig.token_key_file) if line.strip() and not line.startswith("#")]
    key = base64.b64decode(lines[-1])
    assert len(key) == 32
    return key


def stored_ciphertext(rig, email):
    hexed = rig.postgres.psql(f"SELECT encode(refresh_token_ciphertext, 'hex') FROM users WHERE email = '{email}'")
    return bytes.fromhex(hexed.strip())


def open_token(key, stored, email):
    """version byte ‖ 12-byte nonce ‖ ciphertext ‖ 16-byte tag; associated data: the row's lower-cased email."""
    assert stored[0] == 1
    nonce, sealed = stored[1:13], stored[13:]
    return AESGCM(key).decrypt(nonce, sealed, email.lower().encode()).decode()


def test_refresh_tokens_are_stored_encrypted_and_bound_to_their_row(rig):
    key = token_key(rig)
    email_a = unique_email("cipher-a")
    a = user_api(rig, email_a.upper())  # the row's email is lower-cased, and so is the associated data
    b = user_api(rig, unique_email("cipher-b"))
    token_a, token_b = new_refresh_token(), new_refresh_token()
    enrol(a, refreshToken=token_a)
    assert b.post("/wrapped/data", {"refreshToken": token_b, "active": True}).status == 200

    stored_a = stored_ciphertext(rig, email_a)
    stored_b = stored_ciphertext(rig, b.email)
    # Not the plaintext, in any form psql could show it.
    for stored, token in [(stored_a, token_a), (stored_b, token_b)]:
        assert token.encode() not in stored
        assert len(stored) == 1 + 12 + len(token.encode()) + 16
    raw = rig.postgres.psql(f"SELECT refresh_token_ciphertext::text, encode(refresh_token_ciphertext, 'escape') "
                            f"FROM users WHERE email IN ('{email_a}', '{b.email}')")
    assert token_a not in raw and token_b not in raw
    # It opens with the key and the row's own (lower-cased) email only.
    assert open_token(key, stored_a, email_a) == token_a
    assert open_token(key, stored_b, b.email) == token_b
    with pytest.raises(InvalidTag):
        open_token(key, stored_a, b.email)
    with pytest.raises(InvalidTag):
        open_token(bytes(32), stored_a, email_a)

    # A ciphertext copied to another row (with psql) does not decrypt there.
    rig.postgres.psql(f"""UPDATE users SET refresh_token_ciphertext =
                              (SELECT refresh_token_ciphertext FROM users WHERE email = '{email_a}')
                          WHERE email = '{b.email}'""")
    copied = stored_ciphertext(rig, b.email)
    assert copied == stored_a
    with pytest.raises(InvalidTag):
        open_token(key, copied, b.email)
    # The API never decrypts or returns it: B's record still reads, without any token in it.
    response = b.get("/user/data")
    assert response.status == 200
    assert token_a.encode() not in response.body and token_b.encode() not in response.body
    assert b"refresh" not in response.body.lower()

    # The same token sealed twice gets two nonces.
    enrol(a, refreshToken=token_a)
    again = stored_ciphertext(rig, email_a)
    assert again != stored_a and again[1:13] != stored_a[1:13]
    assert open_token(key, again, email_a) == token_a


def test_no_answer_carries_a_refresh_token(rig):
    """Every route a client uses after posting a token, and the errors around them."""
    email = unique_email("leak")
    api = user_api(rig, email)
    token = new_refresh_token()
    answers = [
        api.post("/user/update", {"refreshToken": token, "displayName": "Leak"}),
        api.post("/user/user-table", {"refreshToken": token, "wrappedEnrolled": True}),
        api.post("/wrapped/data", {"refreshToken": token, "active": True}),
        api.post("/wrapped/update", {"refreshToken": token, "active": "yes"}),  # 400
        api.post("/user/update", {"refreshToken": token, "surprise": token}),  # 400 naming the field only
        api.post("/user/update", {"email": unique_email("else"), "refreshToken": token}),  # 403
        api.get("/user/data"), api.get("/user/user-table"), api.get("/wrapped/data"), api.get("/wrapped/all"),
        api.get("/release-radar/check"), api.get("/release-radar/history"),
    ]
    assert [r.status for r in answers[:6]] == [200, 200, 200, 400, 400, 403]
    for response in answers:
        assert token.encode() not in response.body, response
        assert rig.jwt_secret.encode() not in response.body
        assert api.token.encode() not in response.body


def test_nothing_seen_so_far_leaks(rig):
    """The session-wide scan (conftest checks it again at the very end): every response body recorded in this run
    and the shared rig's logs hold no refresh token, JWT secret or client bearer token."""
    api = Api(rig.https_port)
    # Make sure there is something to find if the server did leak: tokens posted, a bad bearer token sent.
    enrol(user_api(rig, unique_email("scan")))
    api.get("/wrapped/data", token="eyJhbGciOiJIUzI1NiJ9.eyJlbWFpbCI6ImFAYi5jIn0.bm90LWEtc2lnbmF0dXJlLWF0LWFsbA")
    assert SCAN.refresh_tokens and SCAN.bodies and SCAN.bearer_tokens
    SCAN.add_rig(rig)
    assert SCAN.leaks_in_bodies() == []
    assert SCAN.leaks_in_logs(rig.logs()) == []
    # The scan itself can find what it looks for.
    assert SCAN.leaks_in_logs("x " + next(iter(SCAN.refresh_tokens)) + " y")

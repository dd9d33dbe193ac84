"""The accounts service: ``POST /api/token`` (refresh-token grant, client checked by Basic auth)."""

import base64
import binascii
from urllib.parse import parse_qs

from .errors import OAuthError

CLIENT_ID = "sandbox-client"
CLIENT_SECRET = "sandbox-secret"


def check_client(authorization):
    scheme, _, encoded = (authorization or "").strip().partition(" ")
    if scheme.lower() != "basic":
        raise OAuthError("invalid_client", "Invalid client")
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise OAuthError("invalid_client", "Invalid client") from None
    client_id, sep, secret = decoded.partition(":")
    if not sep or client_id != CLIENT_ID:
        raise OAuthError("invalid_client", "Invalid client")
    if secret != CLIENT_SECRET:
        raise OAuthError("invalid_client", "Invalid client secret")


def token(request):
    check_client(request.headers.get("Authorization"))
    content_type = (request.headers.get("Content-Type") or "").split(";")[0].strip().lower()
    if content_type not in ("application/x-www-form-urlencoded", ""):
        raise OAuthError("invalid_request", "Content-Type must be application/x-www-form-urlencoded")
    try:
        form = parse_qs(request.body.decode("utf-8"), keep_blank_values=True)
    except UnicodeDecodeError:
        raise OAuthError("invalid_request", "Malformed form body") from None
    # Spotify also reads the parameters from the query string.
    for key, values in request.query.items():
        form.setdefault(key, values)
    grant_type = (form.get("grant_type") or [""])[0]
    if not grant_type:
        raise OAuthError("unsupported_grant_type", "grant_type parameter is missing")
    if grant_type != "refresh_token":
        raise OAuthError("unsupported_grant_type", f"grant_type must be refresh_token in the sandbox, not {grant_type!r}")
    refresh_token = (form.get("refresh_token") or [""])[0]
    if not refresh_token:
        raise OAuthError("invalid_request", "refresh_token must be supplied")
    return 200, request.state.refresh(refresh_token), {}

"""The Web API endpoints of SPEC §6 (the ones a development-mode app may still call).

Each handler takes a SandboxRequest (with ``user`` already authenticated) and returns
``(status, json-able body or None, extra headers)``; errors are raised as ApiError.
"""

import base64
import binascii

from .catalogue import GROUP_ORDER, TIME_RANGES
from .errors import ApiError
from .ids import is_base62_id
from .state import valid_track_uri

MAX_URIS_PER_REQUEST = 100
MAX_COVER_BASE64_BYTES = 256 * 1024
JPEG_MAGIC = b"\xff\xd8"


def _catalogue_id(request, table):
    value = request.path_params["id"]
    if not is_base62_id(value):
        raise ApiError(400, "Invalid base62 id")
    found = table.get(value)
    if found is None:
        raise ApiError(404, "Resource not found")
    return found


def _offset(request):
    return request.int_arg("offset", 0, 0, 100_000, "Invalid offset")


# ---------------------------------------------------------------------- users
def me(request):
    return 200, request.shapes.private_user(request.user), {}


def top_items(request):
    kind = request.path_params["type"]
    if kind not in ("artists", "tracks"):
        raise ApiError(400, "Invalid type: only artists and tracks are supported")
    time_range = request.arg("time_range", "medium_term")
    if time_range not in TIME_RANGES:
        raise ApiError(400, "Invalid time range")
    limit = request.int_arg("limit", 20, 1, 50, "Invalid limit")
    offset = _offset(request)
    ids = request.state.catalogue.top[request.user.id][kind][time_range]
    cat, shapes = request.state.catalogue, request.shapes
    chunk = ids[offset:offset + limit]
    if kind == "artists":
        items = [shapes.artist(a) for a in chunk]
    else:
        items = [shapes.track(cat.tracks_by_id[t]) for t in chunk]
    page = shapes.paging(f"/v1/me/top/{kind}", items, offset, limit, len(ids), f"&time_range={time_range}")
    return 200, page, {}


def followed_artists(request):
    kind = request.arg("type")
    if kind is None:
        raise ApiError(400, "Missing required parameter: type")
    if kind != "artist":
        raise ApiError(400, "Invalid type: only artist is supported")
    limit = request.int_arg("limit", 20, 1, 50, "Invalid limit")
    cat = request.state.catalogue
    follows = cat.follows[request.user.id]
    after = request.arg("after")
    start = 0
    if after:
        position = cat.follow_position(request.user.id, after)
        if position is None:
            raise ApiError(400, "Invalid cursor: after")
        start = position + 1
    chunk = follows[start:start + limit]
    has_more = start + limit < len(follows)
    return 200, request.shapes.cursor_paging_artists(chunk, limit, after, has_more, len(follows)), {}


# --------------------------------------------------------------------- albums
def artist_albums(request):
    cat = request.state.catalogue
    artist = _catalogue_id(request, cat.artists_by_id)
    raw_groups = request.arg("include_groups")
    extra = ""
    groups = set(GROUP_ORDER)
    if raw_groups is not None and raw_groups.strip():
        wanted = [g.strip().lower() for g in raw_groups.split(",") if g.strip()]
        if not wanted or any(g not in GROUP_ORDER for g in wanted):
            raise ApiError(400, "Invalid include_groups")
        groups = set(wanted)
        extra = "&include_groups=" + ",".join(wanted)
    limit = request.int_arg("limit", 5, 1, 10, "Invalid limit")
    offset = _offset(request)
    entries = [(g, a) for g, a in cat.discography[artist.id] if g in groups]
    shapes = request.shapes
    items = [shapes.discography_album(album, group) for group, album in entries[offset:offset + limit]]
    return 200, shapes.paging(f"/v1/artists/{artist.id}/albums", items, offset, limit, len(entries), extra), {}


def album(request):
    found = _catalogue_id(request, request.state.catalogue.albums_by_id)
    return 200, request.shapes.album_json(found), {}


def album_tracks(request):
    found = _catalogue_id(request, request.state.catalogue.albums_by_id)
    limit = request.int_arg("limit", 20, 1, 50, "Invalid limit")
    offset = _offset(request)
    return 200, request.shapes.album_tracks_page(found, offset, limit), {}


# ------------------------------------------------------------------ playlists
def create_playlist(request):
    body = request.json_body()
    if not isinstance(body, dict):
        raise ApiError(400, "Error parsing JSON.")
    name = body.get("name")
    if not isinstance(name, str) or not name.strip():
        raise ApiError(400, "Missing required field: name")
    description = body.get("description", "")
    if description is None:
        description = ""
    if not isinstance(description, str):
        raise ApiError(400, "Invalid description")
    public = body.get("public", True)
    collaborative = body.get("collaborative", False)
    if not isinstance(public, bool) or not isinstance(collaborative, bool):
        raise ApiError(400, "Invalid public/collaborative value")
    if collaborative and public:
        raise ApiError(400, "A collaborative playlist cannot be public")
    playlist = request.state.create_playlist(request.user.id, name, description, public, collaborative)
    answer = request.shapes.playlist(playlist, request.user)
    return 201, answer, {"Location": answer["href"]}


def my_playlists(request):
    limit = request.int_arg("limit", 20, 1, 50, "Invalid limit")
    offset = _offset(request)
    owned = request.state.owned_playlists(request.user.id)
    items = [request.shapes.simplified_playlist(p, request.user) for p in owned[offset:offset + limit]]
    return 200, request.shapes.paging("/v1/me/playlists", items, offset, limit, len(owned)), {}


def _uris(request, body):
    """The uris of an items call: the ``uris`` query parameter wins over the body's."""
    if request.has_arg("uris"):
        raw = request.arg("uris", "")
        uris = [u.strip() for u in raw.split(",") if u.strip()]
    elif isinstance(body, dict) and "uris" in body:
        uris = body["uris"]
        if not isinstance(uris, list):
            raise ApiError(400, "Invalid uris: expected an array")
    else:
        return None
    if len(uris) > MAX_URIS_PER_REQUEST:
        raise ApiError(400, "You can add a maximum of 100 tracks per request.")
    for uri in uris:
        if not valid_track_uri(uri, request.state.catalogue):
            raise ApiError(400, f"Invalid track uri: {uri}" if isinstance(uri, str) else "Invalid track uri")
    return uris


def _playlist_body(request):
    if not request.body.strip():
        return None
    body = request.json_body()
    if not isinstance(body, dict):
        raise ApiError(400, "Error parsing JSON.")
    return body


def replace_playlist_items(request):
    playlist_id = request.path_params["id"]
    request.state.check_writable(playlist_id, request.user.id)
    body = _playlist_body(request)
    if isinstance(body, dict) and "range_start" in body:
        raise ApiError(400, "Reordering playlist items is not supported by the sandbox")
    uris = _uris(request, body)
    if uris is None:
        raise ApiError(400, "Missing required field: uris")
    snapshot = request.state.replace_items(playlist_id, request.user.id, uris)
    return 200, {"snapshot_id": snapshot}, {}


def add_playlist_items(request):
    playlist_id = request.path_params["id"]
    request.state.check_writable(playlist_id, request.user.id)
    body = _playlist_body(request)
    uris = _uris(request, body)
    if not uris:
        raise ApiError(400, "No uris provided")
    position = None
    if request.has_arg("position"):
        position = request.int_arg("position", None, 0, None, "Invalid position")
    elif isinstance(body, dict) and body.get("position") is not None:
        position = body["position"]
        if isinstance(position, bool) or not isinstance(position, int) or position < 0:
            raise ApiError(400, "Invalid position")
    snapshot = request.state.add_items(playlist_id, request.user.id, uris, position)
    return 201, {"snapshot_id": snapshot}, {}


def upload_playlist_cover(request):
    playlist_id = request.path_params["id"]
    request.state.check_writable(playlist_id, request.user.id)
    content_type = (request.headers.get("Content-Type") or "").split(";")[0].strip().lower()
    if content_type != "image/jpeg":
        raise ApiError(400, "Content-Type must be image/jpeg")
    if len(request.body) > MAX_COVER_BASE64_BYTES:
        raise ApiError(413, "Payload too large: the base64 image may be at most 256 KB")
    data = b"".join(request.body.split())
    if not data:
        raise ApiError(400, "Missing image data")
    try:
        image = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise ApiError(400, "Image data is not valid base64") from None
    if not image.startswith(JPEG_MAGIC):
        raise ApiError(400, "Image is not a JPEG")
    request.state.set_cover(playlist_id, request.user.id, len(image))
    return 202, None, {}


# ------------------------------------------------------------------------ gone
def gone(request):
    """Endpoints removed for development-mode apps."""
    raise ApiError(403, "Forbidden: this endpoint is not available to development-mode apps")

"""The route table: which handler answers a (method, path), and its "METHOD /template" log key."""

import re
from dataclasses import dataclass

from . import accounts, web_api

WEB_API = "web"  # /v1 endpoints of SPEC §6
GONE = "gone"  # /v1 endpoints removed for development-mode apps (403)
ACCOUNTS = "accounts"  # /api/token
CONTROL = "control"  # /_sandbox/...
UNKNOWN = "unknown"  # no such path (404) or method (405)

ANY = "*"
ID = r"(?P<id>[^/]+)"


@dataclass(frozen=True)
class Route:
    method: str
    template: str
    kind: str
    handler: object
    pattern: object

    def key(self, method):
        return f"{method} {self.template}"


def _route(method, template, kind, handler):
    regex = "^" + re.escape(template).replace(r"\{id\}", ID).replace(r"\{type\}", r"(?P<type>[^/]+)") + "$"
    return Route(method, template, kind, handler, re.compile(regex))


WEB_ROUTES = [
    _route("POST", "/api/token", ACCOUNTS, accounts.token),
    _route("GET", "/v1/me", WEB_API, web_api.me),
    _route("GET", "/v1/me/top/{type}", WEB_API, web_api.top_items),
    _route("GET", "/v1/me/following", WEB_API, web_api.followed_artists),
    _route("GET", "/v1/artists/{id}/albums", WEB_API, web_api.artist_albums),
    _route("GET", "/v1/albums/{id}", WEB_API, web_api.album),
    _route("GET", "/v1/albums/{id}/tracks", WEB_API, web_api.album_tracks),
    _route("GET", "/v1/me/playlists", WEB_API, web_api.my_playlists),
    _route("POST", "/v1/me/playlists", WEB_API, web_api.create_playlist),
    _route("PUT", "/v1/playlists/{id}/items", WEB_API, web_api.replace_playlist_items),
    _route("POST", "/v1/playlists/{id}/items", WEB_API, web_api.add_playlist_items),
    _route("PUT", "/v1/playlists/{id}/images", WEB_API, web_api.upload_playlist_cover),
    # Gone for development-mode apps: 403, counted in stats "gone".
    _route("GET", "/v1/albums", GONE, web_api.gone),
    _route("GET", "/v1/artists", GONE, web_api.gone),
    _route("GET", "/v1/tracks", GONE, web_api.gone),
    _route(ANY, "/v1/users/{id}/playlists", GONE, web_api.gone),
    _route(ANY, "/v1/playlists/{id}/tracks", GONE, web_api.gone),
    _route("GET", "/v1/browse/new-releases", GONE, web_api.gone),
]


@dataclass(frozen=True)
class Match:
    kind: str
    key: str
    handler: object = None
    params: dict = None
    allowed: tuple = ()


def match_web(method, path):
    allowed = []
    for route in WEB_ROUTES:
        found = route.pattern.match(path)
        if not found:
            continue
        if route.method in (ANY, method):
            return Match(route.kind, route.key(method), route.handler, found.groupdict())
        allowed.append(route.method)
    if allowed:
        return Match(UNKNOWN, f"{method} (method not allowed)", allowed=tuple(sorted(set(allowed))))
    return Match(UNKNOWN, f"{method} (unknown path)")

"""Inspection and control endpoints under ``/_sandbox/`` (no auth; see SPEC §9)."""

import json

from .clock import format_iso8601
from .errors import ControlError


def catalogue_document(catalogue):
    """The whole catalogue as tests and benchmarks read it (built once; it never changes)."""
    artists = []
    for artist in catalogue.artists:
        entry = {"id": artist.id, "name": artist.name}
        if artist.genres is not None:
            entry["genres"] = list(artist.genres)
        entry["popularity"] = artist.popularity
        entry["followers"] = artist.followers
        if artist.various:
            entry["variousArtists"] = True
        artists.append(entry)
    albums = [{
        "id": album.id,
        "name": album.name,
        "albumType": album.album_type,
        "artistIds": list(album.artist_ids),
        "releaseDate": album.release_date,
        "releaseDatePrecision": album.release_date_precision,
        "totalTracks": len(album.tracks),
        "tracks": [{"id": t.id, "uri": t.uri, "name": t.name, "artistIds": list(t.artist_ids),
                    "durationMs": t.duration_ms} for t in album.tracks],
    } for album in catalogue.albums]
    document = {
        "seed": catalogue.seed,
        "now": format_iso8601(catalogue.start),
        "week": dict(catalogue.hard_cases["week"]),
        "artists": artists,
        "albums": albums,
        "follows": {uid: list(aids) for uid, aids in catalogue.follows.items()},
        "top": catalogue.top,
        "hardCases": catalogue.hard_cases,
    }
    return json.dumps(document, separators=(",", ":")).encode()


class Control:
    def __init__(self, state):
        self.state = state
        self.catalogue_bytes = catalogue_document(state.catalogue)

    def users(self, request):
        return 200, self.state.users_snapshot()

    def catalogue(self, request):
        return 200, self.catalogue_bytes

    def playlists(self, request):
        user_id = request.arg("user")
        if user_id is not None and user_id not in self.state.catalogue.users_by_id:
            raise ControlError(404, f"unknown user id: {user_id}")
        return 200, self.state.playlists_snapshot(user_id)

    def stats(self, request):
        return 200, self.state.stats_snapshot()

    def reset_stats(self, request):
        return 200, self.state.reset_stats()

    def get_config(self, request):
        return 200, self.state.config_snapshot()

    def set_config(self, request):
        try:
            changes = json.loads(request.body.decode("utf-8") or "{}")
        except (UnicodeDecodeError, ValueError):
            raise ControlError(400, "config body must be JSON") from None
        return 200, self.state.configure(changes)

    def reset(self, request):
        self.state.reset()
        return 200, self.state.config_snapshot()

    def routes(self):
        return [
            ("GET", "/_sandbox/users", self.users),
            ("GET", "/_sandbox/catalogue", self.catalogue),
            ("GET", "/_sandbox/playlists", self.playlists),
            ("GET", "/_sandbox/stats", self.stats),
            ("POST", "/_sandbox/reset-stats", self.reset_stats),
            ("GET", "/_sandbox/config", self.get_config),
            ("POST", "/_sandbox/config", self.set_config),
            ("POST", "/_sandbox/reset", self.reset),
        ]

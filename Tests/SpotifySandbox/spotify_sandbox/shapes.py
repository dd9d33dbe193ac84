"""Spotify Web API object shapes (as in the reference OpenAPI document) built from the catalogue.

Links (``href``, ``next``, ``previous``) point at the sandbox's own base URL, so a client can follow
them as it would follow Spotify's. Objects that depend only on the catalogue are cached per base URL.
"""

import json
from urllib.parse import quote

from .catalogue import image_hash

MARKETS = ["CA", "DE", "FR", "GB", "SE", "US"]
OPEN_SPOTIFY = "https://open.spotify.com"
IMAGE_CDN = "https://i.scdn.co/image/"
MAX_SERIALISED_ALBUMS = 4096


def images(prefix, kind, object_id, sizes):
    digest = image_hash(kind, object_id)
    return [{"url": f"{IMAGE_CDN}{prefix}{size:04x}{digest}", "height": size, "width": size} for size in sizes]


def external_urls(kind, object_id):
    return {"spotify": f"{OPEN_SPOTIFY}/{kind}/{object_id}"}


def page_url(base, path, offset, limit, extra=""):
    return f"{base}{path}?offset={offset}&limit={limit}{extra}"


class SpotifyShapes:
    """Renders catalogue objects for one base URL (e.g. ``http://127.0.0.1:8080``)."""

    def __init__(self, catalogue, base):
        self.cat = catalogue
        self.base = base
        self._simple_artists = {}
        self._artists = {}
        self._simple_albums = {}
        self._simple_tracks = {}
        self._tracks = {}
        self._albums = {}
        self._album_json = {}

    # ----------------------------------------------------------------- artists
    def simplified_artist(self, artist_id):
        cached = self._simple_artists.get(artist_id)
        if cached is None:
            artist = self.cat.artists_by_id[artist_id]
            cached = {
                "external_urls": external_urls("artist", artist.id),
                "href": f"{self.base}/v1/artists/{artist.id}",
                "id": artist.id,
                "name": artist.name,
                "type": "artist",
                "uri": f"spotify:artist:{artist.id}",
            }
            self._simple_artists[artist_id] = cached
        return cached

    def artist(self, artist_id):
        cached = self._artists.get(artist_id)
        if cached is None:
            artist = self.cat.artists_by_id[artist_id]
            cached = dict(self.simplified_artist(artist_id))
            cached["followers"] = {"href": None, "total": artist.followers}
            if artist.genres is not None:  # deprecated: some artists leave the key out entirely
                cached["genres"] = list(artist.genres)
            cached["images"] = images("ab6761610000", "artist", artist.id, (640, 320, 160))
            cached["popularity"] = artist.popularity
            self._artists[artist_id] = cached
        return cached

    # ------------------------------------------------------------------ albums
    def album_images(self, album_id):
        return images("ab67616d0000", "album", album_id, (640, 300, 64))

    def simplified_album(self, album):
        cached = self._simple_albums.get(album.id)
        if cached is None:
            cached = {
                "album_type": album.album_type,
                "total_tracks": len(album.tracks),
                "available_markets": MARKETS,
                "external_urls": external_urls("album", album.id),
                "href": f"{self.base}/v1/albums/{album.id}",
                "id": album.id,
                "images": self.album_images(album.id),
                "name": album.name,
                "release_date": album.release_date,
                "release_date_precision": album.release_date_precision,
                "type": "album",
                "uri": album.uri,
                "artists": [self.simplified_artist(a) for a in album.artist_ids],
            }
            self._simple_albums[album.id] = cached
        return cached

    def discography_album(self, album, group):
        item = dict(self.simplified_album(album))
        item["album_group"] = group
        return item

    def album_tracks_page(self, album, offset, limit):
        tracks = album.tracks
        path = f"/v1/albums/{album.id}/tracks"
        return self.paging(path, [self.simplified_track(t) for t in tracks[offset:offset + limit]],
                           offset, limit, len(tracks))

    def album(self, album):
        cached = self._albums.get(album.id)
        if cached is None:
            cached = dict(self.simplified_album(album))
            cached.update({
                "tracks": self.album_tracks_page(album, 0, 50),
                "copyrights": [
                    {"text": f"\u00a9 {album.release_date[:4]} {album.label}", "type": "C"},
                    {"text": f"\u2117 {album.release_date[:4]} {album.label}", "type": "P"},
                ],
                "external_ids": {"upc": album.upc},
                "genres": [],
                "label": album.label,
                "popularity": album.popularity,
            })
            self._albums[album.id] = cached
        return cached

    def album_json(self, album):
        """The full album, serialised once (the most requested large answer)."""
        cached = self._album_json.get(album.id)
        if cached is None:
            cached = json.dumps(self.album(album), separators=(",", ":")).encode()
            if len(self._album_json) < MAX_SERIALISED_ALBUMS:
                self._album_json[album.id] = cached
        return cached

    # ------------------------------------------------------------------ tracks
    def simplified_track(self, track):
        cached = self._simple_tracks.get(track.id)
        if cached is None:
            cached = {
                "artists": [self.simplified_artist(a) for a in track.artist_ids],
                "disc_number": track.disc_number,
                "duration_ms": track.duration_ms,
                "explicit": track.explicit,
                "external_urls": external_urls("track", track.id),
                "href": f"{self.base}/v1/tracks/{track.id}",
                "id": track.id,
                "is_local": False,
                "name": track.name,
                "preview_url": None,
                "track_number": track.track_number,
                "type": "track",
                "uri": track.uri,
            }
            self._simple_tracks[track.id] = cached
        return cached

    def track(self, track):
        cached = self._tracks.get(track.id)
        if cached is None:
            cached = dict(self.simplified_track(track))
            cached["album"] = self.simplified_album(self.cat.albums_by_id[track.album_id])
            cached["external_ids"] = {"isrc": track.isrc}
            cached["popularity"] = track.popularity
            self._tracks[track.id] = cached
        return cached

    # ------------------------------------------------------------------- users
    def private_user(self, user):
        # The deprecated private fields (email, country, product, explicit_content, followers)
        # are no longer returned to development-mode apps.
        return {
            "display_name": user.display_name,
            "external_urls": external_urls("user", user.id),
            "href": f"{self.base}/v1/users/{user.id}",
            "id": user.id,
            "images": images("ab6775700000", "user", user.id, (300, 64)),
            "type": "user",
            "uri": f"spotify:user:{user.id}",
        }

    def playlist_owner(self, user):
        return {
            "display_name": user.display_name,
            "external_urls": external_urls("user", user.id),
            "href": f"{self.base}/v1/users/{user.id}",
            "id": user.id,
            "type": "user",
            "uri": f"spotify:user:{user.id}",
        }

    def playlist(self, playlist, owner):
        path = f"/v1/playlists/{playlist.id}/items"
        return {
            "collaborative": playlist.collaborative,
            "description": playlist.description or None,
            "external_urls": external_urls("playlist", playlist.id),
            "followers": {"href": None, "total": 0},
            "href": f"{self.base}/v1/playlists/{playlist.id}",
            "id": playlist.id,
            "images": [],
            "name": playlist.name,
            "owner": self.playlist_owner(owner),
            "public": playlist.public,
            "snapshot_id": playlist.snapshot_id,
            "items": self.paging(path, [], 0, 100, 0),
            "type": "playlist",
            "uri": f"spotify:playlist:{playlist.id}",
        }

    def simplified_playlist(self, playlist, owner):
        path = f"/v1/playlists/{playlist.id}/items"
        return {
            "collaborative": playlist.collaborative,
            "description": playlist.description or "",
            "external_urls": external_urls("playlist", playlist.id),
            "href": f"{self.base}/v1/playlists/{playlist.id}",
            "id": playlist.id,
            "images": [],
            "name": playlist.name,
            "owner": self.playlist_owner(owner),
            "public": playlist.public,
            "snapshot_id": playlist.snapshot_id,
            "items": {"href": f"{self.base}{path}", "total": len(playlist.uris)},
            "type": "playlist",
            "uri": f"spotify:playlist:{playlist.id}",
        }

    # ------------------------------------------------------------------ paging
    def paging(self, path, items, offset, limit, total, extra=""):
        has_next = offset + limit < total
        return {
            "href": page_url(self.base, path, offset, limit, extra),
            "items": items,
            "limit": limit,
            "next": page_url(self.base, path, offset + limit, limit, extra) if has_next else None,
            "offset": offset,
            "previous": page_url(self.base, path, max(0, offset - limit), limit, extra) if offset > 0 else None,
            "total": total,
        }

    def cursor_paging_artists(self, artist_ids, limit, after, has_more, total):
        path = f"{self.base}/v1/me/following?type=artist"
        href = f"{path}&limit={limit}" + (f"&after={quote(after)}" if after else "")
        page = {
            "href": href,
            "items": [self.artist(a) for a in artist_ids],
            "limit": limit,
            "cursors": {},
            "total": total,
        }
        # Spotify sends "next": null and "cursors": {"after": null} on the last page, but the
        # reference schema types both as non-nullable strings: the sandbox leaves them out.
        if has_more and artist_ids:
            page["next"] = f"{path}&after={artist_ids[-1]}&limit={limit}"
            page["cursors"] = {"after": artist_ids[-1]}
        return {"artists": page}

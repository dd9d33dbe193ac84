"""Everything that changes while the sandbox runs: tokens, playlists, settings, limits and the log.

One lock guards it all. The catalogue itself is immutable and read without the lock.
"""

import base64
import random
import threading
from dataclasses import dataclass, field

from .clock import format_iso8601, parse_iso8601
from .errors import ApiError, ControlError, OAuthError
from .faults import FaultInjector
from .ids import BASE62, is_base62_id
from .limits import DailyQuota, RollingRateLimit
from .stats import RequestStats

ACCESS_TOKEN_LIFETIME = 3600
SCOPES = ("playlist-modify-private playlist-modify-public playlist-read-private ugc-image-upload "
          "user-follow-read user-read-email user-read-private user-top-read")
MAX_LATENCY_MS = 120_000


@dataclass
class Playlist:
    id: str
    owner_id: str
    name: str
    description: str
    public: bool
    collaborative: bool = False
    uris: list = field(default_factory=list)
    cover_bytes: object = None
    deleted: bool = False
    version: int = 1
    snapshot_id: str = ""


@dataclass
class Admission:
    """The verdict on one incoming request before it is routed."""
    latency_ms: float
    rejection: object = None  # an ApiError (429) to answer with instead
    fault: object = None  # None, ("drop", None) or ("error", status)


class SandboxState:
    def __init__(self, catalogue, clock, seed, rate_limit=0, daily_quota=0):
        self.lock = threading.Lock()
        self.catalogue = catalogue
        self.clock = clock
        self.seed = seed
        self.start = catalogue.start
        self.start_rate_limit = rate_limit
        self.start_daily_quota = daily_quota
        self.stats = RequestStats()
        self.rate = RollingRateLimit()
        self.quota = DailyQuota()
        self.faults = FaultInjector(seed)
        # One generator for the process's lifetime: ids and tokens are reproducible from the seed
        # but never repeat after a reset (a stale playlist id must not name a new playlist).
        self.rng = random.Random(f"runtime:{seed}")
        self.reset()

    # ------------------------------------------------------------------- reset
    def reset(self):
        """Back to the start state: clock, settings, tokens, playlists, limits and log."""
        with self.lock:
            self.clock.set(self.start)
            self.rate.limit = self.start_rate_limit
            self.rate.clear()
            self.quota.limit = self.start_daily_quota
            self.quota.clear()
            self.faults.reset()
            self.stats.reset()
            self.rotate_refresh_tokens = False
            cat = self.catalogue
            self.revoked = set(cat.revoked_user_ids)
            self.current_refresh = {u.id: u.refresh_token for u in cat.users}
            self.refresh_owner = {u.refresh_token: u.id for u in cat.users}
            self.access_tokens = {}
            self.playlists = {}
            for initial in cat.initial_playlists:
                playlist = Playlist(id=initial.id, owner_id=initial.owner_id, name=initial.name,
                                    description=initial.description, public=initial.public,
                                    uris=list(initial.uris), deleted=initial.deleted)
                playlist.snapshot_id = self._snapshot(playlist)
                self.playlists[playlist.id] = playlist

    def _random_string(self, length):
        return "".join(self.rng.choice(BASE62) for _ in range(length))

    def _new_id(self):
        while True:
            value = self._random_string(22)
            if value not in self.playlists and value not in self.catalogue.albums_by_id:
                return value

    def _snapshot(self, playlist):
        raw = f"{playlist.version},{self._random_string(16)}".encode()
        return base64.b64encode(raw).decode()

    # -------------------------------------------------------------- admission
    def admit(self, route_key, is_web_api, is_gone, faultable, include_groups=None):
        """Log the request, apply the rate limit and quota (Web API only), draw a fault."""
        with self.lock:
            now = self.clock.now_epoch()
            self.stats.received(route_key, is_web_api, now, include_groups)
            if is_gone:
                self.stats.gone += 1
            verdict = Admission(latency_ms=self.faults.latency_ms)
            if is_web_api:
                retry = self.quota.check(now)
                if retry is not None:
                    self.stats.quota_exceeded += 1
                    verdict.rejection = ApiError(429, "API rate limit exceeded",
                                                 headers={"Retry-After": str(retry)}, reason="QUOTA_EXCEEDED")
                    return verdict
                retry = self.rate.check(now)
                if retry is not None:
                    verdict.rejection = ApiError(429, "API rate limit exceeded",
                                                 headers={"Retry-After": str(retry)})
                    return verdict
                self.rate.record(now)
                self.quota.record(now)
            if faultable:
                verdict.fault = self.faults.draw()
                if verdict.fault is not None:
                    self.stats.faults += 1
                    if verdict.fault[0] == "drop":
                        self.stats.dropped += 1
            return verdict

    def answered(self, status):
        with self.lock:
            self.stats.answered(status)

    # ------------------------------------------------------------------ tokens
    def refresh(self, refresh_token):
        with self.lock:
            user_id = self.refresh_owner.get(refresh_token)
            if user_id is None or user_id in self.revoked:
                raise OAuthError("invalid_grant", "Refresh token revoked")
            access = "BQ" + self._random_string(150)
            self.access_tokens[access] = (user_id, self.clock.now_epoch() + ACCESS_TOKEN_LIFETIME)
            answer = {"access_token": access, "token_type": "Bearer", "expires_in": ACCESS_TOKEN_LIFETIME,
                      "scope": SCOPES}
            if self.rotate_refresh_tokens:
                fresh = "AQ" + self._random_string(118)
                del self.refresh_owner[refresh_token]
                self.refresh_owner[fresh] = user_id
                self.current_refresh[user_id] = fresh
                answer["refresh_token"] = fresh
            return answer

    def authenticate(self, authorization):
        """The catalogue user behind ``Authorization: Bearer <token>``, else a 401 ApiError."""
        if not authorization:
            raise ApiError(401, "No token provided")
        scheme, _, token = authorization.strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise ApiError(401, "Only valid bearer authentication supported")
        with self.lock:
            entry = self.access_tokens.get(token.strip())
            if entry is None:
                raise ApiError(401, "Invalid access token")
            user_id, expires = entry
            if self.clock.now_epoch() >= expires:
                raise ApiError(401, "The access token expired")
        return self.catalogue.users_by_id[user_id]

    def _revoke(self, user_id):
        self.revoked.add(user_id)
        for token in [t for t, (uid, _) in self.access_tokens.items() if uid == user_id]:
            del self.access_tokens[token]

    def _reauthorize(self, user_id):
        old = self.current_refresh.get(user_id)
        self.refresh_owner.pop(old, None)
        fresh = "AQ" + self._random_string(118)
        self.refresh_owner[fresh] = user_id
        self.current_refresh[user_id] = fresh
        self.revoked.discard(user_id)

    # --------------------------------------------------------------- playlists
    def create_playlist(self, owner_id, name, description, public, collaborative):
        with self.lock:
            playlist = Playlist(id=self._new_id(), owner_id=owner_id, name=name, description=description,
                                public=public, collaborative=collaborative)
            playlist.snapshot_id = self._snapshot(playlist)
            self.playlists[playlist.id] = playlist
            return playlist

    def owned_playlists(self, user_id):
        """The user's playlists that still exist, most recently created first (as Spotify lists them)."""
        with self.lock:
            return [p for p in reversed(list(self.playlists.values())) if p.owner_id == user_id and not p.deleted]

    def _writable(self, playlist_id, user_id):
        playlist = self.playlists.get(playlist_id)
        if playlist is None or playlist.deleted:
            raise ApiError(404, "Resource not found")
        if playlist.owner_id != user_id:
            raise ApiError(403, "You cannot modify a playlist you don't own.")
        return playlist

    def check_writable(self, playlist_id, user_id):
        with self.lock:
            self._writable(playlist_id, user_id)

    def _changed(self, playlist):
        playlist.version += 1
        playlist.snapshot_id = self._snapshot(playlist)
        return playlist.snapshot_id

    def replace_items(self, playlist_id, user_id, uris):
        with self.lock:
            playlist = self._writable(playlist_id, user_id)
            playlist.uris = list(uris)
            return self._changed(playlist)

    def add_items(self, playlist_id, user_id, uris, position):
        with self.lock:
            playlist = self._writable(playlist_id, user_id)
            if position is None:
                playlist.uris.extend(uris)
            else:
                if position > len(playlist.uris):
                    raise ApiError(400, "Index out of bounds")
                playlist.uris[position:position] = uris
            return self._changed(playlist)

    def set_cover(self, playlist_id, user_id, size):
        with self.lock:
            playlist = self._writable(playlist_id, user_id)
            playlist.cover_bytes = size
            self._changed(playlist)

    def playlists_snapshot(self, user_id=None):
        with self.lock:
            chosen = [p for p in self.playlists.values() if user_id is None or p.owner_id == user_id]
            return {"playlists": [{
                "id": p.id, "ownerId": p.owner_id, "name": p.name, "description": p.description,
                "public": p.public, "collaborative": p.collaborative, "coverBytes": p.cover_bytes,
                "uris": list(p.uris), "deleted": p.deleted, "snapshotId": p.snapshot_id,
            } for p in chosen]}

    # ------------------------------------------------------------- inspection
    def users_snapshot(self):
        deleted_by_owner = {}
        with self.lock:
            for p in self.playlists.values():
                if p.deleted:
                    deleted_by_owner.setdefault(p.owner_id, p.id)
            users = []
            for user in self.catalogue.users:
                entry = {"email": user.email, "id": user.id, "displayName": user.display_name,
                         "refreshToken": self.current_refresh[user.id], "revoked": user.id in self.revoked}
                if user.id in deleted_by_owner:
                    entry["deletedPlaylistId"] = deleted_by_owner[user.id]
                users.append(entry)
            return {"users": users}

    def stats_snapshot(self):
        with self.lock:
            snap = self.stats.snapshot()
            now = self.clock.now_epoch()
            snap["quotaUsed"] = self.quota.used(now)
            return snap

    def reset_stats(self):
        with self.lock:
            self.stats.reset()
            return self.stats.snapshot()

    def config_snapshot(self):
        with self.lock:
            return self._config_locked()

    def _config_locked(self):
        return {
            "now": format_iso8601(self.clock.now()),
            "rateLimit": self.rate.limit,
            "dailyQuota": self.quota.limit,
            "latencyMs": self.faults.latency_ms,
            "answerDelayMs": self.faults.answer_delay_ms,
            "errorRate": self.faults.error_rate,
            "dropRate": self.faults.drop_rate,
            "rotateRefreshTokens": self.rotate_refresh_tokens,
            "revoked": sorted(self.revoked),
        }

    # ------------------------------------------------------------------ config
    def configure(self, changes):
        """Apply ``POST /_sandbox/config``: validate every key first, then apply all of them."""
        if not isinstance(changes, dict):
            raise ControlError(400, "config body must be a JSON object")
        known = {"now", "rateLimit", "dailyQuota", "latencyMs", "answerDelayMs", "errorRate", "dropRate", "revoke",
                 "reauthorize", "deletePlaylists", "rotateRefreshTokens"}
        unknown = sorted(set(changes) - known)
        if unknown:
            raise ControlError(400, f"unknown config key(s): {', '.join(unknown)}")

        def integer(key):
            value = changes[key]
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ControlError(400, f"{key} must be a non-negative integer")
            return value

        def number(key, upper):
            value = changes[key]
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= upper:
                raise ControlError(400, f"{key} must be a number between 0 and {upper}")
            return float(value)

        def users(key):
            value = changes[key]
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ControlError(400, f"{key} must be a list of Spotify user ids")
            missing = [v for v in value if v not in self.catalogue.users_by_id]
            if missing:
                raise ControlError(400, f"{key}: unknown user id(s): {', '.join(missing)}")
            return value

        parsed = {}
        if "now" in changes:
            try:
                parsed["now"] = parse_iso8601(changes["now"])
            except (ValueError, TypeError):
                raise ControlError(400, "now must be an ISO-8601 date-time") from None
        for key in ("rateLimit", "dailyQuota"):
            if key in changes:
                parsed[key] = integer(key)
        for key in ("latencyMs", "answerDelayMs"):
            if key in changes:
                parsed[key] = number(key, MAX_LATENCY_MS)
        for key in ("errorRate", "dropRate"):
            if key in changes:
                parsed[key] = number(key, 1)
        for key in ("revoke", "reauthorize"):
            if key in changes:
                parsed[key] = users(key)
        if "rotateRefreshTokens" in changes:
            if not isinstance(changes["rotateRefreshTokens"], bool):
                raise ControlError(400, "rotateRefreshTokens must be a boolean")
            parsed["rotateRefreshTokens"] = changes["rotateRefreshTokens"]

        with self.lock:
            if "deletePlaylists" in changes:
                value = changes["deletePlaylists"]
                if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                    raise ControlError(400, "deletePlaylists must be a list of playlist ids")
                missing = [v for v in value if v not in self.playlists]
                if missing:
                    raise ControlError(400, f"deletePlaylists: unknown playlist id(s): {', '.join(missing)}")
                parsed["deletePlaylists"] = value
            if "now" in parsed:
                self.clock.set(parsed["now"])
                now = self.clock.now_epoch()
                for window in (self.rate, self.quota, self.stats):
                    window.drop_after(now)
            if "rateLimit" in parsed:
                self.rate.limit = parsed["rateLimit"]
            if "dailyQuota" in parsed:
                self.quota.limit = parsed["dailyQuota"]
            if "latencyMs" in parsed:
                self.faults.latency_ms = parsed["latencyMs"]
            if "answerDelayMs" in parsed:
                self.faults.answer_delay_ms = parsed["answerDelayMs"]
            if "errorRate" in parsed:
                self.faults.error_rate = parsed["errorRate"]
            if "dropRate" in parsed:
                self.faults.drop_rate = parsed["dropRate"]
            if "rotateRefreshTokens" in parsed:
                self.rotate_refresh_tokens = parsed["rotateRefreshTokens"]
            for user_id in parsed.get("revoke", []):
                self._revoke(user_id)
            for user_id in parsed.get("reauthorize", []):
                self._reauthorize(user_id)
            for playlist_id in parsed.get("deletePlaylists", []):
                playlist = self.playlists[playlist_id]
                if not playlist.deleted:
                    playlist.deleted = True
            return self._config_locked()


def valid_track_uri(uri, catalogue):
    if not isinstance(uri, str) or not uri.startswith("spotify:track:"):
        return False
    track_id = uri[len("spotify:track:"):]
    return is_base62_id(track_id) and track_id in catalogue.tracks_by_id

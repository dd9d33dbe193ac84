"""The sandbox's catalogue: users, artists, releases, follow graphs and top lists.

Generated once, deterministically from (seed, user count, artist count, start instant), and never
changed afterwards (moving the sandbox clock does not regenerate it). Everything mutable at run time
(tokens, playlists) lives in ``state.py``.
"""

import hashlib
import random
from dataclasses import dataclass, field
from datetime import timedelta

from . import names
from .ids import IdFactory
from .weeks import current_week_start, last_complete_week, week_key

TIME_RANGES = ("short_term", "medium_term", "long_term")
GROUP_ORDER = ("album", "single", "appears_on", "compilation")
MIN_USERS = 3
MIN_ARTISTS = 60
RELEASE_RADAR_NAME = "Xomify Weekly Release Radar"


@dataclass(slots=True)
class User:
    id: str
    email: str
    display_name: str
    refresh_token: str


@dataclass(slots=True)
class Artist:
    id: str
    name: str
    popularity: int
    followers: int
    genres: object  # list of str, or None when Spotify leaves the key out
    various: bool = False


@dataclass(slots=True)
class Track:
    id: str
    name: str
    artist_ids: tuple
    duration_ms: int
    album_id: str
    disc_number: int
    track_number: int
    explicit: bool
    isrc: str
    popularity: int

    @property
    def uri(self):
        return "spotify:track:" + self.id


@dataclass(slots=True)
class Album:
    id: str
    name: str
    album_type: str  # album | single | compilation
    artist_ids: tuple
    release_date: str  # "YYYY-MM-DD", "YYYY-MM" or "YYYY"
    release_date_precision: str  # day | month | year
    label: str
    upc: str
    popularity: int
    tracks: list = field(default_factory=list)

    @property
    def uri(self):
        return "spotify:album:" + self.id


@dataclass(slots=True)
class InitialPlaylist:
    id: str
    owner_id: str
    name: str
    description: str
    public: bool
    uris: list
    deleted: bool


def image_hash(kind, object_id):
    return hashlib.sha1(f"{kind}:{object_id}".encode()).hexdigest()[:24]


class Catalogue:
    """Immutable after construction; safe to read from many threads."""

    def __init__(self, seed, user_count, artist_count, start):
        if user_count < MIN_USERS:
            raise ValueError(f"--users must be at least {MIN_USERS} (the hard cases need that many)")
        if artist_count < MIN_ARTISTS:
            raise ValueError(f"--artists must be at least {MIN_ARTISTS} (the hard cases need that many)")
        self.seed = seed
        self.start = start
        self.today = start.date()
        self.week_start, self.week_end = last_complete_week(start)
        self.current_week_start = current_week_start(self.today)
        self.users = []
        self.artists = []
        self.albums = []
        self.follows = {}
        self.top = {}
        self.revoked_user_ids = set()
        self.initial_playlists = []
        self.hard_cases = {}
        _Generator(self, random.Random(seed), user_count, artist_count).build()
        self.users_by_id = {u.id: u for u in self.users}
        self.artists_by_id = {a.id: a for a in self.artists}
        self.albums_by_id = {a.id: a for a in self.albums}
        self.tracks_by_id = {t.id: t for a in self.albums for t in a.tracks}
        self.discography = self._index_discography()
        self.follow_positions = {
            uid: {aid: i for i, aid in enumerate(aids)} for uid, aids in self.follows.items()
        }

    def _index_discography(self):
        """artist id -> [(album_group, album)], grouped in GROUP_ORDER, newest release first."""
        entries = {a.id: [] for a in self.artists}
        for album in self.albums:
            own = set(album.artist_ids)
            for artist_id in album.artist_ids:
                entries[artist_id].append((album.album_type, album))
            guests = {aid for t in album.tracks for aid in t.artist_ids} - own
            for artist_id in sorted(guests):
                entries[artist_id].append(("appears_on", album))
        rank = {g: i for i, g in enumerate(GROUP_ORDER)}
        for artist_id, items in entries.items():
            # Newest first; release_date strings compare as their periods' first days.
            items.sort(key=lambda e: (e[1].id))
            items.sort(key=lambda e: e[1].release_date, reverse=True)
            items.sort(key=lambda e: rank[e[0]])
        return entries


class _Generator:
    def __init__(self, cat, rng, user_count, artist_count):
        self.cat = cat
        self.rng = rng
        self.ids = IdFactory(rng)
        self.user_count = user_count
        self.artist_count = artist_count
        self.isrc_counter = 0
        self.tracks_by_artist = {}
        # The month-precision hard case: the latest month whose 1st is in a complete week.
        self.month_first = cat.week_end.replace(day=1)
        self.month_week_start = current_week_start(self.month_first)

    # ----------------------------------------------------------------- helpers
    def title(self):
        rng = self.rng
        template = rng.choice(names.TITLE_TEMPLATES)
        a, b = rng.sample(names.TITLE_WORDS, 2)
        return template.format(a=a, b=b)

    def day(self, offset_days):
        return self.cat.today - timedelta(days=offset_days)

    def random_release_date(self, not_after=None):
        """A date over roughly the last three years, many in the last few weeks."""
        rng = self.rng
        min_days_ago = 0 if not_after is None else (self.cat.today - not_after).days
        if rng.random() < 0.35:
            days_ago = rng.randint(0, 42)
        else:
            days_ago = rng.randint(43, 1095)
        days_ago = max(days_ago, min_days_ago)
        moment = self.day(days_ago)
        if days_ago > 400 and rng.random() < 0.1:
            return str(moment.year), "year"
        if days_ago > 120 and rng.random() < 0.1:
            return f"{moment.year:04d}-{moment.month:02d}", "month"
        return moment.isoformat(), "day"

    def make_track(self, name, artist_ids, album_id, number, duration=None):
        rng = self.rng
        self.isrc_counter += 1
        track = Track(
            id=self.ids.new(),
            name=name,
            artist_ids=tuple(artist_ids),
            duration_ms=duration if duration is not None else rng.randint(95_000, 330_000),
            album_id=album_id,
            disc_number=1,
            track_number=number,
            explicit=rng.random() < 0.2,
            isrc=f"QZS{self.isrc_counter // 100000 % 100:02d}{self.cat.today.year % 100:02d}"
                 f"{self.isrc_counter % 100000:05d}",
            popularity=rng.randint(5, 90),
        )
        self.tracks_by_artist.setdefault(track.artist_ids[0], []).append(track.id)
        return track

    def make_album(self, album_type, artist_ids, release, track_count, name=None,
                   track_artists=None, guest_pool=None):
        rng = self.rng
        release_date, precision = release
        album = Album(
            id=self.ids.new(),
            name=name or self.title(),
            album_type=album_type,
            artist_ids=tuple(artist_ids),
            release_date=release_date,
            release_date_precision=precision,
            label=rng.choice(names.LABELS),
            upc=f"{rng.randrange(10**11, 10**12)}",
            popularity=rng.randint(5, 85),
        )
        for number in range(1, track_count + 1):
            if track_artists is not None:
                credits = track_artists[number - 1]
            else:
                credits = list(artist_ids)
                if guest_pool and rng.random() < 0.08:
                    guest = rng.choice(guest_pool)
                    if guest not in credits:
                        credits.append(guest)
            track_name = album.name if (album_type == "single" and number == 1) else self.title()
            album.tracks.append(self.make_track(track_name, credits, album.id, number))
        self.cat.albums.append(album)
        return album

    def album_track_count(self):
        return self.rng.choice([8, 9, 10, 10, 11, 11, 12, 12, 13, 14, 16])

    def single_track_count(self):
        return self.rng.choice([1, 1, 1, 1, 2, 2, 3])

    # ------------------------------------------------------------------- build
    def build(self):
        self.make_users()
        self.make_artists()
        self.choose_roles()
        self.make_random_discographies()
        self.make_various_artists_compilations()
        self.make_follow_graph()
        self.make_hard_cases()
        self.make_extra_recent_releases()
        self.make_top_lists()
        self.make_initial_playlists()

    def make_users(self):
        rng = self.rng
        for index in range(1, self.user_count + 1):
            display = f"{rng.choice(names.FIRST_NAMES)} {rng.choice(names.LAST_NAMES)}"
            self.cat.users.append(User(
                id=self.ids.new(),
                email=f"user{index:02d}@sandbox.xomify.test",
                display_name=display,
                refresh_token=self.ids.token("AQ", 118),
            ))

    def make_artists(self):
        rng = self.rng
        used = set()
        n = self.artist_count
        for index in range(n):
            for attempt in range(100):
                style = rng.random()
                if style < 0.4:
                    name = f"{rng.choice(names.FIRST_NAMES)} {rng.choice(names.LAST_NAMES)}"
                elif style < 0.75:
                    name = f"{rng.choice(['', 'The '])}{rng.choice(names.BAND_ADJECTIVES)} {rng.choice(names.BAND_NOUNS)}"
                else:
                    name = rng.choice(names.SINGLE_WORD_NAMES)
                    if name in used:
                        name = f"{name} {rng.choice(names.BAND_NOUNS)}"
                if attempt >= 20:  # large catalogues outgrow the word lists
                    name = f"{name} {rng.choice(['Collective', 'Trio', 'Project', 'Ensemble', 'Club'])} {index}"
                if name not in used:
                    used.add(name)
                    break
            popularity = max(3, min(98, int(96 - 80 * (index / n) ** 0.6) + rng.randint(-3, 3)))
            roll = rng.random()
            if roll < 0.70:
                genres = rng.sample(names.GENRES, rng.randint(1, 4))
            elif roll < 0.85:
                genres = []
            else:
                genres = None  # key absent: Spotify deprecated the field
            self.cat.artists.append(Artist(
                id=self.ids.new(), name=name, popularity=popularity,
                followers=int(10 ** (2 + popularity / 20) * rng.uniform(0.6, 1.4)), genres=genres,
            ))
        # Index in self.cat.artists is the popularity rank (0 = most popular).
        self.various = Artist(id=self.ids.new(), name="Various Artists", popularity=0, followers=0,
                              genres=None, various=True)

    def choose_roles(self):
        rng = self.rng
        n = self.artist_count
        self.unfollowed = list(range(n - max(6, n // 10), n))  # nobody follows these
        pool = list(range(4, min(n - len(self.unfollowed), 48)))
        picks = rng.sample(pool, 12)
        a = self.cat.artists
        (self.many_albums, self.month_artist, self.year_artist, self.long_artist,
         self.single_album_artist, self.duo_a, self.duo_b, self.compilation_artist) = [a[i] for i in picks[:8]]
        self.boundary_artists = [a[i] for i in picks[8:12]]
        self.hard_artist_ids = {a[i].id for i in picks}
        self.followable = [i for i in range(n) if i not in set(self.unfollowed)]

    def make_random_discographies(self):
        rng = self.rng
        cat = self.cat
        guest_pool = [a.id for a in cat.artists]
        # Hard-case artists keep a random back catalogue, all older than the week before
        # the hard-case week, so their recent releases are exactly the hard cases.
        quiet_until = cat.week_start - timedelta(days=8)
        month_quiet_until = min(quiet_until, self.month_week_start - timedelta(days=8))
        for index, artist in enumerate(cat.artists):
            hard = artist.id in self.hard_artist_ids
            not_after = (month_quiet_until if artist is self.month_artist else quiet_until) if hard else None
            tier = 0 if index < self.artist_count * 0.2 else 1
            album_count = rng.choice([1, 2, 2, 3, 3, 4, 5, 6] if tier == 0 else [0, 0, 1, 1, 2, 2, 3])
            single_count = rng.choice([1, 2, 3, 4, 5, 6, 8] if tier == 0 else [1, 1, 2, 2, 3, 4])
            if artist is self.many_albums:
                album_count, single_count = 0, 2  # its twelve albums are made in make_hard_cases
            for _ in range(album_count):
                self.make_album("album", [artist.id], self.random_release_date(not_after),
                                self.album_track_count(), guest_pool=guest_pool)
            for _ in range(single_count):
                self.make_album("single", [artist.id], self.random_release_date(not_after),
                                self.single_track_count(), guest_pool=guest_pool)
            if rng.random() < 0.08:
                release = self.random_release_date(not_after)
                self.make_album("compilation", [artist.id], release, rng.randint(12, 18),
                                name=rng.choice(["Greatest Hits", "The Best Of", "Essentials", "Anthology"]))

    def make_various_artists_compilations(self):
        rng = self.rng
        cat = self.cat
        cat.artists.append(self.various)
        candidates = [a.id for a in cat.artists[: self.artist_count] if a.id not in self.hard_artist_ids]
        for _ in range(max(3, self.artist_count // 15)):
            count = rng.randint(10, 16)
            credits = [[rng.choice(candidates)] for _ in range(count)]
            self.make_album("compilation", [self.various.id], self.random_release_date(), count,
                            name=f"{rng.choice(['Summer', 'Winter', 'Late Night', 'Fresh', 'Indie'])} "
                                 f"{rng.choice(['Hits', 'Sessions', 'Selection', 'Collection'])} "
                                 f"{rng.randint(1, 30)}",
                            track_artists=credits)

    def make_follow_graph(self):
        rng = self.rng
        cat = self.cat
        artists = cat.artists
        followable = self.followable
        for position, user in enumerate(cat.users):
            if position == 0:
                target = min(len(followable), rng.randint(55, 60))  # spans two pages of 50
            else:
                target = min(len(followable), rng.randint(10, 60))
            chosen = [i for i in range(4) if rng.random() < 0.85]
            rest = [i for i in followable if i not in chosen]
            keyed = sorted(rest, key=lambda i: rng.random() ** (1.0 / (1.0 / (i + 1) ** 0.8)), reverse=True)
            chosen.extend(keyed[: max(0, target - len(chosen))])
            cat.follows[user.id] = [artists[i].id for i in chosen]
        first = cat.users[0].id
        must = [self.many_albums, self.month_artist, self.year_artist, self.long_artist,
                self.single_album_artist, self.duo_a, self.duo_b, self.compilation_artist,
                *self.boundary_artists]
        must_ids = [a.id for a in must]
        others = [aid for aid in cat.follows[first] if aid not in must_ids]
        # Keep the first user just over one page of 50 (51..60 follows) including the hard cases.
        room = max(51, min(60, len(followable))) - len(must_ids)
        cat.follows[first] = must_ids + others[:room]
        # Another user follows only one of the two credited artists.
        second = cat.users[1].id
        if self.duo_a.id not in cat.follows[second]:
            cat.follows[second].append(self.duo_a.id)
        if self.duo_b.id in cat.follows[second]:
            cat.follows[second].remove(self.duo_b.id)
        for user in cat.users:
            rng.shuffle(cat.follows[user.id])  # follow order = the order they were followed

    def in_week(self, day_offset):
        return (self.cat.week_start + timedelta(days=day_offset)).isoformat(), "day"

    def make_hard_cases(self):
        rng = self.rng
        cat = self.cat
        ws = cat.week_start
        hc = cat.hard_cases
        hc["week"] = {"start": ws.isoformat(), "end": cat.week_end.isoformat(), "weekKey": week_key(ws)}
        hc["currentWeekStart"] = cat.current_week_start.isoformat()

        # An artist with more than ten (older) albums and a new single in the week.
        artist = self.many_albums
        older = []
        for k in range(12):
            release = ((ws - timedelta(days=30 + 75 * k + rng.randint(0, 40))).isoformat(), "day")
            older.append(self.make_album("album", [artist.id], release, self.album_track_count()))
        single = self.make_album("single", [artist.id], self.in_week(2), 1)
        hc["manyAlbumsArtist"] = {"artistId": artist.id, "albumIds": [a.id for a in older],
                                  "newSingleId": single.id}

        # A month-precision release: it counts only in the week that holds the 1st of its month
        # (SPEC §8.2), here the latest such week that is complete (at most five weeks back).
        first = self.month_first
        month = self.make_album("album", [self.month_artist.id], (f"{first.year:04d}-{first.month:02d}", "month"), 9)
        hc["monthPrecisionRelease"] = {"albumId": month.id, "artistId": self.month_artist.id,
                                       "releaseDate": month.release_date,
                                       "weekStart": self.month_week_start.isoformat(),
                                       "weekKey": week_key(self.month_week_start)}
        # A year-precision release of the week's year: it never counts.
        year = self.make_album("single", [self.year_artist.id], (f"{ws.year:04d}", "year"), 2)
        hc["yearPrecisionRelease"] = {"albumId": year.id, "artistId": self.year_artist.id,
                                      "releaseDate": year.release_date}

        # An album of more than 50 tracks in the week.
        long_album = self.make_album("album", [self.long_artist.id], self.in_week(4), 64,
                                     name="The Complete Sessions")
        hc["longAlbum"] = {"albumId": long_album.id, "artistId": self.long_artist.id,
                           "totalTracks": len(long_album.tracks)}

        # The same song as a single and on an album, both in the week.
        singer = self.single_album_artist
        title = "Paper Satellites"
        duration = rng.randint(180_000, 240_000)
        lead = self.make_album("single", [singer.id], self.in_week(1), 1, name=title)
        lead.tracks[0].duration_ms = duration
        lp = self.make_album("album", [singer.id], self.in_week(5), 11, name="Orbit Season")
        album_track = lp.tracks[3]
        album_track.name = title
        album_track.duration_ms = duration + rng.choice([-1, 1]) * rng.randint(300, 1900)
        hc["singleAndAlbumVersion"] = {
            "artistId": singer.id, "title": title, "singleId": lead.id, "albumId": lp.id,
            "singleTrackId": lead.tracks[0].id, "albumTrackId": album_track.id,
        }

        # An album credited to two artists that one user follows both of.
        duo = self.make_album("album", [self.duo_a.id, self.duo_b.id], self.in_week(3), 10)
        hc["twoArtistAlbum"] = {"albumId": duo.id, "artistIds": [self.duo_a.id, self.duo_b.id],
                                "userId": cat.users[0].id}

        # A various-artists compilation in the week: one track by a followed artist.
        unfollowed = [cat.artists[i].id for i in self.unfollowed]
        count = 10
        credits = [[self.compilation_artist.id]] + [[unfollowed[k % len(unfollowed)]] for k in range(count - 1)]
        comp = self.make_album("compilation", [self.various.id], self.in_week(6), count,
                               name="Fresh Finds Vol. 7", track_artists=credits)
        hc["compilation"] = {"albumId": comp.id, "variousArtistsId": self.various.id,
                             "followedArtistId": self.compilation_artist.id,
                             "followedTrackId": comp.tracks[0].id}

        # Releases on the edges of the week, to catch a wrong week computation.
        edges = [("dayBeforeWeek", ws - timedelta(days=1)), ("weekFirstDay", ws),
                 ("weekLastDay", cat.week_end), ("currentWeek", cat.current_week_start)]
        hc["boundaryReleases"] = {}
        for (label, day), artist in zip(edges, self.boundary_artists):
            album = self.make_album("single", [artist.id], (day.isoformat(), "day"), 1)
            hc["boundaryReleases"][label] = {"albumId": album.id, "artistId": artist.id,
                                             "releaseDate": album.release_date}

        users = cat.users
        cat.revoked_user_ids.add(users[-1].id)
        hc["revokedUser"] = {"userId": users[-1].id}
        hc["multiPageFollower"] = {"userId": users[0].id, "followCount": len(cat.follows[users[0].id])}

    def make_extra_recent_releases(self):
        """Make sure several followed artists release in the week, before it and in the current week."""
        rng = self.rng
        cat = self.cat
        followed = sorted({aid for aids in cat.follows.values() for aid in aids} - self.hard_artist_ids)
        by_id = {a.id: a for a in cat.artists}
        picks = rng.sample(followed, min(len(followed), 14))
        today = cat.today
        for k, artist_id in enumerate(picks):
            if k < 8:
                day = cat.week_start + timedelta(days=rng.randint(0, 6))
            elif k < 11:
                day = cat.week_start - timedelta(days=rng.randint(2, 13))
            else:
                span = (today - cat.current_week_start).days
                day = cat.current_week_start + timedelta(days=rng.randint(0, span))
            kind = "album" if rng.random() < 0.3 else "single"
            count = self.album_track_count() if kind == "album" else self.single_track_count()
            self.make_album(kind, [by_id[artist_id].id], (day.isoformat(), "day"), count)

    def make_top_lists(self):
        rng = self.rng
        cat = self.cat
        artists = cat.artists[: self.artist_count]
        sigma = {"short_term": 0.6, "medium_term": 0.35, "long_term": 0.15}
        for user in cat.users:
            followed = set(cat.follows[user.id])
            affinity = {aid: 0.6 + rng.random() for aid in cat.follows[user.id]}
            for index in sorted(rng.sample(range(len(artists)), min(len(artists), 80))):
                artist = artists[index]
                if artist.id not in followed:
                    affinity[artist.id] = rng.random() * (1.0 - index / len(artists))
            entry = {"tracks": {}, "artists": {}}
            for time_range in TIME_RANGES:
                noisy = {aid: score + rng.gauss(0, sigma[time_range]) for aid, score in affinity.items()}
                ranked = sorted(noisy, key=lambda aid: noisy[aid], reverse=True)
                n_artists = 50 if time_range == "long_term" else rng.randint(8 if time_range == "short_term" else 30, 50)
                entry["artists"][time_range] = ranked[:n_artists]
                scored = []
                for aid in ranked[:60]:
                    for tid in self.tracks_by_artist.get(aid, [])[:15]:
                        scored.append((noisy[aid] + rng.gauss(0, 0.3), tid))
                scored.sort(reverse=True)
                n_tracks = 50 if time_range == "long_term" else rng.randint(12 if time_range == "short_term" else 30, 50)
                entry["tracks"][time_range] = [tid for _, tid in scored[:n_tracks]]
            cat.top[user.id] = entry

    def make_initial_playlists(self):
        cat = self.cat
        owner = cat.users[-2]
        tracks = [t for a in cat.albums[:5] for t in a.tracks][:12]
        playlist = InitialPlaylist(
            id=self.ids.new(), owner_id=owner.id, name=RELEASE_RADAR_NAME,
            description="Release radar for an earlier week - Created by xomify.com", public=False,
            uris=[t.uri for t in tracks], deleted=True,
        )
        cat.initial_playlists.append(playlist)
        cat.hard_cases["deletedPlaylist"] = {"userId": owner.id, "playlistId": playlist.id}

"""The sandbox's catalogue: users, artists, releases, follow graphs and top lists.

Generated once, deterministically from (seed, user count, artist count, follow range, start instant),
and never changed afterwards (moving the sandbox clock does not regenerate it). Everything mutable at
run time (tokens, playlists) lives in ``state.py``.

Shape of the generated world (see README.md, "Catalogue"):
- artists ranked by popularity; a back catalogue per artist, all of it older than the recent window;
- the recent window (the ten complete weeks before the current week, and the current week up to
  "now"): each week every artist releases a single, an album or a compilation with a small
  probability (about 10 % of artists a week, singles about three times as often as albums; some
  albums come with a focus single the same week, the same recording on both);
- follows drawn from a shared pool with a popularity skew (weights (rank + 1) ** -0.8);
- the hard cases of SPEC §9, by artists that release nothing else in the recent window.
"""

import hashlib
import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from itertools import accumulate

from . import names
from .ids import IdFactory
from .weeks import current_week_start, last_complete_week, week_key

TIME_RANGES = ("short_term", "medium_term", "long_term")
GROUP_ORDER = ("album", "single", "appears_on", "compilation")
MIN_USERS = 3
MIN_ARTISTS = 60
RELEASE_RADAR_NAME = "Xomify Weekly Release Radar"
DEFAULT_FOLLOWS_MIN = 10
DEFAULT_FOLLOWS_MAX = 60
FIRST_USER_MIN_FOLLOWS = 51  # the multi-page follower: more than one page of 50

# The recent window: RECENT_WEEKS complete weeks before the current week, plus the current week.
RECENT_WEEKS = 10
OLDEST_RELEASE_DAYS = 1095
# Per artist and week in the recent window (times the artist's activity factor).
SINGLE_RATE = 0.07
ALBUM_RATE = 0.025
COMPILATION_RATE = 0.003
FRIDAY_SHARE = 0.55  # most releases come out on a Friday (the last day of a release-radar week)
FEATURE_RATE = 0.2  # singles with a featured artist
GUEST_TRACK_RATE = 0.08  # album tracks with a guest artist
PRE_RELEASE_RATE = 0.4  # albums that include the artist's latest single
FOCUS_SINGLE_RATE = 0.2  # albums with a focus single released the same week (and on the album)
LONG_DISCOGRAPHY_RATE = (0.08, 0.02)  # artists with 11-20 albums: popular tier, the rest
LONG_ALBUM_RATE = (0.01, 0.05)  # albums of 51-90 tracks: back catalogue, recent
FOLLOW_SKEW = 0.8  # an artist's weight in follows and guest picks: (rank + 1) ** -FOLLOW_SKEW
FEATURE_STYLES = ("(feat. {})", "(ft. {})", "(with {})", "[feat. {}]", "[with {}]")


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

    def __init__(self, seed, user_count, artist_count, start,
                 follows_min=DEFAULT_FOLLOWS_MIN, follows_max=DEFAULT_FOLLOWS_MAX):
        if user_count < MIN_USERS:
            raise ValueError(f"--users must be at least {MIN_USERS} (the hard cases need that many)")
        if artist_count < MIN_ARTISTS:
            raise ValueError(f"--artists must be at least {MIN_ARTISTS} (the hard cases need that many)")
        if follows_min < 0 or follows_max < follows_min:
            raise ValueError("--follows-min must be at least 0 and at most --follows-max")
        self.seed = seed
        self.start = start
        self.today = start.date()
        self.week_start, self.week_end = last_complete_week(start)
        self.current_week_start = current_week_start(self.today)
        self.follows_min = follows_min
        self.follows_max = follows_max
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
        self._follow_positions = {}  # user id -> {artist id: index}, built on first use

    def follow_position(self, user_id, artist_id):
        """The index of ``artist_id`` in the user's follow list (the ``after`` cursor), or None."""
        positions = self._follow_positions.get(user_id)
        if positions is None:
            positions = {aid: i for i, aid in enumerate(self.follows[user_id])}
            self._follow_positions[user_id] = positions  # a race builds the same dict twice: harmless
        return positions.get(artist_id)

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
        self.base_titles = {}  # single id -> its title without the "(feat. X)" part
        self.recent_start = cat.current_week_start - timedelta(weeks=RECENT_WEEKS)
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

    def old_release_date(self):
        """A date before the recent window, up to three years ago (some month or year precision)."""
        rng = self.rng
        newest = (self.cat.today - self.recent_start).days + 1
        days_ago = rng.randint(newest, OLDEST_RELEASE_DAYS)
        moment = self.day(days_ago)
        if days_ago > 400 and rng.random() < 0.1:
            return str(moment.year), "year"
        if days_ago > 120 and rng.random() < 0.1:
            return f"{moment.year:04d}-{moment.month:02d}", "month"
        return moment.isoformat(), "day"

    def recent_day(self, week_start):
        """A release day in the week starting ``week_start`` (often its Friday), never after today."""
        rng = self.rng
        last = min(6, (self.cat.today - week_start).days)
        offset = 6 if rng.random() < FRIDAY_SHARE else rng.randint(0, 6)
        if offset > last:
            offset = rng.randint(0, last)
        return (week_start + timedelta(days=offset)).isoformat(), "day"

    def pick_guest(self, exclude):
        """A guest artist, popular ones more often (never a hard-case artist), or None."""
        for _ in range(8):
            guest = self.rng.choices(self.guest_ids, cum_weights=self.guest_weights)[0]
            if guest not in exclude:
                return guest
        return None

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
                   track_artists=None, guests=False):
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
            track_name = album.name if (album_type == "single" and number == 1) else None
            if track_artists is not None:
                credits = track_artists[number - 1]
            else:
                credits = list(artist_ids)
                if guests and rng.random() < GUEST_TRACK_RATE:
                    guest = self.pick_guest(credits)
                    if guest is not None:
                        credits.append(guest)
                        if track_name is None and rng.random() < 0.7:
                            track_name = f"{self.title()} {rng.choice(FEATURE_STYLES).format(self.names[guest])}"
            album.tracks.append(self.make_track(track_name or self.title(), credits, album.id, number))
        self.cat.albums.append(album)
        return album

    def album_track_count(self, long_rate=0.0):
        if long_rate and self.rng.random() < long_rate:
            return self.rng.randint(51, 90)
        return self.rng.choice([8, 9, 10, 10, 11, 11, 12, 12, 13, 14, 16])

    def single_track_count(self):
        return self.rng.choice([1, 1, 1, 1, 2, 2, 3])

    def make_single(self, artist_id, release):
        """A single (1-3 tracks); some feature a guest on the lead track, named "Title (feat. Guest)"."""
        rng = self.rng
        count = self.single_track_count()
        title = self.title()
        guest = self.pick_guest({artist_id}) if rng.random() < FEATURE_RATE else None
        if guest is None:
            name, credits = title, [[artist_id]] * count
        else:
            name = f"{title} {rng.choice(FEATURE_STYLES).format(self.names[guest])}"
            credits = [[artist_id, guest]] + [[artist_id]] * (count - 1)
        single = self.make_album("single", [artist_id], release, count, name=name, track_artists=credits)
        self.base_titles[single.id] = title
        return single

    def make_recent_album(self, artist_id, release, latest_single, focus=False):
        """An album; some carry the artist's latest single (same title, maybe without the feature
        credit in the title, duration within 2 s, or a different edit 3-9 s longer or shorter).
        ``focus``: the latest single came out the same week, and the album always carries it."""
        rng = self.rng
        album = self.make_album("album", [artist_id], release, self.album_track_count(LONG_ALBUM_RATE[1]),
                                guests=True)
        if latest_single is not None and (focus or rng.random() < PRE_RELEASE_RATE):
            source = latest_single.tracks[0]
            target = album.tracks[rng.randrange(len(album.tracks))]
            target.name = source.name if rng.random() < 0.5 else self.base_titles[latest_single.id]
            target.artist_ids = source.artist_ids
            delta = rng.randint(0, 1900) if rng.random() < 0.8 else rng.randint(3000, 9000)
            target.duration_ms = source.duration_ms + rng.choice((-1, 1)) * delta
        return album

    def make_artist_compilation(self, artist_id, release):
        rng = self.rng
        return self.make_album("compilation", [artist_id], release, rng.randint(12, 18),
                               name=rng.choice(["Greatest Hits", "The Best Of", "Essentials", "Anthology"]))

    def draw_follows(self, count, exclude=()):
        """``count`` distinct followable artist indices, popular ones more likely."""
        rng = self.rng
        population = self.followable
        seen = set(exclude)
        count = min(count, len(population) - len(seen))
        chosen = []
        draws = 0
        while len(chosen) < count and draws < 20 * count + 1000:
            batch = rng.choices(population, cum_weights=self.follow_weights, k=2 * (count - len(chosen)) + 4)
            draws += len(batch)
            for index in batch:
                if index not in seen:
                    seen.add(index)
                    chosen.append(index)
                    if len(chosen) == count:
                        break
        if len(chosen) < count:  # nearly everything asked for: finish with weighted keys over the rest
            rest = [i for i in population if i not in seen]
            rest.sort(key=lambda i: rng.random() ** ((i + 1) ** FOLLOW_SKEW), reverse=True)
            chosen.extend(rest[: count - len(chosen)])
        return chosen

    # ------------------------------------------------------------------- build
    def build(self):
        self.make_users()
        self.make_artists()
        self.choose_roles()
        self.make_back_catalogues()
        self.make_recent_releases()
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
        self.names = {a.id: a.name for a in self.cat.artists}

    def choose_roles(self):
        rng = self.rng
        n = self.artist_count
        self.unfollowed = list(range(n - max(6, n // 10), n))  # nobody follows these
        pool = list(range(4, min(n - len(self.unfollowed), 48)))
        picks = rng.sample(pool, 13)
        a = self.cat.artists
        (self.many_albums, self.month_artist, self.year_artist, self.long_artist,
         self.single_album_artist, self.duo_a, self.duo_b, self.compilation_artist,
         self.feature_artist) = [a[i] for i in picks[:9]]
        self.boundary_artists = [a[i] for i in picks[9:13]]
        self.hard_artist_ids = {a[i].id for i in picks}
        unfollowed = set(self.unfollowed)
        self.followable = [i for i in range(n) if i not in unfollowed]
        self.follow_weights = list(accumulate((i + 1) ** -FOLLOW_SKEW for i in self.followable))
        guests = [i for i in range(n) if a[i].id not in self.hard_artist_ids]
        self.guest_ids = [a[i].id for i in guests]
        self.guest_weights = list(accumulate((i + 1) ** -FOLLOW_SKEW for i in guests))

    def make_back_catalogues(self):
        """Every artist's releases before the recent window (so hard-case artists stay quiet in it)."""
        rng = self.rng
        for index, artist in enumerate(self.cat.artists):
            popular = index < self.artist_count * 0.2
            album_count = rng.choice([1, 2, 2, 3, 3, 4, 5, 6] if popular else [0, 0, 1, 1, 2, 2, 3])
            single_count = rng.choice([1, 2, 3, 4, 5, 6, 8] if popular else [1, 1, 2, 2, 3, 4])
            if artist is self.many_albums:
                album_count, single_count = 0, 2  # its twelve albums are made in make_hard_cases
            elif artist.id not in self.hard_artist_ids and rng.random() < LONG_DISCOGRAPHY_RATE[0 if popular else 1]:
                album_count = rng.randint(11, 20)  # the combined album,single call of 10 cannot show its singles
            for _ in range(album_count):
                self.make_album("album", [artist.id], self.old_release_date(),
                                self.album_track_count(LONG_ALBUM_RATE[0]), guests=True)
            for _ in range(single_count):
                self.make_single(artist.id, self.old_release_date())
            if rng.random() < 0.08:
                self.make_artist_compilation(artist.id, self.old_release_date())

    def make_recent_releases(self):
        """The weekly release schedule of the recent window, oldest week first (not for hard-case artists)."""
        rng = self.rng
        cat = self.cat
        weeks = [cat.current_week_start - timedelta(weeks=k) for k in range(RECENT_WEEKS, -1, -1)]
        for index, artist in enumerate(cat.artists):
            if artist.id in self.hard_artist_ids:
                continue
            activity = 1.4 if index < self.artist_count * 0.2 else 0.9
            single_below = SINGLE_RATE * activity
            album_below = single_below + ALBUM_RATE * activity
            any_below = album_below + COMPILATION_RATE * activity
            latest_single = None
            for week in weeks:
                roll = rng.random()
                if roll >= any_below:
                    continue
                release = self.recent_day(week)
                if roll < single_below:
                    latest_single = self.make_single(artist.id, release)
                elif roll < album_below:
                    focus = rng.random() < FOCUS_SINGLE_RATE
                    if focus:  # a focus single the same week, on or before the album's day
                        day = date.fromisoformat(release[0])
                        single_day = day - timedelta(days=rng.randint(0, (day - week).days))
                        latest_single = self.make_single(artist.id, (single_day.isoformat(), "day"))
                    self.make_recent_album(artist.id, release, latest_single, focus)
                else:
                    self.make_artist_compilation(artist.id, release)

    def make_various_artists_compilations(self):
        rng = self.rng
        cat = self.cat
        cat.artists.append(self.various)
        candidates = [a.id for a in cat.artists[: self.artist_count] if a.id not in self.hard_artist_ids]
        recent_weeks = [cat.current_week_start - timedelta(weeks=k) for k in range(RECENT_WEEKS + 1)]
        for _ in range(max(3, self.artist_count // 15)):
            count = rng.randint(10, 16)
            credits = [[rng.choice(candidates)] for _ in range(count)]
            if rng.random() < 0.4:
                release = self.recent_day(rng.choice(recent_weeks))
            else:
                release = self.old_release_date()
            self.make_album("compilation", [self.various.id], release, count,
                            name=f"{rng.choice(['Summer', 'Winter', 'Late Night', 'Fresh', 'Indie'])} "
                                 f"{rng.choice(['Hits', 'Sessions', 'Selection', 'Collection'])} "
                                 f"{rng.randint(1, 30)}",
                            track_artists=credits)

    def hard_case_artists(self):
        return [self.many_albums, self.month_artist, self.year_artist, self.long_artist,
                self.single_album_artist, self.duo_a, self.duo_b, self.compilation_artist,
                self.feature_artist, *self.boundary_artists]

    def make_follow_graph(self):
        rng = self.rng
        cat = self.cat
        artists = cat.artists
        low, high = cat.follows_min, cat.follows_max
        rank = {a.id: i for i, a in enumerate(artists)}
        must = [rank[a.id] for a in self.hard_case_artists()]
        for position, user in enumerate(cat.users):
            if position == 0:
                # Just over one page of 50 with the default range: the hard cases and more.
                target = rng.randint(max(FIRST_USER_MIN_FOLLOWS, low), max(FIRST_USER_MIN_FOLLOWS, high))
                chosen = must + self.draw_follows(target - len(must), exclude=must)
            else:
                chosen = self.draw_follows(rng.randint(low, high))
            cat.follows[user.id] = [artists[i].id for i in chosen]
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

        # A followed artist featured on an unfollowed artist's single in the week (appears_on);
        # the single's other track does not credit them.
        primary = cat.artists[rng.choice(self.unfollowed)]
        guest = self.feature_artist
        feature = self.make_album("single", [primary.id], self.in_week(2), 2,
                                  name=f"Borrowed Light (feat. {guest.name})",
                                  track_artists=[[primary.id, guest.id], [primary.id]])
        hc["featureOnOthersRelease"] = {"albumId": feature.id, "artistId": guest.id, "primaryArtistId": primary.id,
                                        "trackId": feature.tracks[0].id,
                                        "otherTrackIds": [t.id for t in feature.tracks[1:]]}

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

"""Benchmark data: users × months of wraps (1,000 × 24 by default), streamed into PostgreSQL with COPY.

Each wrap has 25 track ids and 25 artist ids per time range (22-character base62 ids, with the overlap between
ranges a real listener has), genre scores computed as the wrapped job does (SPEC §8.1: artist i of n adds
max(n − i, 1) to each of its genres; ties keep first-seen order), 10–20 genres per range, a playlist id (a few
months have none) and `api_json` rendered exactly as `Wrap.apiJSON()` does (see `render_wrap`). One
GET /wrapped/data answer is then about 5.3 KB per month (125 KB for 24 months, 316 KB for 60). Each user's data
comes from a generator seeded with the user's index, so users are generated in parallel and stream into psql
(10,000 × 24 months is 2.5 GB of COPY text: never held in memory at once)."""

import calendar
import os
import random
import re
import subprocess
import sys

from genre_scores import score_genres  # Tests/rig, on the path of api-bench

BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
ADMIN_EMAIL = "bench-admin@xomify.bench"
RANGES = ("short_term", "medium_term", "long_term")

_PREFIXES = ["indie", "uk", "dark", "dream", "alt", "nu", "neo", "bedroom", "art", "chamber", "gothic", "melodic",
             "progressive", "swedish", "k-", "j-", "latin", "deep", "post", "modern"]
_BASES = ["pop", "rock", "hip hop", "r&b", "house", "techno", "folk", "jazz", "soul", "metal", "punk", "trap",
          "garage", "wave", "drill", "emo", "shoegaze", "country", "disco", "ambient"]
_REGIONS = ["australian", "canadian", "german", "french", "brazilian", "irish", "scottish", "japanese", "korean",
            "nigerian", "mexican", "italian"]
GENRES = sorted({(p + b if p.endswith("-") else f"{p} {b}") for p in _PREFIXES for b in _BASES}
                | {f"{r} {p} {b}" for r in _REGIONS for p in _PREFIXES[:8] for b in _BASES[:10] if not p.endswith("-")}
                | set(_BASES) | {"música mexicana", "corrido tumbado", "reggaeton", "afrobeats", "amapiano"})


def user_email(index):
    return f"bench-user-{index:04d}@xomify.bench"


def months(count=24, last=(2025, 12)):
    """`count` month keys ending with `last`, oldest first."""
    year, month = last
    keys = []
    for _ in range(count):
        keys.append(f"{year:04d}-{month:02d}")
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return list(reversed(keys))


def spotify_id(rng):
    return "".join(rng.choice(BASE62) for _ in range(22))


# -- rendering, byte for byte as Sources/Model/Wrap.swift apiJSON() and Sources/JSON/JSONWriter.swift -------------

_PLAIN = re.compile(r'[^"\\\x00-\x1f]*\Z')


def _quote(text):
    """JSONWriter.appendQuoted: escapes only ", \\ and bytes below 0x20 (\\n \\r \\t short, others \\u00xx);
    everything else, non-ASCII included, is written as UTF-8."""
    if _PLAIN.match(text):
        return '"' + text + '"'
    out = ['"']
    for ch in text:
        code = ord(ch)
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\t":
            out.append("\\t")
        elif code < 0x20:
            out.append("\\u00%02x" % code)
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def timestamp_text(seconds):
    """Timestamp.apiText: `YYYY-MM-DD HH:MM:SS` UTC."""
    import datetime
    moment = datetime.datetime.fromtimestamp(seconds, datetime.timezone.utc)
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def render_wrap(wrap):
    """The wrap's API JSON (bytes), exactly as Wrap.apiJSON() renders it."""
    def lists(per_range):
        return "{" + ",".join(_quote(r) + ":[" + ",".join(_quote(i) for i in per_range[r]) + "]" for r in RANGES) + "}"
    genres = "{" + ",".join(
        _quote(r) + ":{" + ",".join(_quote(g) + ":" + str(int(s)) for g, s in wrap["genres"][r]) + "}"
        for r in RANGES) + "}"
    playlist = "null" if wrap["playlistId"] is None else _quote(wrap["playlistId"])
    text = ("{" + '"email":' + _quote(wrap["email"]) + ',"monthKey":' + _quote(wrap["monthKey"])
            + ',"topSongIds":' + lists(wrap["tracks"]) + ',"topArtistIds":' + lists(wrap["artists"])
            + ',"topGenres":' + genres + ',"playlistId":' + playlist
            + ',"createdAt":' + _quote(timestamp_text(wrap["createdAt"])) + "}")
    return text.encode("utf-8")


def genre_scores_json(genres):
    """WrapStore.genreScoresJSON: `{"short_term": [["pop", 40], ...], ...}` (stored as jsonb)."""
    return "{" + ",".join(_quote(r) + ":[" + ",".join("[" + _quote(g) + "," + str(s) + "]" for g, s in genres[r])
                          + "]" for r in RANGES) + "}"


# -- generation ----------------------------------------------------------------------------------------------

def _ranked_lists(rng, pool, size=25):
    """Three top lists with a real listener's overlap: medium shares ~40% with short, long ~30% with medium."""
    short = rng.sample(pool, size)
    medium = rng.sample(short, 10) + rng.sample([x for x in pool if x not in short], size - 10)
    rng.shuffle(medium)
    long_ = rng.sample(medium, 8) + rng.sample([x for x in pool if x not in medium], size - 8)
    rng.shuffle(long_)
    return {"short_term": short, "medium_term": medium, "long_term": long_}


def generate_user(u, month_count=24, seed=12):
    """(user row dict, [wrap dict, ...]) of user `u`, the same on every call."""
    rng = random.Random(f"{seed}-{u}")
    keys = months(month_count)
    email = user_email(u)
    user = {"email": email, "spotify": spotify_id(rng), "display": f"Bench User {u:04d}",
            "active": rng.random() < 0.95, "wrapped": rng.random() < 0.9, "radar": rng.random() < 0.6}
    track_pool = [spotify_id(rng) for _ in range(160)]
    artist_pool = [spotify_id(rng) for _ in range(110)]
    taste = rng.sample(GENRES, rng.randint(17, 23))
    artist_genres = {a: rng.sample(taste, rng.choice((0, 1, 2, 2, 3, 3, 4))) for a in artist_pool}
    wraps = []
    for key in keys:
        year, month = int(key[:4]), int(key[5:])
        ny, nm = (year + 1, 1) if month == 12 else (year, month + 1)
        created = calendar.timegm((ny, nm, 1, 0, rng.randint(0, 59), rng.randint(0, 59), 0, 0, 0))
        tracks = _ranked_lists(rng, track_pool)
        artists = _ranked_lists(rng, artist_pool)
        genres = {r: score_genres([artist_genres[a] for a in artists[r]]) for r in RANGES}
        wraps.append({
            "email": email, "monthKey": key, "tracks": tracks, "artists": artists, "genres": genres,
            "playlistId": None if rng.random() < 0.05 else spotify_id(rng),
            "firstHalf": spotify_id(rng) if month == 6 else None,
            "year": spotify_id(rng) if month == 12 else None,
            "createdAt": created,
        })
    return user, wraps


def generate(users=1000, month_count=24, seed=12):
    """Yields (user row dict, [wrap dict, ...]) per user, deterministically."""
    for u in range(users):
        yield generate_user(u, month_count, seed)


# -- COPY ----------------------------------------------------------------------------------------------------

def _copy_field(value):
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    text = str(value)
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def _copy_array(ids):
    # base62 ids need no quoting inside an array literal
    return "{" + ",".join(ids) + "}"


def _user_line(user):
    return "\t".join(_copy_field(v) for v in (
        user["email"], user["spotify"], user["display"], user["active"], user["wrapped"], user["radar"]))


def _wrap_line(wrap):
    row = [wrap["email"], wrap["monthKey"]]
    row += [_copy_array(wrap["tracks"][r]) for r in RANGES]
    row += [_copy_array(wrap["artists"][r]) for r in RANGES]
    row += [genre_scores_json(wrap["genres"]), wrap["playlistId"], wrap["firstHalf"], wrap["year"],
            timestamp_text(wrap["createdAt"]) + "+00", render_wrap(wrap).decode("utf-8")]
    return "\t".join(_copy_field(v) for v in row)


def _copy_block(task):
    """COPY lines of users [first, last): their user rows, or their wraps."""
    first, last, month_count, what = task
    lines = []
    for u in range(first, last):
        user, wraps = generate_user(u, month_count)
        if what == "users":
            lines.append(_user_line(user))
        else:
            lines.extend(_wrap_line(w) for w in wraps)
    return ("\n".join(lines) + "\n").encode("utf-8")


def _blocks(users, month_count, what, chunk=50):
    """The COPY text of every user in order, generated by up to one fresh interpreter per CPU at a time (this
    file run as a script), so that a large size seeds in parallel."""
    here = os.path.dirname(os.path.abspath(__file__))
    pending = []
    starts = iter(range(0, users, chunk))
    while True:
        while len(pending) < (os.cpu_count() or 2) + 1:
            first = next(starts, None)
            if first is None:
                break
            command = [sys.executable, os.path.join(here, "seed.py"), what, str(first), str(min(users, first + chunk)),
                       str(month_count)]
            pending.append(subprocess.Popen(command, stdout=subprocess.PIPE, env=dict(
                os.environ, PYTHONPATH=os.pathsep.join([os.path.join(os.path.dirname(os.path.dirname(here)), "Tests",
                                                                     "rig"), here]))))
        if not pending:
            return
        process = pending.pop(0)
        output, _ = process.communicate()
        if process.returncode != 0:
            raise RuntimeError(f"generating {what} failed ({process.returncode})")
        yield output


def seed(postgres, users=1000, month_count=24, database="xomify"):
    """Replaces every user and wrap with the benchmark data; returns the list of emails and a sample of wraps."""
    psql = subprocess.Popen(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", str(postgres.port),
                             "-U", "postgres", "-d", database], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        psql.stdin.write(b"SET client_min_messages = warning;\nBEGIN;\nTRUNCATE users, wrapped_months CASCADE;\n"
                         b"COPY users (email, spotify_user_id, display_name, active, active_wrapped, "
                         b"active_release_radar) FROM STDIN;\n")
        for block in _blocks(users, month_count, "users"):
            psql.stdin.write(block)
        psql.stdin.write(b"\\.\nCOPY wrapped_months (email, month_key, short_term_track_ids, medium_term_track_ids,"
                         b" long_term_track_ids, short_term_artist_ids, medium_term_artist_ids, long_term_artist_ids,"
                         b" genre_scores, playlist_id, first_half_playlist_id, year_playlist_id, created_at, api_json)"
                         b" FROM STDIN;\n")
        for block in _blocks(users, month_count, "wraps"):
            psql.stdin.write(block)
        psql.stdin.write(b"\\.\n"
                         # Each user's wraps changed: new wraps revision (ETag), as WrapStore.save does.
                         b"UPDATE users SET wraps_revision = nextval('revisions');\n"
                         b"COMMIT;\n"
                         b"VACUUM (FREEZE, ANALYZE) users, wrapped_months;\n")
        psql.stdin.close()
    except BrokenPipeError:
        pass
    if psql.wait() != 0:
        raise RuntimeError("seeding failed (psql exited with %d)" % psql.returncode)
    sample = [generate_user(u, month_count)[1][-1] for u in range(min(3, users))]
    return [user_email(u) for u in range(users)], sample


if __name__ == "__main__":
    # seed.py users|wraps FIRST LAST MONTHS: the COPY lines of users [FIRST, LAST) on stdout (see `_blocks`).
    what, first, last, month_count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    sys.stdout.buffer.write(_copy_block((first, last, month_count, what)))

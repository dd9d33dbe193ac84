"""The genre scores of SPEC §8.1, written from the SPEC's words and not from the Swift code's choices. The tests
compare the job's wraps with it; the benchmark seeds its wraps with it.

What the SPEC says, word for word:

  §8.1  "genre scores per range: with n artists in rank order, the artist at index i (from 0) adds
         `max(n − i, 1)` to each of its genres (lower-cased, trimmed)"
  §8.1  "fetch top tracks and top artists for the three time ranges (6 requests, `limit` 25)"
  §5.3  "`topGenres` maps genre → integer score with keys emitted in descending score order (ties: first seen)."
  §6    "Artist `genres` is deprecated and often absent: parse every optional field defensively; absent genres
         give an empty score map, not an error."

How each phrase is read:

- "n artists in rank order", "index i (from 0)": the range's top-artist list as Spotify returned it (at most 25,
  possibly fewer), in its order; n is its length and i an artist's position in it. An artist without genres
  (the key absent, null or an empty list) is still one of the n artists and still takes its index; it adds to
  no genre (§6). An empty list of artists gives an empty map.
- "`max(n − i, 1)`": computed as written. Since i < n for every artist of the list, n − i ≥ 1 and the max never
  changes a weight; the reference keeps it so that it states the SPEC's formula, not a simplification of it.
- "lower-cased": Unicode's default full lowercase mapping, locale-independent (Python's `str.lower()`, which
  follows Unicode's SpecialCasing, including the Final_Sigma rule: "ΟΔΟΣ" becomes "οδος" with a final ς).
- "trimmed": the leading and trailing characters with Unicode's White_Space property removed (spaces, tabs,
  line breaks, no-break and ideographic spaces...). Whitespace inside a genre is kept ("hip  hop" stays as it
  is). Python's `str.strip()` is not used because it also strips U+001C–U+001F, which are not White_Space.
- "each of its genres": the artist's genres, after lower-casing and trimming. Two cases the SPEC is silent on:
  * a genre that is empty once trimmed ("", "   ") names no genre and is ignored: a key "" in `topGenres` would
    mean nothing to a client, and no real genre is blank;
  * a genre an artist lists twice (exactly, or spelled differently but equal once lower-cased and trimmed, such
    as "Jazz" and " jazz") counts once for that artist: "each of its genres" counts genres, not list entries,
    and letting a quirk of a deprecated field double an artist's weight would rank genres by data noise. Two
    different artists listing the same genre both add to it, of course.
- "descending score order (ties: first seen)": higher totals first; among equal totals, the genre met first when
  reading the artists in rank order and each artist's genres in its listed order (blank ones skipped) comes
  first.

Example: n = 4, so the weights are 4, 3, 2 and 1; the third artist has no genres, the second lists rock twice
and the fourth lists a blank genre. rock = 4 + 3, pop = 4, indie = 3 + 1; pop and indie tie at 4 and pop was
seen first.

    >>> score_genres([["Pop", " rock "], ["rock", "indie", "Rock"], None, ["", "indie"]])
    [('rock', 7), ('pop', 4), ('indie', 4)]
"""

# Unicode's White_Space property (PropList.txt): the characters "trimmed" removes at either end of a genre.
WHITE_SPACE = frozenset(
    [chr(c) for c in range(0x0009, 0x000D + 1)] + ["\u0020", "\u0085", "\u00A0", "\u1680"]
    + [chr(c) for c in range(0x2000, 0x200A + 1)] + ["\u2028", "\u2029", "\u202F", "\u205F", "\u3000"])


def normalise(genre):
    """A genre "lower-cased, trimmed" (SPEC §8.1), as read in the module's docstring."""
    lowered = genre.lower()
    start, end = 0, len(lowered)
    while start < end and lowered[start] in WHITE_SPACE:
        start += 1
    while end > start and lowered[end - 1] in WHITE_SPACE:
        end -= 1
    return lowered[start:end]


def score_genres(artist_genres):
    """The scores of one time range. `artist_genres` holds, for each top artist in rank order, the list of its
    genres (None or [] when it has none). Returns [(genre, score), ...] in the order `topGenres` emits its keys:
    descending score, ties in first-seen order."""
    n = len(artist_genres)
    totals = {}  # genre -> score; dicts keep insertion order, which is first-seen order
    for i, genres in enumerate(artist_genres):
        weight = max(n - i, 1)
        its_genres = []
        for raw in genres or []:
            genre = normalise(raw)
            if genre and genre not in its_genres:
                its_genres.append(genre)
        for genre in its_genres:
            totals[genre] = totals.get(genre, 0) + weight
    first_seen = list(totals)
    return sorted(totals.items(), key=lambda pair: (-pair[1], first_seen.index(pair[0])))

"""SPEC §8.1's genre scores, written independently of the Swift code: the tests compare the job's wraps with
it and the benchmark seeds its wraps with it."""


def score_genres(artist_genres):
    """With n artists in rank order (each a list of genres), the artist at index i adds max(n - i, 1) to each of
    its genres (lower-cased, trimmed, blank and repeated ones ignored). Pairs in descending score order, ties in
    first-seen order."""
    n = len(artist_genres)
    totals, order = {}, []
    for index, genres in enumerate(artist_genres):
        seen = set()
        for raw in genres:
            genre = raw.strip().lower()
            if not genre or genre in seen:
                continue
            seen.add(genre)
            if genre not in totals:
                order.append(genre)
                totals[genre] = 0
            totals[genre] += max(n - index, 1)
    ranked = sorted(enumerate(order), key=lambda item: (-totals[item[1]], item[0]))
    return [(genre, totals[genre]) for _, genre in ranked]

"""The genre-score reference (Tests/rig/genre_scores.py) against cases worked out by hand from SPEC §8.1 and
§5.3, so that the reference the job tests rely on is itself checked (its docstring says how each phrase of the
SPEC is read; Tests/UnitTests/GenreScoreTests.swift holds the same cases for the Swift code)."""

import doctest

import genre_scores
from genre_scores import normalise, score_genres


def test_the_docstring_example():
    failures, tried = doctest.testmod(genre_scores)
    assert tried >= 1 and failures == 0


def test_weights_are_n_minus_index():
    # n = 3: 3, 2, 1.
    assert score_genres([["a"], ["b"], ["c"]]) == [("a", 3), ("b", 2), ("c", 1)]
    # n = 25 (the job's limit): the first artist weighs 25, the last 1.
    ranked = score_genres([[f"g{i}"] for i in range(25)])
    assert ranked[0] == ("g0", 25) and ranked[-1] == ("g24", 1)
    # Sums over artists: rock = 3 + 1, pop = 3 + 2.
    assert score_genres([["pop", "rock"], ["pop"], ["rock"]]) == [("pop", 5), ("rock", 4)]


def test_artists_without_genres_still_count_in_n_and_take_their_index():
    assert score_genres([None, [], ["x"]]) == [("x", 1)]
    assert score_genres([["x"], None, None]) == [("x", 3)]
    assert score_genres([None, None]) == []
    assert score_genres([]) == []


def test_ties_keep_first_seen_order():
    # b: 3 + 1 = 4, a: 2 + 1 = 3, c: 2 (no tie); then a and c tie at 2, a seen first.
    assert score_genres([["b"], ["a", "c"], ["a", "b"]]) == [("b", 4), ("a", 3), ("c", 2)]
    assert score_genres([["z", "a"]]) == [("z", 1), ("a", 1)]
    assert score_genres([["m"], ["z", "a"], ["a", "z"]]) == [("m", 3), ("z", 3), ("a", 3)]


def test_lower_cased_and_trimmed():
    assert score_genres([["  Indie Pop\t"], ["indie pop"]]) == [("indie pop", 3)]
    # Inner whitespace is not trimmed.
    assert score_genres([["hip  hop"], ["hip hop"]]) == [("hip  hop", 2), ("hip hop", 1)]
    # Unicode's White_Space, beyond ASCII; U+001F is not White_Space and stays.
    assert normalise("\u00a0K-Pop\u3000") == "k-pop"
    assert normalise("\u001fpop") == "\u001fpop"
    # Unicode's default lower-casing, with its context rule for a final sigma.
    assert normalise("ΈΝΤΕΧΝΟΣ") == "έντεχνος"
    assert normalise("İ") == "i\u0307"


def test_blank_and_repeated_genres():
    assert score_genres([["", "   ", "\n"]]) == []
    assert score_genres([["jazz", "Jazz", " jazz "], ["jazz"]]) == [("jazz", 3)]
    # A repeat counts once for its artist, but every artist listing a genre adds to it.
    assert score_genres([["soul", "soul"], ["soul", "funk", "funk"]]) == [("soul", 3), ("funk", 1)]

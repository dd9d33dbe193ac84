"""Spotify-style identifiers: 22 base62 characters."""

import string

BASE62 = string.digits + string.ascii_letters


def is_base62_id(text):
    return isinstance(text, str) and len(text) == 22 and all(c in BASE62 for c in text)


class IdFactory:
    """Draws unique base62 ids from a given random.Random."""

    def __init__(self, rng):
        self._rng = rng
        self._issued = set()

    def _draw(self, length):
        number = self._rng.getrandbits(6 * length)
        chars = []
        for _ in range(length):
            number, digit = divmod(number, 62)
            chars.append(BASE62[digit])
        return "".join(chars)

    def new(self, length=22):
        while True:
            value = self._draw(length)
            if value not in self._issued:
                self._issued.add(value)
                return value

    def token(self, prefix, length):
        return prefix + self._draw(length)

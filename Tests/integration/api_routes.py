"""The routes of SPEC §5.3 as the tests see them: method, path and aliases, where the input comes from, which
fields are required or optional, and a valid input to start from."""

from dataclasses import dataclass, field

from api_helpers import new_refresh_token


@dataclass
class Operation:
    method: str
    paths: list
    source: str  # "query" or "body"
    required: list
    optional: list
    public: bool = False
    base: dict = field(default_factory=dict)

    def valid_input(self):
        """A fresh input that passes validation (a new refresh token each time)."""
        return {k: (new_refresh_token() if v == "<refresh token>" else v) for k, v in self.base.items()}

    @property
    def fields(self):
        return self.required + self.optional

    def __str__(self):
        return f"{self.method} {self.paths[0]}"


OPERATIONS = [
    Operation("GET", ["/wrapped/data", "/wrapped/all"], "query", [], ["email"]),
    Operation("POST", ["/wrapped/data", "/wrapped/update"], "body", ["refreshToken", "active"],
              ["email", "userId", "releaseRadarId"], base={"refreshToken": "<refresh token>", "active": True}),
    Operation("GET", ["/wrapped/month"], "query", ["monthKey"], ["email"], base={"monthKey": "2025-01"}),
    Operation("GET", ["/wrapped/year"], "query", ["year"], ["email"], base={"year": "2025"}),
    Operation("GET", ["/user/user-table", "/user/data"], "query", [], ["email"]),
    # Either group may come alone, so no single field is required; a body with neither is refused.
    Operation("POST", ["/user/user-table", "/user/update"], "body", [],
              ["email", "userId", "refreshToken", "displayName", "avatar", "wrappedEnrolled", "releaseRadarEnrolled",
               "activeWrapped", "activeReleaseRadar"], base={"refreshToken": "<refresh token>"}),
    Operation("GET", ["/release-radar/history"], "query", [], ["email", "limit"]),
    Operation("GET", ["/release-radar/check"], "query", [], ["email"]),
    Operation("POST", ["/auth/login"], "body", ["spotifyAccessToken"], ["email"], public=True,
              base={"spotifyAccessToken": "not-checked-before-validation"}),
    Operation("GET", ["/health"], "query", [], [], public=True),
    Operation("GET", ["/ping"], "query", [], [], public=True),
]

# Every path the API serves, with the methods it allows (the `Allow` of a 405).
ALLOWED = {}
for _operation in OPERATIONS:
    for _path in _operation.paths:
        ALLOWED.setdefault(_path, set()).add(_operation.method)

# Each operation once per path it answers on.
ROUTE_PATHS = [(operation, path) for operation in OPERATIONS for path in operation.paths]

# Values each kind of field must refuse, as sent in a query string (already percent-encoded) or a JSON body.
BAD_QUERY_VALUES = {
    "email": ["", "no-at-sign", "a@b@x.test", "@x.test", "a@", "a" * 250 + "%40x.test", "a%20b@x.test",
              "%00a@x.test", "a@x.test%0A"],
    "monthKey": ["", "2025-13", "2025-00", "2025-1", "25-01", "2025%2F01", "202501", "2025-01-01", "abcd-ef",
                 "%EF%BC%92025-01", "2025-01%20"],
    "year": ["", "25", "20255", "abcd", "-202", "2025.0", "%EF%BC%92025", "%202025"],
    "limit": ["", "0", "105", "-1", "1.5", "abc", "1e2", "99999999999999999999", "%2B5", "0x10"],
}

BAD_BODY_VALUES = {
    "id": [5, 1.5, True, None, [], {}, "", "x" * 257, "a\nb", ["an-id"]],
    "token": [5, True, None, [], {}, "", "t" * 4097, "tok\u0000en"],
    "bool": ["true", 1, 0, None, [], {}, "yes", "false"],
    "email": [5, True, None, [], {}, "", "no-at-sign", "a@b@x.test", "a" * 250 + "@x.test", "a b@x.test"],
    "nullable text": [5, True, [], {}, "x" * 2049, "a\u0000b"],
}

BODY_FIELD_KINDS = {
    "userId": "id", "releaseRadarId": "id", "refreshToken": "token", "spotifyAccessToken": "token",
    "active": "bool", "wrappedEnrolled": "bool", "releaseRadarEnrolled": "bool", "activeWrapped": "bool",
    "activeReleaseRadar": "bool", "email": "email", "displayName": "nullable text", "avatar": "nullable text",
}

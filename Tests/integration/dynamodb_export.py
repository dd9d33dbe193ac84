"""The old system's three DynamoDB tables (SPEC §13), generated from a seed, written in both formats AWS gives
(an S3 export: AWSDynamoDB/<id>/manifest-summary.json, manifest-files.json, data/*.json.gz; and the pages of
`aws dynamodb scan --output json`), with everything the importer must cope with: `med_term`, plaintext refresh
tokens, numbers as N strings, booleans as BOOL, N 0/1 and S "true"/"false", timestamps in several forms, a user
without history, and invalid records. The generator knows exactly which records are valid, why each other one
must be skipped, and what the API must answer for every user once the export is imported."""

import datetime
import gzip
import hashlib
import json
import os
import random
import string

TIME_RANGES = ("short_term", "medium_term", "long_term")
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
USERS = "xomify-users"
WRAPS = "xomify-wrapped-history"
WEEKS = "xomify-release-radar-history"
GENRES = ["pop", "rock", "indie", "hip hop", "jazz", "metal", "folk", "soul", "house", "techno", "ambient",
          "k-pop", "música popular brasileira", "chanson", "drum and bass", "r&b", "emo", "city pop", "έντεχνο"]
ALPHABET = string.ascii_letters + string.digits

# The reasons the importer gives (Sources/Importer/Records/Rejection.swift).
MISSING_KEY = "missing key"
INVALID_EMAIL = "invalid email"
INVALID_MONTH = "invalid monthKey"
INVALID_WEEK = "invalid weekKey"
INVALID_ATTRIBUTE = "invalid attribute"
DUPLICATE_SPOTIFY_ID = "userId of another user in the export"
USER_SKIPPED = "its user was skipped"
UNKNOWN_USER = "user neither in the database nor in the export"
NOT_AN_ITEM = "not an item in DynamoDB JSON"


# -- DynamoDB JSON ---------------------------------------------------------------------------------------

def S(text):
    return {"S": text}


def N(number):
    return {"N": str(number)}


def L(values):
    return {"L": values}


def M(mapping):
    return {"M": mapping}


NULL = {"NULL": True}


def epoch(day, seconds_of_day=0):
    return int(datetime.datetime(day.year, day.month, day.day, tzinfo=datetime.timezone.utc).timestamp()) + seconds_of_day


def api_time(seconds):
    return datetime.datetime.fromtimestamp(seconds, datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


class Record:
    """One item of a table: its DynamoDB JSON, and either None (valid) or the reason it must be skipped and the
    key attributes the importer's log line names (`email=… monthKey=…`)."""

    def __init__(self, table, item, reason=None, key=None, scan_ok=True):
        self.table = table
        self.item = item
        self.reason = reason
        self.key = key or {}
        # An item without its sort key reads as a user in a scan page (the table comes from the keys there).
        self.scan_ok = scan_ok


class Export:
    def __init__(self, seed=2025, users=1000, wraps=20000, weeks_per_user=6, domain="example.com"):
        self.random = random.Random(seed)
        self.domain = domain
        # Listeners share tracks and artists: top lists are drawn from catalogues of ids.
        self.track_ids = [self._id() for _ in range(6000)]
        self.artist_ids = [self._id() for _ in range(2500)]
        self.records = {USERS: [], WRAPS: [], WEEKS: []}
        # What the API must answer, by email: the user object, wraps by month and weeks by key.
        self.expected = {}
        # Refresh tokens of records that are skipped: they must not show anywhere either.
        self.skipped_tokens = []
        self._make_users(users)
        self._make_wraps(wraps)
        self._make_weeks(weeks_per_user)
        self._make_invalid()

    # -- helpers ---------------------------------------------------------------------------------------

    def _id(self, length=22):
        return "".join(self.random.choices(ALPHABET, k=length))

    def _token(self):
        """A plaintext refresh token, as Spotify's look (long and unique: the secret scans look for each)."""
        return "AQ" + "".join(self.random.choices(ALPHABET + "-_", k=128))

    def _flag(self, value):
        """A boolean in one of the forms the old tables hold."""
        form = self.random.randrange(5)
        if form == 0:
            return {"BOOL": value}
        if form == 1:
            return N(1 if value else 0)
        if form == 2:
            return S("true" if value else "false")
        if form == 3:
            return S("True" if value else "FALSE")
        return {"BOOL": value}

    def _time(self, seconds):
        """An instant in one of the forms the old system wrote; every one means `seconds` (whole)."""
        moment = datetime.datetime.fromtimestamp(seconds, datetime.timezone.utc)
        micro = self.random.randrange(1_000_000)
        form = self.random.randrange(8)
        if form == 0:
            return S(moment.replace(tzinfo=None).isoformat() + f".{micro:06d}")
        if form == 1:
            return S(moment.strftime("%Y-%m-%dT%H:%M:%S") + f".{micro // 1000:03d}Z")
        if form == 2:
            return S(moment.isoformat())  # +00:00
        if form == 3:
            return S(moment.strftime("%Y-%m-%d %H:%M:%S"))
        if form == 4:
            shifted = moment.astimezone(datetime.timezone(datetime.timedelta(hours=2)))
            return S(shifted.isoformat())
        if form == 5:
            return N(seconds)
        if form == 6:
            return N(f"{seconds}.{micro:06d}")
        return N(seconds * 1000 + micro // 1000)

    # -- users -----------------------------------------------------------------------------------------

    def _make_users(self, count):
        for index in range(count):
            local = f"user{index:05d}"
            stored_email = f"{local}@{self.domain}"
            # Old rows may spell emails with capitals; rows are keyed lower-cased.
            shown = stored_email.upper() if index % 17 == 0 else (stored_email.capitalize() if index % 5 == 0 else stored_email)
            user_id = f"sp{self._id(18)}"
            token = self._token() if index % 13 != 0 else None
            active, wrapped, radar = index % 11 != 0, index % 3 != 0, index % 4 != 0
            updated = epoch(datetime.date(2024, 1, 1)) + self.random.randrange(700 * 86400)
            item = {"email": S(shown), "userId": S(user_id), "active": self._flag(active),
                    "activeWrapped": self._flag(wrapped), "activeReleaseRadar": self._flag(radar),
                    "updatedAt": self._time(updated)}
            display = None
            if index % 7 != 0:
                display = f"Listener {index}" if index % 9 else f"Zoë «{index}» Ünal"
                item["displayName"] = S(display)
            elif index % 2:
                item["displayName"] = NULL
            avatar = None
            if index % 6 != 0:
                avatar = f"https://i.scdn.co/image/ab67{self._id(30)}"
                item["avatar"] = S(avatar)
            radar_id = None
            if index % 8 != 0:
                radar_id = self._id()
                item["releaseRadarId"] = S(radar_id)
            elif index % 16 == 0:
                item["releaseRadarId"] = S("")
            if token:
                item["refreshToken"] = S(token)
            self.records[USERS].append(Record(USERS, item))
            self.expected[stored_email] = {
                "user": {"email": stored_email, "userId": user_id, "displayName": display, "avatar": avatar,
                         "active": active, "activeWrapped": wrapped, "activeReleaseRadar": radar,
                         "releaseRadarId": radar_id, "tokenStatus": "ok" if token else "missing",
                         "createdAt": api_time(updated), "updatedAt": api_time(updated)},
                "token": token, "wraps": {}, "weeks": {}}

    @property
    def emails(self):
        return list(self.expected)

    @property
    def tokens(self):
        """Every plaintext refresh token of the export."""
        return [e["token"] for e in self.expected.values() if e["token"]] + self.skipped_tokens

    # -- wraps -----------------------------------------------------------------------------------------

    def _make_wraps(self, total):
        emails = self.emails
        # The first user has no history at all; the others share the wraps, 20 on average.
        owners = emails[1:]
        per_user = [total // len(owners)] * len(owners)
        for index in range(total - sum(per_user)):
            per_user[index] += 1
        for email, months in zip(owners, per_user):
            months = max(1, months + self.random.randrange(-8, 9)) if months > 9 else months
            end = (2026, 10)
            year, month = end
            for _ in range(months):
                self._add_wrap(email, f"{year:04d}-{month:02d}")
                month -= 1
                if month == 0:
                    year, month = year - 1, 12
        # Top up to at least the total (the variation above moves it a little).
        wraps = sum(len(e["wraps"]) for e in self.expected.values())
        index = 1
        while wraps < total:
            email = owners[index % len(owners)]
            oldest = min(self.expected[email]["wraps"])
            year, month = int(oldest[:4]), int(oldest[5:])
            month -= 1
            if month == 0:
                year, month = year - 1, 12
            self._add_wrap(email, f"{year:04d}-{month:02d}")
            wraps += 1
            index += 7

    def _add_wrap(self, email, month):
        r = self.random
        old_spelling = r.random() < 0.5
        songs = {t: r.sample(self.track_ids, 10) for t in TIME_RANGES}
        artists = {t: r.sample(self.artist_ids, 10) for t in TIME_RANGES}
        genres = {}
        for t in TIME_RANGES:
            names = r.sample(GENRES, 6)
            # Ties on purpose: the first seen stays first.
            genres[t] = [(g, r.choice([40, 25, 25, 12, 12, 3, 1])) for g in names]
        playlist = self._id() if r.random() < 0.8 else None
        year, number = int(month[:4]), int(month[5:])
        after = datetime.date(year + (number == 12), number % 12 + 1, 1)
        created = epoch(after, r.randrange(3600 * 5))

        def ranges(values, encode):
            keys = ["short_term", "med_term" if old_spelling else "medium_term", "long_term"]
            r.shuffle(keys)  # maps have no order of their own in DynamoDB
            return M({k: encode(values["medium_term" if k == "med_term" else k]) for k in keys})

        def genre_map(pairs):
            return M({g: N(f"{s}.0" if r.random() < 0.05 else s) for g, s in pairs})

        item = {"email": S(email), "monthKey": S(month),
                "topSongIds": ranges(songs, lambda ids: L([S(i) for i in ids])),
                "topArtistIds": ranges(artists, lambda ids: L([S(i) for i in ids])),
                "topGenres": ranges(genres, genre_map)}
        if playlist:
            item["playlistId"] = S(playlist)
        elif r.random() < 0.5:
            item["playlistId"] = NULL
        if r.random() < 0.97:
            item["createdAt"] = self._time(created)
        else:
            created = epoch(after)  # the start of the next month, when the job would have run
        self.records[WRAPS].append(Record(WRAPS, item))
        ordered = {t: sorted(genres[t], key=lambda pair: -pair[1]) for t in TIME_RANGES}  # stable: ties first seen
        self.expected[email]["wraps"][month] = {
            "email": email, "monthKey": month, "topSongIds": songs, "topArtistIds": artists,
            "topGenres": {t: ordered[t] for t in TIME_RANGES}, "playlistId": playlist, "createdAt": api_time(created),
            "_created": created}

    # -- weeks -----------------------------------------------------------------------------------------

    def _make_weeks(self, per_user):
        r = self.random
        last_saturday = datetime.date(2026, 10, 24)
        for position, email in enumerate(self.emails[1:]):
            if position % 10 == 9:
                continue  # some users never had a release radar week
            for back in range(per_user + r.randrange(-2, 3)):
                self._add_week(email, last_saturday - datetime.timedelta(days=7 * back))

    def _add_week(self, email, saturday):
        r = self.random
        end = saturday + datetime.timedelta(days=6)
        year, week, _ = saturday.isocalendar()
        key = f"{year:04d}-{week:02d}"
        releases = []
        for n in range(r.randrange(0, 4)):
            album = self._id()
            release = {"albumId": album, "albumName": f"Album {self._id(6)}",
                       "albumType": r.choice(["album", "single", "compilation"]), "artistId": self._id(),
                       "artistName": f"Artist {self._id(5)}", "releaseDate": str(saturday + datetime.timedelta(days=n)),
                       "totalTracks": r.randrange(1, 30),
                       "imageUrl": f"https://i.scdn.co/image/{self._id(20)}" if r.random() < 0.9 else None,
                       "spotifyUrl": f"https://open.spotify.com/album/{album}", "uri": f"spotify:album:{album}"}
            releases.append(release)
        albums = sum(1 for x in releases if x["albumType"] in ("album", "compilation"))
        singles = sum(1 for x in releases if x["albumType"] == "single")
        stats = {"artistCount": len({x["artistId"] for x in releases}), "releaseCount": len(releases),
                 "trackCount": sum(x["totalTracks"] for x in releases), "albumCount": albums, "singleCount": singles}
        playlist = self._id() if r.random() < 0.9 else None

        def release_item(x):
            fields = {k: S(v) for k, v in x.items() if k not in ("totalTracks", "imageUrl")}
            fields["totalTracks"] = N(x["totalTracks"])
            fields["imageUrl"] = S(x["imageUrl"]) if x["imageUrl"] else NULL
            return M(fields)

        item = {"email": S(email), "weekKey": S(key), "releases": L([release_item(x) for x in releases]),
                "stats": M({k: N(v) for k, v in stats.items()})}
        if r.random() < 0.8:
            item["startDate"] = S(str(saturday))
            item["endDate"] = S(str(end))
        if playlist:
            item["playlistId"] = S(playlist)
        created = epoch(end + datetime.timedelta(days=1), r.randrange(7200))
        if r.random() < 0.95:
            item["createdAt"] = self._time(created)
        else:
            created = epoch(end + datetime.timedelta(days=1))
        self.records[WEEKS].append(Record(WEEKS, item))
        self.expected[email]["weeks"][key] = {
            "weekKey": key, "weekDisplay": week_display(saturday), "startDate": str(saturday), "endDate": str(end),
            "releases": releases, "stats": stats, "playlistId": playlist, "createdAt": api_time(created)}

    # -- records that must be skipped ------------------------------------------------------------------

    def _make_invalid(self):
        emails = self.emails
        some_user = emails[5]
        first_user_id = self.expected[emails[2]]["user"]["userId"]

        def user(item, reason, email_text):
            self.records[USERS].append(Record(USERS, item, reason, {"email": email_text}))

        user({"email": S("not-an-email"), "active": {"BOOL": True}}, INVALID_EMAIL, "not-an-email")
        skipped_token = self._token()
        self.skipped_tokens.append(skipped_token)
        user({"email": S(f"two@@{self.domain}"), "refreshToken": S(skipped_token)}, INVALID_EMAIL, f"two@@{self.domain}")
        user({"email": S(""), "active": {"BOOL": True}}, INVALID_EMAIL, "")
        user({"userId": S(f"sp-no-email-{self.domain}"), "active": {"BOOL": True}}, MISSING_KEY, None)
        # A user whose flag cannot be read: skipped, and its history with it.
        user({"email": S(f"flaky@{self.domain}"), "userId": S(f"sp-flaky-{self.domain}"), "active": S("yes")},
             INVALID_ATTRIBUTE, f"flaky@{self.domain}")
        # A second user claiming a Spotify id already taken (listed after its owner).
        user({"email": S(f"dup@{self.domain}"), "userId": S(first_user_id), "active": {"BOOL": True}},
             DUPLICATE_SPOTIFY_ID, f"dup@{self.domain}")

        def wrap(email, month, reason, scan_ok=True, **overrides):
            item = {"email": S(email), "topSongIds": M({"short_term": L([S("t1")])}),
                    "topArtistIds": M({"short_term": L([S("a1")])}), "topGenres": M({"short_term": M({"pop": N(3)})}),
                    "createdAt": S("2025-01-01T00:00:00Z")}
            if month is not None:
                item["monthKey"] = S(month)
            item.update(overrides)
            self.records[WRAPS].append(Record(WRAPS, item, reason, {"email": email, "monthKey": month}, scan_ok))

        wrap(some_user, "2024-13", INVALID_MONTH)
        wrap(some_user, "2024-1", INVALID_MONTH)
        wrap(some_user, "24-01", INVALID_MONTH)
        wrap(some_user, None, MISSING_KEY, scan_ok=False)
        wrap("bad-email", "2024-05", INVALID_EMAIL)
        wrap(f"ghost@{self.domain}", "2024-05", UNKNOWN_USER)
        wrap(f"flaky@{self.domain}", "2024-05", USER_SKIPPED)
        wrap(some_user, "1999-05", INVALID_ATTRIBUTE, topGenres=M({"short_term": M({"pop": S("many")})}))
        wrap(some_user, "1999-06", INVALID_ATTRIBUTE,
             topSongIds=M({"med_term": L([S("x")]), "medium_term": L([S("y")])}))

        def week(email, key, reason, scan_ok=True, **overrides):
            item = {"email": S(email), "releases": L([]), "stats": M({"releaseCount": N(0)})}
            if key is not None:
                item["weekKey"] = S(key)
            item.update(overrides)
            self.records[WEEKS].append(Record(WEEKS, item, reason, {"email": email, "weekKey": key}, scan_ok))

        week(some_user, "2024-54", INVALID_WEEK)
        week(some_user, "2023-53", INVALID_WEEK)  # 2023 has 52 ISO weeks
        week(some_user, "2025-10", INVALID_WEEK, startDate=S("2025-03-03"))  # a Monday, not week 10's Saturday
        week(f"ghost@{self.domain}", "2025-10", UNKNOWN_USER)
        week(some_user, "2025-11", INVALID_ATTRIBUTE, releases=L([M({"albumId": S("x")})]))

    # -- what an import must report ----------------------------------------------------------------------

    def written(self, table, scan):
        return [r for r in self.records[table] if r.scan_ok or not scan]

    def valid_count(self, table):
        return sum(1 for r in self.records[table] if r.reason is None)

    def expected_skips(self, table, scan):
        return [r for r in self.written(table, scan) if r.reason is not None]

    @staticmethod
    def log_key(record):
        """The key as the importer's log line names it (RecordKey.describe)."""
        names = ["email"] + (["monthKey"] if record.table == WRAPS else ["weekKey"] if record.table == WEEKS else [])
        parts = []
        for name in names:
            value = record.key.get(name)
            if value is None:
                parts.append(f"{name}=(missing)")
            elif value == "" or " " in value or '"' in value:
                parts.append(f'{name}="{value}"')
            else:
                parts.append(f"{name}={value}")
        return " ".join(parts)

    # -- writing ---------------------------------------------------------------------------------------

    def write_s3_export(self, root, table, table_name=None, files=4, bad_line=False):
        """An S3 export of `table` as AWS writes it, under root/AWSDynamoDB/<export id>/; returns that folder.
        With `bad_line`, one data file holds a line that is not JSON (reported as not an item)."""
        export_id = f"{self.random.randrange(10**13, 10**14)}-{self._id(8).lower()}"
        folder = os.path.join(root, "AWSDynamoDB", export_id)
        os.makedirs(os.path.join(folder, "data"), exist_ok=True)
        open(os.path.join(folder, "_started"), "w").close()
        records = self.written(table, scan=False)
        # Items land in partitions in no particular order, but the tests keep the invalid ones last (a duplicate
        # Spotify id must come after its owner).
        chunks = [records[i::files] for i in range(files)]
        chunks[-1] = [r for r in chunks[-1] if r.reason is None] + [r for r in records if r.reason is not None]
        for chunk in chunks[:-1]:
            chunk[:] = [r for r in chunk if r.reason is None]
        manifest_lines = []
        total = 0
        for number, chunk in enumerate(chunks + [[]]):  # and an empty partition's empty file
            name = f"{self._id(26).lower()}.json.gz"
            lines = [json.dumps({"Item": r.item}, ensure_ascii=False, separators=(",", ":")) for r in chunk]
            count = len(lines)
            if bad_line and number == 0:
                lines.insert(len(lines) // 2, '{"Item": {"email": {"S": "broken@example.com"}')
                count += 1
            data = ("\n".join(lines) + ("\n" if lines else "")).encode()
            packed = gzip.compress(data, compresslevel=6, mtime=0)
            with open(os.path.join(folder, "data", name), "wb") as f:
                f.write(packed)
            manifest_lines.append(json.dumps({"itemCount": count, "md5Checksum": hashlib.md5(packed).hexdigest(),
                                              "etag": hashlib.md5(packed).hexdigest(),
                                              "dataFileS3Key": f"exports/AWSDynamoDB/{export_id}/data/{name}"}))
            total += count
        with open(os.path.join(folder, "manifest-files.json"), "w") as f:
            f.write("\n".join(manifest_lines) + "\n")
        summary = {"version": "2020-06-30",
                   "exportArn": f"arn:aws:dynamodb:us-east-1:123456789012:table/{table_name or table}/export/{export_id}",
                   "startTime": "2026-11-01T07:28:34.028Z", "endTime": "2026-11-01T07:33:43.897Z",
                   "tableArn": f"arn:aws:dynamodb:us-east-1:123456789012:table/{table_name or table}",
                   "tableId": "12345a12-abcd-123a-ab12-1234abc12345", "exportTime": "2026-11-01T07:28:34.028Z",
                   "s3Bucket": "xomify-backup", "s3Prefix": "exports", "s3SseAlgorithm": "AES256",
                   "s3SseKmsKeyId": None, "manifestFilesS3Key": f"exports/AWSDynamoDB/{export_id}/manifest-files.json",
                   "billedSizeBytes": 0, "itemCount": total, "outputFormat": "DYNAMODB_JSON", "exportType": "FULL_EXPORT"}
        with open(os.path.join(folder, "manifest-summary.json"), "w") as f:
            json.dump(summary, f)
        return folder

    def write_scan_pages(self, folder, table, page_size=700, compress=False):
        """`aws dynamodb scan --table-name … --max-items N --output json` pages, one file each (the CLI's
        indentation, NextToken on all but the last); returns the folder."""
        os.makedirs(folder, exist_ok=True)
        records = self.written(table, scan=True)
        records = [r for r in records if r.reason is None] + [r for r in records if r.reason is not None]
        pages = [records[i:i + page_size] for i in range(0, len(records), page_size)]
        for number, page in enumerate(pages):
            body = {"Items": [r.item for r in page], "Count": len(page), "ScannedCount": len(page),
                    "ConsumedCapacity": None}
            if number < len(pages) - 1:
                body["NextToken"] = "eyJFeGNsdXNpdmVTdGFydEtleSI6IG51bGx9"
            text = json.dumps(body, indent=4, ensure_ascii=False).encode()
            name = os.path.join(folder, f"{table}-page-{number + 1:04d}.json")
            if compress:
                with open(name + ".gz", "wb") as f:
                    f.write(gzip.compress(text, compresslevel=1, mtime=0))
            else:
                with open(name, "wb") as f:
                    f.write(text)
        return folder


def week_display(saturday):
    end = saturday + datetime.timedelta(days=6)
    if saturday.month == end.month:
        return f"{MONTHS[saturday.month - 1]} {saturday.day:02d} - {end.day:02d}, {end.year}"
    return f"{MONTHS[saturday.month - 1]} {saturday.day:02d} - {MONTHS[end.month - 1]} {end.day:02d}, {end.year}"


if __name__ == "__main__":
    import argparse
    parser = argparse.ArgumentParser(description="Write a generated export of the old tables.")
    parser.add_argument("directory")
    parser.add_argument("--format", choices=["s3", "scan"], default="s3")
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--wraps", type=int, default=20000)
    args = parser.parse_args()
    export = Export(users=args.users, wraps=args.wraps)
    for table in (USERS, WRAPS, WEEKS):
        if args.format == "s3":
            print(export.write_s3_export(args.directory, table))
        else:
            print(export.write_scan_pages(os.path.join(args.directory, table), table))

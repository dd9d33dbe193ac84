-- The Spotify request budget shared by every runner on every host (SPEC §6, §11): requests counted per minute,
-- summed over a rolling 24 hours.
CREATE TABLE spotify_request_budget (
    minute    timestamptz PRIMARY KEY CHECK (minute = date_trunc('minute', minute)),
    requests  integer NOT NULL CHECK (requests >= 0)
);

-- The Spotify catalogue cache shared by all users (SPEC §4, §8.2): per artist, the releases seen for a week;
-- per album, its tracks. A resumed or parallel run reads these instead of asking Spotify again.
CREATE TABLE artist_week_releases (
    artist_id   text NOT NULL CHECK (length(artist_id) BETWEEN 1 AND 256),
    week_key    text NOT NULL CHECK (week_key ~ '^[0-9]{4}-(0[1-9]|[1-4][0-9]|5[0-3])$'),
    releases    jsonb NOT NULL CHECK (jsonb_typeof(releases) = 'array'),
    requests    integer NOT NULL DEFAULT 0 CHECK (requests >= 0),
    scanned_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (artist_id, week_key)
);

CREATE TABLE album_tracks (
    album_id    text PRIMARY KEY CHECK (length(album_id) BETWEEN 1 AND 256),
    tracks      jsonb NOT NULL CHECK (jsonb_typeof(tracks) = 'array'),
    fetched_at  timestamptz NOT NULL DEFAULT now()
);

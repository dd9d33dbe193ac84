-- One release radar week per user: the releases found, their counts and the playlist written.
CREATE TABLE release_radar_weeks (
    email         text NOT NULL REFERENCES users (email) ON UPDATE CASCADE ON DELETE CASCADE,
    week_key      text NOT NULL CHECK (week_key ~ '^[0-9]{4}-(0[1-9]|[1-4][0-9]|5[0-3])$'),
    start_date    date NOT NULL CHECK (extract(isodow FROM start_date) = 6),
    end_date      date NOT NULL,
    releases      jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(releases) = 'array'),
    artist_count  integer NOT NULL DEFAULT 0 CHECK (artist_count >= 0),
    release_count integer NOT NULL DEFAULT 0 CHECK (release_count >= 0),
    track_count   integer NOT NULL DEFAULT 0 CHECK (track_count >= 0),
    album_count   integer NOT NULL DEFAULT 0 CHECK (album_count >= 0),
    single_count  integer NOT NULL DEFAULT 0 CHECK (single_count >= 0),
    playlist_id   text CHECK (length(playlist_id) BETWEEN 1 AND 256),
    created_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (email, week_key),
    CONSTRAINT week_is_seven_days CHECK (end_date = start_date + 6),
    CONSTRAINT counts_add_up CHECK (album_count + single_count <= release_count)
);

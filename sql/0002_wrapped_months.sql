-- One wrap per user and month: top track and artist ids in Spotify's rank order and genre scores in score
-- order, for the three time ranges, and the playlists made for the month.
CREATE TABLE wrapped_months (
    email                  text NOT NULL REFERENCES users (email) ON UPDATE CASCADE ON DELETE CASCADE,
    month_key              text NOT NULL CHECK (month_key ~ '^[0-9]{4}-(0[1-9]|1[0-2])$'),
    short_term_track_ids   text[] NOT NULL CHECK (array_ndims(short_term_track_ids) IS NULL OR array_ndims(short_term_track_ids) = 1),
    medium_term_track_ids  text[] NOT NULL CHECK (array_ndims(medium_term_track_ids) IS NULL OR array_ndims(medium_term_track_ids) = 1),
    long_term_track_ids    text[] NOT NULL CHECK (array_ndims(long_term_track_ids) IS NULL OR array_ndims(long_term_track_ids) = 1),
    short_term_artist_ids  text[] NOT NULL CHECK (array_ndims(short_term_artist_ids) IS NULL OR array_ndims(short_term_artist_ids) = 1),
    medium_term_artist_ids text[] NOT NULL CHECK (array_ndims(medium_term_artist_ids) IS NULL OR array_ndims(medium_term_artist_ids) = 1),
    long_term_artist_ids   text[] NOT NULL CHECK (array_ndims(long_term_artist_ids) IS NULL OR array_ndims(long_term_artist_ids) = 1),
    -- {"short_term": [["pop", 40], ["rock", 12]], ...}: pairs in descending score order (jsonb objects do not
    -- keep key order, arrays do).
    genre_scores           jsonb NOT NULL CHECK (jsonb_typeof(genre_scores) = 'object'
                                                 AND genre_scores ?& ARRAY['short_term', 'medium_term', 'long_term']),
    playlist_id            text CHECK (length(playlist_id) BETWEEN 1 AND 256),
    first_half_playlist_id text CHECK (length(first_half_playlist_id) BETWEEN 1 AND 256),
    year_playlist_id       text CHECK (length(year_playlist_id) BETWEEN 1 AND 256),
    created_at             timestamptz NOT NULL DEFAULT now(),
    revision               bigint NOT NULL DEFAULT nextval('revisions'),
    -- The wrap exactly as the API returns it, rendered by the application whenever the row is written. A
    -- month's wrap never changes once its job item is done, so GET /wrapped/data concatenates these instead
    -- of building JSON per request (SPEC §12). Kept inline and uncompressed for that read.
    api_json               text NOT NULL CHECK (left(api_json, 1) = '{'),
    PRIMARY KEY (email, month_key),
    CONSTRAINT first_half_only_in_june CHECK (first_half_playlist_id IS NULL OR month_key LIKE '%-06'),
    CONSTRAINT year_only_in_december CHECK (year_playlist_id IS NULL OR month_key LIKE '%-12')
) WITH (toast_tuple_target = 8160);

ALTER TABLE wrapped_months ALTER COLUMN api_json SET STORAGE MAIN;

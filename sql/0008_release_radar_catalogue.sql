-- The release radar's shared catalogue cache (SPEC §4, §8.2, §12): what a week's scan of an artist found, in
-- two scopes (the artist's own albums and singles; the releases they appear on and compilations, scanned only
-- for artists some user follows with appears_on), and the tracks of each release. Every runner reads it
-- before asking Spotify, and writes it as soon as it has an answer, so that an artist followed by many users
-- is scanned once a week for all of them and a release's tracks are fetched once, by any runner, resumed run
-- or rerun. catalogue_claims keeps two runners from scanning the same artist (or fetching the same release)
-- at once: a runner scans only what it claimed, and the others wait for the cache row.
ALTER TABLE artist_week_releases
    ADD COLUMN scope text NOT NULL DEFAULT 'own' CHECK (scope IN ('own', 'features'));
ALTER TABLE artist_week_releases DROP CONSTRAINT artist_week_releases_pkey;
ALTER TABLE artist_week_releases ADD PRIMARY KEY (artist_id, week_key, scope);

CREATE TABLE catalogue_claims (
    kind         text NOT NULL CHECK (kind IN ('artist_own', 'artist_features', 'album')),
    key          text NOT NULL CHECK (length(key) BETWEEN 1 AND 300),
    claimed_by   bigint NOT NULL REFERENCES job_runs (id) ON DELETE CASCADE,
    lease_until  timestamptz NOT NULL,
    PRIMARY KEY (kind, key)
);

-- A run's claims are renewed with its heartbeat and dropped when it ends.
CREATE INDEX catalogue_claims_by_run ON catalogue_claims (claimed_by);

-- The week's cache is read by week for many artists at once.
CREATE INDEX artist_week_releases_by_week ON artist_week_releases (week_key, artist_id);

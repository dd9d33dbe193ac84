-- What an interrupted catalogue fetch had already received (SPEC §7.3, §8.2: "results are cached in the
-- database so a resumed or parallel run does not fetch them again"). An artist's scan or a release's tracks can
-- take several requests; when a run stops between them (the quota, the budget, Spotify failing), the pages it
-- got are kept here, and whichever runner claims the fetch next goes on from the next page instead of asking
-- for them again. Written only on such an interruption, so a run that is not stopped never touches it.
CREATE TABLE catalogue_partial_fetches (
    kind      text NOT NULL CHECK (kind IN ('artist_own', 'artist_features', 'album')),
    key       text NOT NULL CHECK (length(key) BETWEEN 1 AND 300),
    received  jsonb NOT NULL CHECK (jsonb_typeof(received) = 'object'),
    saved_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (kind, key)
);

-- Invariants the database now keeps itself (issue 8):
--   * revisions and updated_at are bumped by triggers, never by hand, so an ETag changes exactly when the
--     answer behind it changes, whatever statement changed the data;
--   * a week's key is the ISO week of its Saturday; id arrays hold no NULL; a job's period is a month for the
--     wrapped job and a week for the release radar;
--   * job items remember which run last tried them and which run finished them (no growing exclusion list in
--     the claims, and the reports can show each run's failures);
--   * indexes match the queries that use them.

-- ---- users: revision and updated_at --------------------------------------------------------------------
-- updated_at moves when anything about the user changes (unless the statement set it itself); the revision
-- (the user object's ETag) moves when anything the user object shows changes. Changes to wraps_revision and
-- weeks_revision alone move neither.
CREATE FUNCTION users_keep_revision() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.updated_at IS NOT DISTINCT FROM OLD.updated_at
       AND (NEW.spotify_user_id, NEW.display_name, NEW.avatar_url, NEW.refresh_token_ciphertext, NEW.active,
            NEW.active_wrapped, NEW.active_release_radar, NEW.release_radar_playlist_id, NEW.release_radar_appears_on,
            NEW.token_state, NEW.token_state_reason, NEW.token_state_at)
           IS DISTINCT FROM
           (OLD.spotify_user_id, OLD.display_name, OLD.avatar_url, OLD.refresh_token_ciphertext, OLD.active,
            OLD.active_wrapped, OLD.active_release_radar, OLD.release_radar_playlist_id, OLD.release_radar_appears_on,
            OLD.token_state, OLD.token_state_reason, OLD.token_state_at) THEN
        NEW.updated_at := now();
    END IF;
    IF (NEW.email, NEW.spotify_user_id, NEW.display_name, NEW.avatar_url, NEW.active, NEW.active_wrapped,
        NEW.active_release_radar, NEW.release_radar_playlist_id, NEW.token_state, NEW.created_at, NEW.updated_at)
       IS DISTINCT FROM
       (OLD.email, OLD.spotify_user_id, OLD.display_name, OLD.avatar_url, OLD.active, OLD.active_wrapped,
        OLD.active_release_radar, OLD.release_radar_playlist_id, OLD.token_state, OLD.created_at, OLD.updated_at) THEN
        NEW.revision := nextval('revisions');
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER users_keep_revision BEFORE UPDATE ON users
    FOR EACH ROW EXECUTE FUNCTION users_keep_revision();

-- ---- wraps: the wrap's revision and the user's wraps revision ------------------------------------------
-- The API serves api_json; the revision moves exactly when it changes.
CREATE FUNCTION wrapped_months_keep_revision() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.api_json IS DISTINCT FROM OLD.api_json THEN
        NEW.revision := nextval('revisions');
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER wrapped_months_keep_revision BEFORE UPDATE ON wrapped_months
    FOR EACH ROW EXECUTE FUNCTION wrapped_months_keep_revision();

CREATE FUNCTION users_wraps_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE users SET wraps_revision = nextval('revisions')
    WHERE email = CASE WHEN TG_OP = 'DELETE' THEN OLD.email ELSE NEW.email END;
    RETURN NULL;
END
$$;

CREATE TRIGGER wrapped_months_added AFTER INSERT OR DELETE ON wrapped_months
    FOR EACH ROW EXECUTE FUNCTION users_wraps_changed();
CREATE TRIGGER wrapped_months_changed AFTER UPDATE ON wrapped_months
    FOR EACH ROW WHEN (OLD.api_json IS DISTINCT FROM NEW.api_json OR OLD.email IS DISTINCT FROM NEW.email)
    EXECUTE FUNCTION users_wraps_changed();

-- ---- weeks: the user's weeks revision (the ETag of /release-radar/history) -------------------------------
CREATE FUNCTION users_weeks_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE users SET weeks_revision = nextval('revisions')
    WHERE email = CASE WHEN TG_OP = 'DELETE' THEN OLD.email ELSE NEW.email END;
    RETURN NULL;
END
$$;

CREATE TRIGGER release_radar_weeks_added AFTER INSERT OR DELETE ON release_radar_weeks
    FOR EACH ROW EXECUTE FUNCTION users_weeks_changed();
CREATE TRIGGER release_radar_weeks_changed AFTER UPDATE ON release_radar_weeks
    FOR EACH ROW WHEN (OLD.* IS DISTINCT FROM NEW.*)
    EXECUTE FUNCTION users_weeks_changed();

-- ---- CHECKs ---------------------------------------------------------------------------------------------
ALTER TABLE release_radar_weeks
    ADD CONSTRAINT week_key_is_the_saturdays_iso_week CHECK (week_key = to_char(start_date, 'IYYY-IW'));

ALTER TABLE wrapped_months
    ADD CONSTRAINT id_arrays_without_null CHECK (
        array_position(short_term_track_ids, NULL) IS NULL AND array_position(medium_term_track_ids, NULL) IS NULL
        AND array_position(long_term_track_ids, NULL) IS NULL AND array_position(short_term_artist_ids, NULL) IS NULL
        AND array_position(medium_term_artist_ids, NULL) IS NULL AND array_position(long_term_artist_ids, NULL) IS NULL);

-- A month (YYYY-MM, a real month) for the wrapped job, a week (YYYY-WW, 01..53) for the release radar.
ALTER TABLE job_runs DROP CONSTRAINT job_runs_period_key_check;
ALTER TABLE job_runs ADD CONSTRAINT period_matches_job CHECK (
    (job = 'wrapped' AND period_key ~ '^[0-9]{4}-(0[1-9]|1[0-2])$')
    OR (job = 'release_radar' AND period_key ~ '^[0-9]{4}-(0[1-9]|[1-4][0-9]|5[0-3])$'));
ALTER TABLE job_items DROP CONSTRAINT job_items_period_key_check;
ALTER TABLE job_items ADD CONSTRAINT period_matches_job CHECK (
    (job = 'wrapped' AND period_key ~ '^[0-9]{4}-(0[1-9]|1[0-2])$')
    OR (job = 'release_radar' AND period_key ~ '^[0-9]{4}-(0[1-9]|[1-4][0-9]|5[0-3])$'));

-- ---- job items: which run tried them last, which run finished them -------------------------------------
ALTER TABLE job_items
    ADD COLUMN attempted_by bigint REFERENCES job_runs (id) ON DELETE SET NULL,
    ADD COLUMN finished_by  bigint REFERENCES job_runs (id) ON DELETE SET NULL;

-- ---- indexes for the queries that use them -------------------------------------------------------------
-- Heartbeats, the end of a run and the takeover of a crashed run find a run's claims by claimed_by.
CREATE INDEX job_items_claimed_by ON job_items (claimed_by) WHERE claimed_by IS NOT NULL;
-- reporting.job_history lists each run's failures.
CREATE INDEX job_items_failed_by_run ON job_items (finished_by) WHERE status = 'failed';
-- The runner looks for runs of its job still marked running (JobStore.runningRuns).
DROP INDEX job_runs_running;
CREATE INDEX job_runs_running ON job_runs (job) WHERE status = 'running';
-- reporting.job_history is read newest first.
DROP INDEX job_runs_by_period;
CREATE INDEX job_runs_by_start ON job_runs (started_at DESC);

-- ---- names for the reports -----------------------------------------------------------------------------
-- Artist and track names seen in the answers the jobs receive anyway (no request is made for a name).
CREATE TABLE spotify_names (
    kind     text NOT NULL CHECK (kind IN ('artist', 'track')),
    id       text NOT NULL CHECK (length(id) BETWEEN 1 AND 256),
    name     text NOT NULL CHECK (length(name) BETWEEN 1 AND 512),
    seen_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (kind, id)
);

-- ---- reporting: readable, no ORDER BY of their own (order in the query) --------------------------------
DROP VIEW reporting.monthly_top_genres;
DROP VIEW reporting.monthly_top_artists;
DROP VIEW reporting.job_history;
DROP VIEW reporting.job_problems;

-- Per month and time range, genres across users' scores: how many users have the genre and its total score.
CREATE VIEW reporting.monthly_top_genres AS
SELECT w.month_key,
       r.time_range,
       g.pair ->> 0                       AS genre,
       count(*)                           AS users,
       sum((g.pair ->> 1)::integer)       AS total_score,
       rank() OVER (PARTITION BY w.month_key, r.time_range ORDER BY sum((g.pair ->> 1)::integer) DESC) AS rank
FROM wrapped_months w
CROSS JOIN LATERAL jsonb_each(w.genre_scores) AS r (time_range, pairs)
CROSS JOIN LATERAL jsonb_array_elements(r.pairs) AS g (pair)
GROUP BY w.month_key, r.time_range, g.pair ->> 0;

-- Per month and time range, the artists and the tracks of users' top lists: how many users have each, its
-- mean rank (1 = top) and its name when a job has seen it. Read through the two views below.
CREATE VIEW reporting.monthly_top_items AS
SELECT t.kind, t.month_key, t.time_range, t.id, n.name, t.users, t.mean_rank,
       rank() OVER (PARTITION BY t.kind, t.month_key, t.time_range ORDER BY t.users DESC, t.mean_rank) AS rank
FROM (
    SELECT r.kind, w.month_key, r.time_range, a.id, count(*) AS users, round(avg(a.position), 1) AS mean_rank
    FROM wrapped_months w
    CROSS JOIN LATERAL (VALUES ('artist', 'short_term', w.short_term_artist_ids),
                               ('artist', 'medium_term', w.medium_term_artist_ids),
                               ('artist', 'long_term', w.long_term_artist_ids),
                               ('track', 'short_term', w.short_term_track_ids),
                               ('track', 'medium_term', w.medium_term_track_ids),
                               ('track', 'long_term', w.long_term_track_ids)) AS r (kind, time_range, ids)
    CROSS JOIN LATERAL unnest(r.ids) WITH ORDINALITY AS a (id, position)
    GROUP BY r.kind, w.month_key, r.time_range, a.id
) t
LEFT JOIN spotify_names n ON n.kind = t.kind AND n.id = t.id;

CREATE VIEW reporting.monthly_top_artists AS
SELECT month_key, time_range, id AS artist_id, name AS artist_name, users, mean_rank, rank
FROM reporting.monthly_top_items WHERE kind = 'artist';

CREATE VIEW reporting.monthly_top_tracks AS
SELECT month_key, time_range, id AS track_id, name AS track_name, users, mean_rank, rank
FROM reporting.monthly_top_items WHERE kind = 'track';

-- Job runs, with the users each run failed and why ("email: reason; ...").
CREATE VIEW reporting.job_history AS
SELECT r.id, r.job, r.period_key, r.host, r.status, r.stop_reason,
       r.started_at, r.finished_at,
       r.finished_at - r.started_at AS elapsed,
       r.users_total, r.users_done, r.users_failed, r.users_skipped,
       r.spotify_requests, r.status_429,
       (SELECT string_agg(i.email || ': ' || coalesce(i.last_error, 'no reason recorded'), '; ' ORDER BY i.email)
        FROM job_items i WHERE i.finished_by = r.id AND i.status = 'failed') AS failures
FROM job_runs r;

-- Users whose job item failed or was skipped, or waits for a retry, with the reason.
CREATE VIEW reporting.job_problems AS
SELECT i.job, i.period_key, i.email, i.status, i.attempts, i.last_error, i.updated_at
FROM job_items i
WHERE i.status IN ('failed', 'skipped') OR (i.status = 'pending' AND i.attempts > 0);

-- Reporting views for psql (SPEC §4): plain rows and columns, no JSON left to unpack.
CREATE SCHEMA reporting;

-- How many users are enrolled in what, and how many need to sign in again.
CREATE VIEW reporting.enrollment AS
SELECT count(*)                                                     AS users,
       count(*) FILTER (WHERE active)                               AS active,
       count(*) FILTER (WHERE active AND active_wrapped)            AS wrapped,
       count(*) FILTER (WHERE active AND active_release_radar)      AS release_radar,
       count(*) FILTER (WHERE token_state = 'ok')                   AS token_ok,
       count(*) FILTER (WHERE token_state = 'needs_reauth')         AS needs_reauth,
       count(*) FILTER (WHERE token_state = 'missing')              AS token_missing
FROM users;

-- Per month, genres across users' short-term scores: how many users have the genre and its total score.
CREATE VIEW reporting.monthly_top_genres AS
SELECT w.month_key,
       g.pair ->> 0                       AS genre,
       count(*)                           AS users,
       sum((g.pair ->> 1)::integer)       AS total_score,
       rank() OVER (PARTITION BY w.month_key ORDER BY sum((g.pair ->> 1)::integer) DESC) AS rank
FROM wrapped_months w
CROSS JOIN LATERAL jsonb_array_elements(w.genre_scores -> 'short_term') AS g (pair)
GROUP BY w.month_key, g.pair ->> 0;

-- Per month, artists across users' short-term top lists: how many users have them and their mean rank (1 = top).
CREATE VIEW reporting.monthly_top_artists AS
SELECT w.month_key,
       a.artist_id,
       count(*)                                  AS users,
       round(avg(a.position), 1)                 AS mean_rank,
       rank() OVER (PARTITION BY w.month_key ORDER BY count(*) DESC, avg(a.position)) AS rank
FROM wrapped_months w
CROSS JOIN LATERAL unnest(w.short_term_artist_ids) WITH ORDINALITY AS a (artist_id, position)
GROUP BY w.month_key, a.artist_id;

-- Per week, the release radar across users.
CREATE VIEW reporting.weekly_release_radar AS
SELECT week_key,
       min(start_date)                            AS start_date,
       count(*)                                   AS users,
       count(*) FILTER (WHERE release_count > 0)  AS users_with_releases,
       sum(release_count)                         AS releases,
       sum(track_count)                           AS tracks,
       round(avg(track_count), 1)                 AS mean_tracks_per_user,
       count(*) FILTER (WHERE playlist_id IS NOT NULL) AS playlists
FROM release_radar_weeks
GROUP BY week_key;

-- Job run history, newest first, with the failures of each run's period.
CREATE VIEW reporting.job_history AS
SELECT r.id, r.job, r.period_key, r.host, r.status, r.stop_reason,
       r.started_at, r.finished_at,
       r.finished_at - r.started_at AS elapsed,
       r.users_total, r.users_done, r.users_failed, r.users_skipped,
       r.spotify_requests, r.status_429
FROM job_runs r
ORDER BY r.started_at DESC;

-- Users whose job item failed or was skipped, with the reason.
CREATE VIEW reporting.job_problems AS
SELECT i.job, i.period_key, i.email, i.status, i.attempts, i.last_error, i.updated_at
FROM job_items i
WHERE i.status IN ('failed', 'skipped') OR (i.status = 'pending' AND i.attempts > 0)
ORDER BY i.updated_at DESC;

-- Job runs and job items (SPEC §7): one row per run, one row per (job, period, user). Items are claimed with
-- FOR UPDATE SKIP LOCKED and a lease, so runners on several hosts share the work and a crashed run's items
-- are taken over; `progress` records every external side effect (a playlist created) before the next one.
CREATE TABLE job_runs (
    id                    bigserial PRIMARY KEY,
    job                   text NOT NULL CHECK (job IN ('wrapped', 'release_radar')),
    period_key            text NOT NULL CHECK (period_key ~ '^[0-9]{4}-[0-9]{2}$'),
    host                  text NOT NULL,
    pid                   integer NOT NULL,
    -- The process start time (clock ticks since boot), so a reused pid is not taken for this run.
    process_start         bigint NOT NULL,
    dry_run               boolean NOT NULL DEFAULT false,
    started_at            timestamptz NOT NULL DEFAULT now(),
    heartbeat_at          timestamptz NOT NULL DEFAULT now(),
    finished_at           timestamptz,
    status                text NOT NULL DEFAULT 'running'
                          CHECK (status IN ('running', 'succeeded', 'partial', 'stopped', 'failed', 'crashed')),
    stop_reason           text,
    users_total           integer NOT NULL DEFAULT 0 CHECK (users_total >= 0),
    users_done            integer NOT NULL DEFAULT 0 CHECK (users_done >= 0),
    users_failed          integer NOT NULL DEFAULT 0 CHECK (users_failed >= 0),
    users_skipped         integer NOT NULL DEFAULT 0 CHECK (users_skipped >= 0),
    spotify_requests      integer NOT NULL DEFAULT 0 CHECK (spotify_requests >= 0),
    requests_by_endpoint  jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(requests_by_endpoint) = 'object'),
    status_429            integer NOT NULL DEFAULT 0 CHECK (status_429 >= 0),
    CONSTRAINT finished_when_not_running CHECK ((status = 'running') = (finished_at IS NULL))
);

CREATE INDEX job_runs_by_period ON job_runs (job, period_key, started_at DESC);
CREATE INDEX job_runs_running ON job_runs (host) WHERE status = 'running';

CREATE TABLE job_items (
    job          text NOT NULL CHECK (job IN ('wrapped', 'release_radar')),
    period_key   text NOT NULL CHECK (period_key ~ '^[0-9]{4}-[0-9]{2}$'),
    email        text NOT NULL REFERENCES users (email) ON UPDATE CASCADE ON DELETE CASCADE,
    status       text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'done', 'failed', 'skipped')),
    attempts     integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    claimed_by   bigint REFERENCES job_runs (id) ON DELETE SET NULL,
    lease_until  timestamptz,
    last_error   text,
    progress     jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(progress) = 'object'),
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    finished_at  timestamptz,
    PRIMARY KEY (job, period_key, email),
    CONSTRAINT finished_when_final CHECK ((status = 'pending') = (finished_at IS NULL))
);

CREATE INDEX job_items_pending ON job_items (job, period_key, email) WHERE status = 'pending';

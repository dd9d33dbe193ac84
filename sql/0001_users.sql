-- Users: one row per enrolled email. Emails are stored lower-cased, so the primary key is also unique
-- case-insensitively. The refresh token is stored only as AES-256-GCM ciphertext (key version byte ‖ nonce ‖
-- ciphertext ‖ tag, the row's email as associated data); the application's store layer is the only place that
-- encrypts or decrypts it.
-- Revisions come from one sequence, so a revision number is never reused by any row: ETags built from them
-- change exactly when the data behind an answer changes.
CREATE SEQUENCE revisions;

CREATE TABLE users (
    email                     text PRIMARY KEY
                              CHECK (email = lower(email) AND length(email) BETWEEN 3 AND 254
                                     AND email ~ '^[^@]+@[^@]+$'),
    spotify_user_id           text UNIQUE CHECK (length(spotify_user_id) BETWEEN 1 AND 256),
    display_name              text CHECK (length(display_name) <= 1024),
    avatar_url                text CHECK (length(avatar_url) <= 2048),
    refresh_token_ciphertext  bytea CHECK (length(refresh_token_ciphertext) > 29),
    active                    boolean NOT NULL DEFAULT false,
    active_wrapped            boolean NOT NULL DEFAULT false,
    active_release_radar      boolean NOT NULL DEFAULT false,
    release_radar_playlist_id text CHECK (length(release_radar_playlist_id) BETWEEN 1 AND 256),
    release_radar_appears_on  boolean,
    token_state               text NOT NULL DEFAULT 'missing'
                              CHECK (token_state IN ('ok', 'needs_reauth', 'missing')),
    token_state_reason        text,
    token_state_at            timestamptz,
    -- Set from `revisions` by every change to this row (the ETag of the user object), and by every change
    -- to the user's wraps and weeks (the ETags of those answers).
    revision                  bigint NOT NULL DEFAULT nextval('revisions'),
    wraps_revision            bigint NOT NULL DEFAULT nextval('revisions'),
    weeks_revision            bigint NOT NULL DEFAULT nextval('revisions'),
    created_at                timestamptz NOT NULL DEFAULT now(),
    updated_at                timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT token_ok_has_token CHECK (token_state <> 'ok' OR refresh_token_ciphertext IS NOT NULL),
    CONSTRAINT reauth_has_reason CHECK (token_state <> 'needs_reauth'
                                        OR (token_state_reason IS NOT NULL AND token_state_at IS NOT NULL))
);

-- The jobs select the users taking part (SPEC §7.1) by these flags.
CREATE INDEX users_wrapped_selection ON users (email)
    WHERE active AND active_wrapped AND token_state = 'ok';
CREATE INDEX users_release_radar_selection ON users (email)
    WHERE active AND active_release_radar AND token_state = 'ok';

-- TRUNCATE fires no row trigger: without these, a truncated wrapped_months or release_radar_weeks would leave
-- every user's wraps or weeks revision as it was while the rows behind it vanished, and with it the ETags of
-- GET /wrapped/data and /release-radar/history and the revision against which the API workers confirm the
-- answers they keep (XOMIFY_ANSWER_CACHE_KB). Every user's revision moves instead.
CREATE FUNCTION users_wraps_truncated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE users SET wraps_revision = nextval('revisions');
    RETURN NULL;
END
$$;

CREATE TRIGGER wrapped_months_truncated AFTER TRUNCATE ON wrapped_months
    FOR EACH STATEMENT EXECUTE FUNCTION users_wraps_truncated();

CREATE FUNCTION users_weeks_truncated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE users SET weeks_revision = nextval('revisions');
    RETURN NULL;
END
$$;

CREATE TRIGGER release_radar_weeks_truncated AFTER TRUNCATE ON release_radar_weeks
    FOR EACH STATEMENT EXECUTE FUNCTION users_weeks_truncated();

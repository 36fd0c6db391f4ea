-- Up Migration
-- Issue 23, reports that scale: per-UTC-hour rollups the reports (gateway/store/reports.ts) sum instead of the
-- base rows, kept exactly equal to them (gateway/store/report-rollups.ts). Every write to a base row that can change
-- a figure appends the UTC hours it touches, old and new, to report_dirty (statement triggers, so a bulk write adds
-- one row per hour, not per row); a refresh recomputes exactly those hours from the base rows in one transaction and
-- deletes the report_dirty rows it saw, so a crash leaves them for the next refresh and a write that commits later
-- leaves its own row behind. Hours in UTC regroup into local days, weeks and months of any whole-hour zone.
CREATE TABLE report_dirty (
  id      bigserial PRIMARY KEY,
  source  text NOT NULL CHECK (source IN ('alarms', 'calls', 'states')),
  hour    timestamptz NOT NULL
);

-- Alarms (not test) by first_at's hour: every alarm (and the kind and priority filters), and per area (the area
-- filter). Sums of seconds are numeric: exact, so sum / count is the very number avg() gives on the base rows. The
-- owner (agent) filter reads the base rows by alarms_owner_first_idx: one agent's alarms are few.
CREATE TABLE report_alarm_hours (
  hour         timestamptz NOT NULL,
  kind         text NOT NULL,
  priority     smallint NOT NULL,
  alarm_class  text NOT NULL,
  alarms       int NOT NULL,
  answered     int NOT NULL,
  within60     int NOT NULL,
  within180    int NOT NULL,
  accept_sum   numeric,
  resolve_n    int NOT NULL,
  resolve_sum  numeric,
  close_n      int NOT NULL,
  close_sum    numeric
);
CREATE INDEX report_alarm_hours_idx ON report_alarm_hours (hour);
CREATE TABLE report_alarm_area_hours (LIKE report_alarm_hours, area text NOT NULL);
CREATE INDEX report_alarm_area_hours_idx ON report_alarm_area_hours (area, hour);

-- The calls with the outside world (every leg but the agents' own) by created_at's hour; answered as the calls
-- report counts it (queue_result, else picked up). The agent filter (any leg of the flow) reads the base rows.
CREATE TABLE report_call_hours (
  hour       timestamptz NOT NULL,
  direction  text NOT NULL,
  calls      int NOT NULL,
  answered   int NOT NULL,
  abandoned  int NOT NULL,
  wait_n     int NOT NULL,
  wait_sum   bigint
);
CREATE INDEX report_call_hours_idx ON report_call_hours (hour);
CREATE TABLE report_call_area_hours (LIKE report_call_hours, area text NOT NULL);
CREATE INDEX report_call_area_hours_idx ON report_call_area_hours (area, hour);

-- The agents report per agent: alarms owned (source alarms, what 'alarms', n), own legs talked on (calls, 'calls',
-- n and the talk seconds), seconds in each state of the closed intervals cut at the hours (states, the state). Per
-- UTC hour, and per UTC day (the sum of its hours): a range of local days is whole UTC days plus the hours at its
-- two ends, so a year is ~365 × 60 agents × 9 rows. Open intervals (one per agent) are read from the base rows.
CREATE TABLE report_agent_hours (
  hour     timestamptz NOT NULL,
  user_id  bigint NOT NULL,
  source   text NOT NULL,
  what     text NOT NULL,
  n        int NOT NULL,
  seconds  numeric
);
CREATE INDEX report_agent_hours_idx ON report_agent_hours (hour);
CREATE TABLE report_agent_days (
  day      timestamptz NOT NULL,
  user_id  bigint NOT NULL,
  source   text NOT NULL,
  what     text NOT NULL,
  n        int NOT NULL,
  seconds  numeric
);
CREATE INDEX report_agent_days_idx ON report_agent_days (day);

-- The exact figures still read from the base rows: p90 (percentile_cont cannot be summed), false alarms per device
-- or elder (too many to roll up) — index-only over the year; an area's calls and alarms as the elder moves.
CREATE INDEX alarms_report_idx ON alarms (first_at) INCLUDE (alarm_class, kind, priority, owner_id, elder_id, accepted_at, resolved_at, closed_at) WHERE NOT test;
CREATE INDEX alarms_false_idx ON alarms (first_at) INCLUDE (device_id, elder_id, kind, priority, owner_id) WHERE outcome = 'accidental_press' AND NOT test;
CREATE INDEX calls_elder_idx ON calls (elder_id, created_at) WHERE elder_id IS NOT NULL;

CREATE FUNCTION report_mark_alarms() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO report_dirty (source, hour) SELECT DISTINCT 'alarms', date_trunc('hour', first_at, 'UTC') FROM new_rows;
  ELSIF TG_OP = 'DELETE' THEN
    INSERT INTO report_dirty (source, hour) SELECT DISTINCT 'alarms', date_trunc('hour', first_at, 'UTC') FROM old_rows;
  ELSE
    -- only rows whose figures changed: repeats bumping count and last_at mark nothing
    INSERT INTO report_dirty (source, hour)
    SELECT DISTINCT 'alarms', date_trunc('hour', x.at, 'UTC')
      FROM old_rows o JOIN new_rows n ON n.id = o.id, LATERAL (VALUES (o.first_at), (n.first_at)) x(at)
     WHERE (o.first_at, o.kind, o.priority, o.alarm_class, o.owner_id, o.elder_id, o.device_id, o.outcome, o.test, o.accepted_at, o.resolved_at, o.closed_at)
           IS DISTINCT FROM (n.first_at, n.kind, n.priority, n.alarm_class, n.owner_id, n.elder_id, n.device_id, n.outcome, n.test, n.accepted_at, n.resolved_at, n.closed_at);
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER report_alarms_ins AFTER INSERT ON alarms REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION report_mark_alarms();
CREATE TRIGGER report_alarms_upd AFTER UPDATE ON alarms REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION report_mark_alarms();
CREATE TRIGGER report_alarms_del AFTER DELETE ON alarms REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION report_mark_alarms();

CREATE FUNCTION report_mark_calls() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO report_dirty (source, hour) SELECT DISTINCT 'calls', date_trunc('hour', created_at, 'UTC') FROM new_rows;
  ELSIF TG_OP = 'DELETE' THEN
    INSERT INTO report_dirty (source, hour) SELECT DISTINCT 'calls', date_trunc('hour', created_at, 'UTC') FROM old_rows;
  ELSE
    INSERT INTO report_dirty (source, hour)
    SELECT DISTINCT 'calls', date_trunc('hour', x.at, 'UTC')
      FROM old_rows o JOIN new_rows n ON n.id = o.id, LATERAL (VALUES (o.created_at), (n.created_at)) x(at)
     WHERE (o.created_at, o.party, o.direction, o.agent_id, o.elder_id, o.answered_at, o.ended_at, o.queue_result, o.queue_wait_ms)
           IS DISTINCT FROM (n.created_at, n.party, n.direction, n.agent_id, n.elder_id, n.answered_at, n.ended_at, n.queue_result, n.queue_wait_ms);
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER report_calls_ins AFTER INSERT ON calls REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION report_mark_calls();
CREATE TRIGGER report_calls_upd AFTER UPDATE ON calls REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION report_mark_calls();
CREATE TRIGGER report_calls_del AFTER DELETE ON calls REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION report_mark_calls();

-- The hours a closed interval covers (an open one marks nothing until it is closed).
CREATE FUNCTION report_state_span(s timestamptz, e timestamptz) RETURNS SETOF timestamptz LANGUAGE sql STABLE AS $$
  SELECT generate_series(date_trunc('hour', s, 'UTC'), e, interval '1 hour') WHERE e IS NOT NULL AND e > s
$$;
CREATE FUNCTION report_mark_states() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO report_dirty (source, hour) SELECT DISTINCT 'states', h FROM new_rows, report_state_span(started_at, ended_at) h;
  ELSIF TG_OP = 'DELETE' THEN
    INSERT INTO report_dirty (source, hour) SELECT DISTINCT 'states', h FROM old_rows, report_state_span(started_at, ended_at) h;
  ELSE
    INSERT INTO report_dirty (source, hour)
    SELECT DISTINCT 'states', h
      FROM old_rows o JOIN new_rows n ON n.id = o.id,
           LATERAL (SELECT report_state_span(o.started_at, o.ended_at) UNION SELECT report_state_span(n.started_at, n.ended_at)) x(h)
     WHERE (o.user_id, o.state, o.started_at, o.ended_at) IS DISTINCT FROM (n.user_id, n.state, n.started_at, n.ended_at);
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER report_states_ins AFTER INSERT ON agent_state_history REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION report_mark_states();
CREATE TRIGGER report_states_upd AFTER UPDATE ON agent_state_history REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION report_mark_states();
CREATE TRIGGER report_states_del AFTER DELETE ON agent_state_history REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION report_mark_states();

-- An elder moving to another area moves their alarms and calls in the rollups.
CREATE FUNCTION report_mark_elders() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO report_dirty (source, hour)
  SELECT DISTINCT 'alarms', date_trunc('hour', a.first_at, 'UTC')
    FROM old_rows o JOIN new_rows n ON n.id = o.id JOIN alarms a ON a.elder_id = n.id WHERE o.area IS DISTINCT FROM n.area;
  INSERT INTO report_dirty (source, hour)
  SELECT DISTINCT 'calls', date_trunc('hour', c.created_at, 'UTC')
    FROM old_rows o JOIN new_rows n ON n.id = o.id JOIN calls c ON c.elder_id = n.id WHERE o.area IS DISTINCT FROM n.area;
  RETURN NULL;
END $$;
CREATE TRIGGER report_elders_upd AFTER UPDATE ON elders REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION report_mark_elders();

-- TRUNCATE fires no DELETE trigger: it empties the source's rollups (and its dirty hours) instead.
CREATE FUNCTION report_truncated() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE src text := TG_ARGV[0];
BEGIN
  DELETE FROM report_dirty WHERE source = src;
  DELETE FROM report_agent_hours WHERE source = src;
  DELETE FROM report_agent_days WHERE source = src;
  IF src = 'alarms' THEN
    DELETE FROM report_alarm_hours;
    DELETE FROM report_alarm_area_hours;
  ELSIF src = 'calls' THEN
    DELETE FROM report_call_hours;
    DELETE FROM report_call_area_hours;
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER report_alarms_trunc AFTER TRUNCATE ON alarms FOR EACH STATEMENT EXECUTE FUNCTION report_truncated('alarms');
CREATE TRIGGER report_calls_trunc AFTER TRUNCATE ON calls FOR EACH STATEMENT EXECUTE FUNCTION report_truncated('calls');
CREATE TRIGGER report_states_trunc AFTER TRUNCATE ON agent_state_history FOR EACH STATEMENT EXECUTE FUNCTION report_truncated('states');

-- Existing rows: every hour that has any is dirty; the first refresh builds the rollups.
INSERT INTO report_dirty (source, hour) SELECT DISTINCT 'alarms', date_trunc('hour', first_at, 'UTC') FROM alarms;
INSERT INTO report_dirty (source, hour) SELECT DISTINCT 'calls', date_trunc('hour', created_at, 'UTC') FROM calls;
INSERT INTO report_dirty (source, hour) SELECT DISTINCT 'states', h FROM agent_state_history, report_state_span(started_at, ended_at) h;

-- Down Migration
DROP TRIGGER IF EXISTS report_alarms_trunc ON alarms;
DROP TRIGGER IF EXISTS report_calls_trunc ON calls;
DROP TRIGGER IF EXISTS report_states_trunc ON agent_state_history;
DROP TRIGGER IF EXISTS report_elders_upd ON elders;
DROP TRIGGER IF EXISTS report_states_ins ON agent_state_history;
DROP TRIGGER IF EXISTS report_states_upd ON agent_state_history;
DROP TRIGGER IF EXISTS report_states_del ON agent_state_history;
DROP TRIGGER IF EXISTS report_calls_ins ON calls;
DROP TRIGGER IF EXISTS report_calls_upd ON calls;
DROP TRIGGER IF EXISTS report_calls_del ON calls;
DROP TRIGGER IF EXISTS report_alarms_ins ON alarms;
DROP TRIGGER IF EXISTS report_alarms_upd ON alarms;
DROP TRIGGER IF EXISTS report_alarms_del ON alarms;
DROP FUNCTION IF EXISTS report_truncated(), report_mark_elders(), report_mark_states(), report_state_span(timestamptz, timestamptz), report_mark_calls(), report_mark_alarms();
DROP INDEX IF EXISTS calls_elder_idx, alarms_false_idx, alarms_report_idx;
DROP TABLE IF EXISTS report_agent_days, report_agent_hours, report_call_area_hours, report_call_hours, report_alarm_area_hours, report_alarm_hours, report_dirty;

-- Up Migration
-- Issue 23, the calls report filtered by an agent (an agent on any leg of the flow), which read the base rows over a
-- year (0017_report_rollups.sql): the calls with the outside world per UTC hour × agent × direction, each outside leg
-- counted once per agent on its flow (or on the leg itself), refreshed with the dirty hours of 0017
-- (gateway/store/report-rollups.ts).

CREATE TABLE report_call_agent_hours (
  hour       timestamptz NOT NULL,
  user_id    bigint NOT NULL,
  direction  text NOT NULL,
  calls      int NOT NULL,
  answered   int NOT NULL,
  abandoned  int NOT NULL,
  wait_n     int NOT NULL,
  wait_sum   bigint
);
CREATE INDEX report_call_agent_hours_idx ON report_call_agent_hours (user_id, hour);

-- A leg joining, leaving or changing agent in a flow changes the other legs' "agents on the flow": their hours are
-- dirty too (0017's trigger marks only the leg's own hour).
CREATE FUNCTION report_mark_flows() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO report_dirty (source, hour)
    SELECT DISTINCT 'calls', date_trunc('hour', y.created_at, 'UTC')
      FROM calls y WHERE y.flow_id IN (SELECT flow_id FROM new_rows WHERE flow_id IS NOT NULL AND agent_id IS NOT NULL);
  ELSIF TG_OP = 'DELETE' THEN
    INSERT INTO report_dirty (source, hour)
    SELECT DISTINCT 'calls', date_trunc('hour', y.created_at, 'UTC')
      FROM calls y WHERE y.flow_id IN (SELECT flow_id FROM old_rows WHERE flow_id IS NOT NULL AND agent_id IS NOT NULL);
  ELSE
    INSERT INTO report_dirty (source, hour)
    SELECT DISTINCT 'calls', date_trunc('hour', y.created_at, 'UTC')
      FROM calls y
     WHERE y.flow_id IN (SELECT f FROM old_rows o JOIN new_rows n ON n.id = o.id, LATERAL (VALUES (o.flow_id), (n.flow_id)) x(f)
                          WHERE x.f IS NOT NULL AND (o.agent_id, o.flow_id) IS DISTINCT FROM (n.agent_id, n.flow_id));
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER report_flows_ins AFTER INSERT ON calls REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION report_mark_flows();
CREATE TRIGGER report_flows_upd AFTER UPDATE ON calls REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION report_mark_flows();
CREATE TRIGGER report_flows_del AFTER DELETE ON calls REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION report_mark_flows();

-- TRUNCATE empties the new rollup too (0017's function, with the table added).
CREATE OR REPLACE FUNCTION report_truncated() RETURNS trigger LANGUAGE plpgsql AS $$
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
    DELETE FROM report_call_agent_hours;
  END IF;
  RETURN NULL;
END $$;

-- Existing calls: their hours are dirty; the next refresh rebuilds them, the new table with them.
INSERT INTO report_dirty (source, hour) SELECT DISTINCT 'calls', date_trunc('hour', created_at, 'UTC') FROM calls;

-- Down Migration
DROP TRIGGER IF EXISTS report_flows_ins ON calls;
DROP TRIGGER IF EXISTS report_flows_upd ON calls;
DROP TRIGGER IF EXISTS report_flows_del ON calls;
DROP FUNCTION IF EXISTS report_mark_flows();
CREATE OR REPLACE FUNCTION report_truncated() RETURNS trigger LANGUAGE plpgsql AS $$
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
DROP TABLE IF EXISTS report_call_agent_hours;

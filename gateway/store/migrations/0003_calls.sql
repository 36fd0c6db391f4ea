-- Up Migration
-- Call records from the telephony flows: which flow and leg, the line a one-key caller used, talk time.
ALTER TABLE calls
  ADD COLUMN flow       text,                 -- callback, click_to_call, cascade, inbound
  ADD COLUMN flow_id    text,
  ADD COLUMN elder_id   bigint REFERENCES elders(id) ON DELETE SET NULL,
  ADD COLUMN contact_id bigint REFERENCES contacts(id) ON DELETE SET NULL,
  ADD COLUMN endpoint   text,
  ADD COLUMN did        text,
  ADD COLUMN line       text,                 -- red, green, other
  ADD COLUMN talk_s     int,
  ADD COLUMN cause_text text,
  ADD COLUMN detail     text;
CREATE INDEX calls_alarm_idx ON calls (alarm_id);
CREATE INDEX calls_flow_idx ON calls (flow_id);

-- Down Migration
DROP INDEX IF EXISTS calls_flow_idx, calls_alarm_idx;
ALTER TABLE calls DROP COLUMN flow, DROP COLUMN flow_id, DROP COLUMN elder_id, DROP COLUMN contact_id, DROP COLUMN endpoint,
  DROP COLUMN did, DROP COLUMN line, DROP COLUMN talk_s, DROP COLUMN cause_text, DROP COLUMN detail;

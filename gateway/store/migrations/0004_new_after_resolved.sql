-- Up Migration
-- Issue 14: a repeat folds into an alarm only while it is unhandled or in hand (raised, presented, accepted,
-- in_progress). From resolved on, a new event of the same kind is a NEW alarm, so the one-open index must
-- leave resolved and followed_up alarms out (they used to block the new alarm and swallow it as a repeat).
DROP INDEX IF EXISTS alarms_one_open;
CREATE UNIQUE INDEX alarms_one_open ON alarms (source_key, kind) WHERE state IN ('raised', 'presented', 'accepted', 'in_progress');
CREATE INDEX alarms_source_recent ON alarms (source_key, kind, id DESC);

-- Agent states: 'handling' (处理中) = holds an accepted alarm, out of the ready pool; wrap-up ends by itself.
ALTER TABLE agent_status DROP CONSTRAINT IF EXISTS agent_status_state_check;
ALTER TABLE agent_status ADD CONSTRAINT agent_status_state_check CHECK (state IN ('ready', 'not_ready', 'away', 'wrap_up', 'on_call', 'handling'));
ALTER TABLE agent_status ADD COLUMN wrap_up_until timestamptz;

-- Down Migration
ALTER TABLE agent_status DROP COLUMN IF EXISTS wrap_up_until;
UPDATE agent_status SET state = 'not_ready' WHERE state = 'handling';
ALTER TABLE agent_status DROP CONSTRAINT IF EXISTS agent_status_state_check;
ALTER TABLE agent_status ADD CONSTRAINT agent_status_state_check CHECK (state IN ('ready', 'not_ready', 'away', 'wrap_up', 'on_call'));
DROP INDEX IF EXISTS alarms_source_recent;
DROP INDEX IF EXISTS alarms_one_open;
CREATE UNIQUE INDEX alarms_one_open ON alarms (source_key, kind) WHERE state NOT IN ('closed', 'cleared');

-- Up Migration
-- Issue 19, the hotline in the gateway: the agent state 振铃 (ringing) and the reason an agent was set 置忙
-- (a missed hotline call); hotline call records (queue wait and result, voicemail); the call's timeline
-- (call_actions) and its recording; the call-back list of abandoned and voicemail callers.
ALTER TABLE agent_status DROP CONSTRAINT IF EXISTS agent_status_state_check;
ALTER TABLE agent_status ADD CONSTRAINT agent_status_state_check CHECK (state IN ('ready', 'not_ready', 'away', 'wrap_up', 'on_call', 'handling', 'ringing'));
ALTER TABLE agent_status ADD COLUMN reason text;

ALTER TABLE calls
  ADD COLUMN queue_wait_ms     int,
  ADD COLUMN queue_result      text,            -- answered, abandoned, night, voicemail, ivr, failed
  ADD COLUMN queue             jsonb,           -- the whole QueueLegSummary (priority, IVR choice, missed agents)
  ADD COLUMN recording_s       double precision,
  ADD COLUMN recording_state   text;

CREATE TABLE call_actions (
  id         bigserial PRIMARY KEY,
  call_id    text NOT NULL,                     -- the flow id (calls.flow_id)
  action     text NOT NULL,
  by_user    text NOT NULL,                     -- a user id, or 'system'
  at         timestamptz NOT NULL,
  channel_id text,
  detail     jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX call_actions_call_idx ON call_actions (call_id, id);

CREATE TABLE callback_requests (
  id           bigserial PRIMARY KEY,
  reason       text NOT NULL CHECK (reason IN ('abandoned', 'voicemail')),
  entry_id     text NOT NULL,                   -- the hotline caller's channel id = calls.flow_id
  caller_number text NOT NULL,
  did          text NOT NULL,
  elder_id     bigint REFERENCES elders(id) ON DELETE SET NULL,
  contact_id   bigint REFERENCES contacts(id) ON DELETE SET NULL,
  priority     boolean NOT NULL DEFAULT false,
  wait_ms      int NOT NULL DEFAULT 0,
  position     int,
  recording    text,                            -- voicemail: the stored recording's name
  created_at   timestamptz NOT NULL DEFAULT now(),
  handled_at   timestamptz,
  handled_by   bigint REFERENCES users(id) ON DELETE SET NULL,
  UNIQUE (entry_id, reason)
);
CREATE INDEX callback_requests_open_idx ON callback_requests (created_at) WHERE handled_at IS NULL;

-- Down Migration
DROP TABLE IF EXISTS callback_requests, call_actions;
ALTER TABLE calls DROP COLUMN IF EXISTS queue_wait_ms, DROP COLUMN IF EXISTS queue_result, DROP COLUMN IF EXISTS queue,
  DROP COLUMN IF EXISTS recording_s, DROP COLUMN IF EXISTS recording_state;
UPDATE agent_status SET state = 'ready' WHERE state = 'ringing';
ALTER TABLE agent_status DROP COLUMN IF EXISTS reason;
ALTER TABLE agent_status DROP CONSTRAINT IF EXISTS agent_status_state_check;
ALTER TABLE agent_status ADD CONSTRAINT agent_status_state_check CHECK (state IN ('ready', 'not_ready', 'away', 'wrap_up', 'on_call', 'handling'));

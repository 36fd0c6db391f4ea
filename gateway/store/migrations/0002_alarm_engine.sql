-- Up Migration
-- Alarm engine: stored escalation deadlines (a restart neither loses nor repeats a step), claims,
-- agent states for presenting alarms, and persisted per-device rule state.

ALTER TABLE alarms
  ADD COLUMN plan           jsonb,                        -- the response plan this alarm started with
  ADD COLUMN esc_started_at timestamptz,                  -- plan clock (raised, or re-queued after a release)
  ADD COLUMN esc_done       int[] NOT NULL DEFAULT '{}',  -- indexes of plan steps done
  ADD COLUMN next_step_at   timestamptz,                  -- the next stored deadline, null when none
  ADD COLUMN presented_to   bigint[] NOT NULL DEFAULT '{}',
  ADD COLUMN accepted_at    timestamptz,
  ADD COLUMN resolved_at    timestamptz;
CREATE INDEX alarms_next_step ON alarms (next_step_at) WHERE next_step_at IS NOT NULL;

CREATE TABLE agent_status (
  user_id     bigint PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
  extension   text,
  state       text NOT NULL DEFAULT 'away' CHECK (state IN ('ready', 'not_ready', 'away', 'wrap_up', 'on_call')),
  since       timestamptz NOT NULL DEFAULT now(),
  idle_since  timestamptz,                                -- when the agent last became ready (ACD: longest idle first)
  signed_in   boolean NOT NULL DEFAULT false
);

CREATE TABLE device_rule_state (
  device_id   bigint PRIMARY KEY REFERENCES devices(id) ON DELETE CASCADE,
  state       jsonb NOT NULL,
  updated_at  timestamptz NOT NULL DEFAULT now()
);

-- Down Migration
DROP TABLE IF EXISTS device_rule_state, agent_status;
ALTER TABLE alarms DROP COLUMN IF EXISTS plan, DROP COLUMN IF EXISTS esc_started_at, DROP COLUMN IF EXISTS esc_done,
  DROP COLUMN IF EXISTS next_step_at, DROP COLUMN IF EXISTS presented_to, DROP COLUMN IF EXISTS accepted_at, DROP COLUMN IF EXISTS resolved_at;

-- Up Migration
-- Issue 23, reports (统计报表): the agents' state history (one row per state while signed in; the open row has no
-- ended_at), written from the bus's agent.changed (gateway/reports/agent-history.ts), and the indexes the report
-- queries (gateway/store/reports.ts) range over: alarms by first_at, calls by created_at, work orders by received_at.
CREATE TABLE agent_state_history (
  id          bigserial PRIMARY KEY,
  user_id     bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  state       text NOT NULL,
  extension   text,
  reason      text,
  started_at  timestamptz NOT NULL,
  ended_at    timestamptz,
  CHECK (ended_at IS NULL OR ended_at >= started_at)
);
-- Intervals overlapping a range (an open one runs on: its range has no upper bound); one agent's, oldest first;
-- the agent's open interval, which the next change closes.
CREATE INDEX agent_state_history_span_idx ON agent_state_history USING gist (tstzrange(started_at, ended_at));
CREATE INDEX agent_state_history_user_idx ON agent_state_history (user_id, started_at);
CREATE INDEX agent_state_history_open_idx ON agent_state_history (user_id) WHERE ended_at IS NULL;

CREATE INDEX alarms_first_at_idx ON alarms (first_at);
CREATE INDEX alarms_owner_first_idx ON alarms (owner_id, first_at) WHERE owner_id IS NOT NULL;
CREATE INDEX calls_created_at_idx ON calls (created_at);
CREATE INDEX calls_agent_created_idx ON calls (agent_id, created_at) WHERE agent_id IS NOT NULL;
CREATE INDEX work_orders_received_idx ON work_orders (received_at);
CREATE INDEX work_order_events_sla_idx ON work_order_events (order_id) WHERE action = 'sla_overdue';

-- Down Migration
DROP INDEX IF EXISTS work_order_events_sla_idx, work_orders_received_idx, calls_agent_created_idx, calls_created_at_idx,
  alarms_owner_first_idx, alarms_first_at_idx;
DROP TABLE IF EXISTS agent_state_history;

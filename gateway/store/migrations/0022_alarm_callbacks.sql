-- Up Migration
-- Issue 24: an escalation's automatic callback (step callback_and_cascade) is a durable request, written in the
-- same transaction as the step, and run by the node that holds the telephony singleton (gateway/alarm-callbacks.ts).
-- A request due while no node holds telephony (a takeover) waits here; the next holder runs it, and one whose
-- holder died mid-way runs again there: the calls' idempotency keys keep every call placed once.
CREATE TABLE alarm_callbacks (
  alarm_id bigint PRIMARY KEY REFERENCES alarms (id) ON DELETE CASCADE,
  plan jsonb NOT NULL,
  requested_at timestamptz NOT NULL DEFAULT now(),
  -- the node that ran it last (several when a holder died mid-way), and how often
  started_by text,
  started_at timestamptz,
  runs integer NOT NULL DEFAULT 0,
  done_at timestamptz,
  outcome text
);
CREATE INDEX alarm_callbacks_open_idx ON alarm_callbacks (requested_at) WHERE done_at IS NULL;

-- Down Migration
DROP TABLE IF EXISTS alarm_callbacks;

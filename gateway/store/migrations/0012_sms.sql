-- Up Migration
-- Issue 21, SMS (短信): every message sent or received, with its delivery state and what it was about (an alarm, a
-- work order), for the timelines and the metrics; and the numbers that opted out (退订).
CREATE TABLE sms_messages (
  id            bigserial PRIMARY KEY,
  direction     text NOT NULL CHECK (direction IN ('out', 'in')),
  number        text NOT NULL,                -- the other party, +86… for Chinese mobiles
  body          text NOT NULL,
  template      text,                         -- templates.ts key of an outbound message
  state         text NOT NULL,                -- queued, held, submitted, delivered, failed, suppressed, … ; received (in)
  reason        text,                         -- why failed or suppressed (a code, never personal)
  parts         int,
  message_ids   text[] NOT NULL DEFAULT '{}',
  alarm_id      bigint REFERENCES alarms(id) ON DELETE SET NULL,
  work_order_id bigint REFERENCES work_orders(id) ON DELETE SET NULL,
  elder_id      bigint REFERENCES elders(id) ON DELETE SET NULL,
  contact_id    bigint REFERENCES contacts(id) ON DELETE SET NULL,
  staff_id      bigint REFERENCES staff(id) ON DELETE SET NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sms_messages_number_idx ON sms_messages (number, created_at);
CREATE INDEX sms_messages_alarm_idx ON sms_messages (alarm_id) WHERE alarm_id IS NOT NULL;
CREATE INDEX sms_messages_order_idx ON sms_messages (work_order_id) WHERE work_order_id IS NOT NULL;

CREATE TABLE sms_optouts (
  number        text PRIMARY KEY,
  at            timestamptz NOT NULL DEFAULT now()
);

-- Down Migration
DROP TABLE IF EXISTS sms_optouts;
DROP TABLE IF EXISTS sms_messages;

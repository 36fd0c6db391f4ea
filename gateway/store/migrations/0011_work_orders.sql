-- Up Migration
-- Issue 21, work orders (工单): service stations (服务站) and their staff with duty rotas (排班); work orders with a
-- time per state for the SLA timers to come, and each order's timeline. Types, states and the rules between them
-- live in workorders/lifecycle.ts; the checks here only keep rows inside those sets.
CREATE TABLE stations (
  id          bigserial PRIMARY KEY,
  name        text NOT NULL,
  area        text NOT NULL DEFAULT '',          -- 片区/社区, matched against elders.area
  lat         double precision,
  lon         double precision,
  phone       text,
  active      boolean NOT NULL DEFAULT true,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE staff (
  id          bigserial PRIMARY KEY,
  name        text NOT NULL,
  phone       text NOT NULL,                     -- normalised; the SMS rules only text numbers from here or elders' files
  skills      text[] NOT NULL DEFAULT '{}',      -- nurse, handyman, volunteer, …
  station_id  bigint REFERENCES stations(id) ON DELETE SET NULL,
  user_id     bigint REFERENCES users(id) ON DELETE SET NULL,
  active      boolean NOT NULL DEFAULT true,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX staff_station_idx ON staff (station_id);

-- A shift on a weekday (1 = Monday … 7 = Sunday) or on one date, local time of the centre; end <= start runs past midnight.
CREATE TABLE rotas (
  id          bigserial PRIMARY KEY,
  staff_id    bigint NOT NULL REFERENCES staff(id) ON DELETE CASCADE,
  weekday     smallint CHECK (weekday BETWEEN 1 AND 7),
  date        date,
  start_time  text NOT NULL CHECK (start_time ~ '^([01][0-9]|2[0-3]):[0-5][0-9]$'),
  end_time    text NOT NULL CHECK (end_time ~ '^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$'),
  CHECK ((weekday IS NULL) <> (date IS NULL))
);
CREATE INDEX rotas_staff_idx ON rotas (staff_id);

CREATE TABLE work_orders (
  id                 bigserial PRIMARY KEY,
  type               text NOT NULL CHECK (type IN ('emergency', 'service', 'enquiry', 'complaint')),
  state              text NOT NULL DEFAULT 'received'
                     CHECK (state IN ('received', 'dispatched', 'accepted', 'on_site', 'done', 'replied', 'followed_up', 'archived', 'cancelled')),
  priority           smallint NOT NULL DEFAULT 3 CHECK (priority BETWEEN 1 AND 5),
  elder_id           bigint REFERENCES elders(id) ON DELETE SET NULL,
  alarm_id           bigint REFERENCES alarms(id) ON DELETE SET NULL,
  call_id            text,                        -- the call's flow id (calls.flow_id), as the call log names it
  title              text NOT NULL,
  description        text NOT NULL DEFAULT '',
  station_id         bigint REFERENCES stations(id) ON DELETE SET NULL,
  staff_id           bigint REFERENCES staff(id) ON DELETE SET NULL,
  result             text,
  satisfaction       smallint CHECK (satisfaction BETWEEN 1 AND 5),
  follow_up_comment  text,
  cancel_reason      text,
  created_by         bigint REFERENCES users(id) ON DELETE SET NULL,
  follow_up_agent_id bigint REFERENCES users(id) ON DELETE SET NULL,
  due_follow_up_at   timestamptz,
  received_at        timestamptz NOT NULL DEFAULT now(),
  dispatched_at      timestamptz,
  accepted_at        timestamptz,
  on_site_at         timestamptz,
  done_at            timestamptz,
  replied_at         timestamptz,
  followed_up_at     timestamptz,
  archived_at        timestamptz,
  cancelled_at       timestamptz,
  updated_at         timestamptz NOT NULL DEFAULT now()
);
-- One open emergency order per alarm: a second "open from alarm" is refused (409), also between two agents at once.
CREATE UNIQUE INDEX work_orders_one_open_emergency ON work_orders (alarm_id)
  WHERE type = 'emergency' AND alarm_id IS NOT NULL AND state NOT IN ('archived', 'cancelled');
CREATE INDEX work_orders_state_idx ON work_orders (state, received_at);
CREATE INDEX work_orders_elder_idx ON work_orders (elder_id);
CREATE INDEX work_orders_follow_up_idx ON work_orders (due_follow_up_at) WHERE state = 'replied';

CREATE TABLE work_order_events (
  id          bigserial PRIMARY KEY,
  order_id    bigint NOT NULL REFERENCES work_orders(id) ON DELETE CASCADE,
  at          timestamptz NOT NULL DEFAULT now(),
  actor       text NOT NULL,                      -- 'system', 'user:<id>', later 'staff:<id>' (the responder's page)
  action      text NOT NULL,
  from_state  text,
  to_state    text,
  detail      jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX work_order_events_order_idx ON work_order_events (order_id, at);

-- Down Migration
DROP TABLE IF EXISTS work_order_events, work_orders, rotas, staff, stations CASCADE;

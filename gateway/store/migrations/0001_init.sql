-- Up Migration
-- Anxin schema v1: elders, contacts, devices, users, alarms + timeline, calls, audit log, telemetry fallback.

CREATE TABLE elders (
  id            bigserial PRIMARY KEY,
  name          text NOT NULL,
  gender        text CHECK (gender IN ('male', 'female', 'other')),
  id_number     text UNIQUE,                 -- 身份证号
  birth_date    date,
  phone         text,                        -- normalised, digits only (landline with area code, or mobile)
  address       text NOT NULL DEFAULT '',
  lat           double precision,
  lon           double precision,
  conditions    text NOT NULL DEFAULT '',    -- health conditions
  medications   text NOT NULL DEFAULT '',
  allergies     text NOT NULL DEFAULT '',
  dialect       text NOT NULL DEFAULT '',
  lives_alone   boolean NOT NULL DEFAULT false,
  access_notes  text NOT NULL DEFAULT '',    -- key safe, door code
  rules         jsonb NOT NULL DEFAULT '{}', -- per-elder rule overrides (alarms/rules)
  response_plan jsonb,                        -- per-elder escalation plan, null = default
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX elders_phone_idx ON elders (phone);

CREATE TABLE contacts (
  id           bigserial PRIMARY KEY,
  elder_id     bigint NOT NULL REFERENCES elders(id) ON DELETE CASCADE,
  position     int NOT NULL,                 -- call order, 1 first
  name         text NOT NULL,
  relation     text NOT NULL DEFAULT '',     -- family, neighbour, community worker, property security
  phone        text NOT NULL,
  notes        text NOT NULL DEFAULT '',
  UNIQUE (elder_id, position)
);

CREATE TABLE devices (
  id            bigserial PRIMARY KEY,
  identifier    text NOT NULL UNIQUE,        -- IMEI, account number, MQTT client id
  protocol      text NOT NULL,
  model         text NOT NULL DEFAULT '',
  kind          text NOT NULL DEFAULT 'watch', -- watch, one_key_caller, fall_sensor, panel, pendant, other
  sim_phone     text UNIQUE,                 -- SIM or landline number of the device, normalised
  elder_id      bigint REFERENCES elders(id) ON DELETE SET NULL,
  state         text NOT NULL DEFAULT 'registered' CHECK (state IN ('registered', 'active', 'disabled')),
  last_seen     timestamptz,
  battery       int,
  signal        int,
  mqtt_secret_hash text,
  meta          jsonb NOT NULL DEFAULT '{}',
  created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX devices_elder_idx ON devices (elder_id);

-- Devices that spoke to us without being registered, for installers.
CREATE TABLE unknown_devices (
  identifier   text PRIMARY KEY,
  protocol     text NOT NULL,
  first_seen   timestamptz NOT NULL DEFAULT now(),
  last_seen    timestamptz NOT NULL DEFAULT now(),
  attempts     bigint NOT NULL DEFAULT 1,
  remote       text
);

CREATE TABLE users (
  id            bigserial PRIMARY KEY,
  username      text NOT NULL UNIQUE,
  display_name  text NOT NULL DEFAULT '',
  role          text NOT NULL CHECK (role IN ('agent', 'supervisor', 'installer', 'admin')),
  password_hash text NOT NULL,               -- argon2id
  extension     text,                        -- agent phone extension
  disabled      boolean NOT NULL DEFAULT false,
  created_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE sessions (
  token_hash  text PRIMARY KEY,              -- sha256 of the bearer token
  user_id     bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  created_at  timestamptz NOT NULL DEFAULT now(),
  expires_at  timestamptz NOT NULL
);

CREATE TABLE alarms (
  id            bigserial PRIMARY KEY,
  kind          text NOT NULL,
  priority      smallint NOT NULL,
  alarm_class   text NOT NULL DEFAULT 'operator',
  state         text NOT NULL DEFAULT 'raised',
  device_id     bigint REFERENCES devices(id) ON DELETE SET NULL,
  elder_id      bigint REFERENCES elders(id) ON DELETE SET NULL,
  source_key    text,                        -- device identifier or caller number the alarm came from
  zone          text,
  count         int NOT NULL DEFAULT 1,
  first_at      timestamptz NOT NULL DEFAULT now(),
  last_at       timestamptz NOT NULL DEFAULT now(),
  owner_id      bigint REFERENCES users(id),
  outcome       text,
  detail        jsonb NOT NULL DEFAULT '{}',
  lat           double precision,
  lon           double precision,
  dedup_key     text UNIQUE,                 -- idempotency key of the message that raised it (journal replay)
  closed_at     timestamptz,
  updated_at    timestamptz NOT NULL DEFAULT now()
);
-- Only one open alarm per (device or source, kind): repeats bump count instead.
CREATE UNIQUE INDEX alarms_one_open ON alarms (source_key, kind) WHERE state NOT IN ('closed', 'cleared');
CREATE INDEX alarms_open_idx ON alarms (priority, first_at) WHERE state NOT IN ('closed', 'cleared');

CREATE TABLE alarm_events (
  id        bigserial PRIMARY KEY,
  alarm_id  bigint NOT NULL REFERENCES alarms(id) ON DELETE CASCADE,
  at        timestamptz NOT NULL DEFAULT now(),
  actor     text NOT NULL,                   -- 'system', 'device', 'user:<id>'
  action    text NOT NULL,
  from_state text,
  to_state  text,
  detail    jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX alarm_events_alarm_idx ON alarm_events (alarm_id, at);

-- Message-level idempotency: a device retransmission (same frame) never creates a second alarm.
CREATE TABLE processed_messages (
  dedup_key  text PRIMARY KEY,
  alarm_ids  bigint[] NOT NULL DEFAULT '{}',
  at         timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE calls (
  id           bigserial PRIMARY KEY,
  alarm_id     bigint REFERENCES alarms(id) ON DELETE SET NULL,
  direction    text NOT NULL CHECK (direction IN ('inbound', 'outbound')),
  party        text NOT NULL,                -- elder, contact, agent, unknown
  number       text,
  agent_id     bigint REFERENCES users(id),
  channel_id   text UNIQUE,
  idempotency_key text UNIQUE,
  created_at   timestamptz NOT NULL DEFAULT now(),
  answered_at  timestamptz,
  ended_at     timestamptz,
  duration_s   int,
  cause        int,
  outcome      text,
  recording    text
);

CREATE TABLE device_commands (
  id          bigserial PRIMARY KEY,
  device_id   bigint NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
  command     jsonb NOT NULL,
  keyword     text NOT NULL,
  state       text NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'sent', 'acknowledged', 'expired', 'failed')),
  created_by  bigint REFERENCES users(id),
  created_at  timestamptz NOT NULL DEFAULT now(),
  expires_at  timestamptz NOT NULL,
  sent_at     timestamptz,
  acked_at    timestamptz,
  result      text
);
CREATE INDEX device_commands_pending ON device_commands (device_id) WHERE state IN ('queued', 'sent');

CREATE TABLE audit_log (
  id        bigserial PRIMARY KEY,
  at        timestamptz NOT NULL DEFAULT now(),
  actor     text NOT NULL,
  action    text NOT NULL,
  target    text,
  detail    jsonb NOT NULL DEFAULT '{}'
);

-- Telemetry when no InfluxDB is configured (the embedded default).
CREATE TABLE telemetry (
  time        timestamptz NOT NULL,
  measurement text NOT NULL,                 -- position, health, device
  device      text NOT NULL,
  elder_id    bigint,
  protocol    text NOT NULL,
  fields      jsonb NOT NULL
);
CREATE INDEX telemetry_device_time ON telemetry (device, measurement, time DESC);
CREATE INDEX telemetry_elder_time ON telemetry (elder_id, measurement, time DESC);

-- Down Migration
DROP TABLE IF EXISTS telemetry, audit_log, device_commands, calls, processed_messages, alarm_events, alarms, sessions, users, unknown_devices, devices, contacts, elders CASCADE;

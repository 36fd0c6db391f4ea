-- Up Migration
-- Issue 22, care programmes (care/README.md): schedules per elder as data, one run per occurrence (unique, so a
-- restart neither loses nor repeats it), the centre's holidays, check-ins that cancel a day's call, and the
-- personal care calls agents make (birthdays, after a hospital stay, follow-ups).
CREATE TABLE care_schedules (
  id                  bigserial PRIMARY KEY,
  elder_id            bigint NOT NULL REFERENCES elders(id) ON DELETE CASCADE,
  kind                text NOT NULL CHECK (kind IN ('welfare_call', 'medication', 'appointment')),
  channel             text NOT NULL DEFAULT 'call' CHECK (channel IN ('call', 'sms')),
  recurrence          jsonb NOT NULL,
  times               text[] NOT NULL,
  skip_holidays       boolean NOT NULL DEFAULT false,
  retries             int NOT NULL DEFAULT 2 CHECK (retries BETWEEN 0 AND 5),
  retry_interval_min  int NOT NULL DEFAULT 10 CHECK (retry_interval_min BETWEEN 1 AND 120),
  activity_checkin    boolean NOT NULL DEFAULT false,
  checkin_window      jsonb,
  note                text NOT NULL DEFAULT '',
  active              boolean NOT NULL DEFAULT true,
  next_at             timestamptz,
  created_by          bigint REFERENCES users(id) ON DELETE SET NULL,
  created_at          timestamptz NOT NULL DEFAULT now(),
  updated_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX care_schedules_elder_idx ON care_schedules (elder_id);

CREATE TABLE care_holidays (
  date  date PRIMARY KEY,
  name  text NOT NULL DEFAULT ''
);

CREATE TABLE care_runs (
  id               bigserial PRIMARY KEY,
  schedule_id      bigint NOT NULL REFERENCES care_schedules(id) ON DELETE CASCADE,
  elder_id         bigint NOT NULL REFERENCES elders(id) ON DELETE CASCADE,
  kind             text NOT NULL,
  channel          text NOT NULL,
  local_date       date NOT NULL,
  due_at           timestamptz NOT NULL,
  state            text NOT NULL DEFAULT 'scheduled'
                   CHECK (state IN ('scheduled', 'calling', 'retry_wait', 'ok', 'help', 'failed', 'checked_in', 'skipped')),
  -- [{ n, at, outcome, callId }], in order
  attempts         jsonb NOT NULL DEFAULT '[]',
  next_attempt_at  timestamptz,
  alarm_id         bigint REFERENCES alarms(id) ON DELETE SET NULL,
  reason           text,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  UNIQUE (schedule_id, due_at)
);
CREATE INDEX care_runs_date_idx ON care_runs (local_date);
CREATE INDEX care_runs_elder_idx ON care_runs (elder_id, local_date);
CREATE INDEX care_runs_open_idx ON care_runs (state) WHERE state IN ('scheduled', 'calling', 'retry_wait');

CREATE TABLE care_checkins (
  id          bigserial PRIMARY KEY,
  elder_id    bigint NOT NULL REFERENCES elders(id) ON DELETE CASCADE,
  at          timestamptz NOT NULL DEFAULT now(),
  -- green_key, watch, activity, agent
  source      text NOT NULL,
  device_id   bigint REFERENCES devices(id) ON DELETE SET NULL,
  local_date  date NOT NULL
);
CREATE INDEX care_checkins_elder_idx ON care_checkins (elder_id, local_date);

CREATE TABLE care_tasks (
  id           bigserial PRIMARY KEY,
  elder_id     bigint NOT NULL REFERENCES elders(id) ON DELETE CASCADE,
  reason       text NOT NULL CHECK (reason IN ('birthday', 'after_hospital', 'follow_up', 'welfare_failed', 'custom')),
  due_date     date NOT NULL,
  note         text NOT NULL DEFAULT '',
  state        text NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'done')),
  result       text CHECK (result IN ('reached', 'not_reached')),
  result_note  text,
  done_by      bigint REFERENCES users(id) ON DELETE SET NULL,
  done_at      timestamptz,
  created_by   bigint REFERENCES users(id) ON DELETE SET NULL,
  -- made by the system once (birthday:<elder>:<date>): the daily job may run twice
  source_key   text UNIQUE,
  created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX care_tasks_due_idx ON care_tasks (state, due_date);

-- Down Migration
DROP TABLE IF EXISTS care_tasks;
DROP TABLE IF EXISTS care_checkins;
DROP TABLE IF EXISTS care_runs;
DROP TABLE IF EXISTS care_holidays;
DROP TABLE IF EXISTS care_schedules;

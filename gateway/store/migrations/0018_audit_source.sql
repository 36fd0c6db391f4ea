-- Up Migration
-- Issue 23, history (历史查询): the audit log says "from where" — the client address and user agent of the HTTP
-- request behind an action (null for the device and system actions). Filled from the request context by audit()
-- (gateway/store/audit.ts), so no call site changes. The user agent is cut to 300 characters there; the CHECKs are
-- the bound. And the indexes the history searches (gateway/store/history.ts) walk, newest first.
ALTER TABLE audit_log
  ADD COLUMN ip         text CHECK (length(ip) <= 64),
  ADD COLUMN user_agent text CHECK (length(user_agent) <= 300);
CREATE INDEX audit_log_at_idx ON audit_log (at DESC, id DESC);
CREATE INDEX audit_log_actor_at_idx ON audit_log (actor, at DESC, id DESC);
CREATE INDEX audit_log_action_at_idx ON audit_log (action text_pattern_ops, at DESC);
CREATE INDEX audit_log_target_at_idx ON audit_log (target, at DESC) WHERE target IS NOT NULL;
CREATE INDEX alarms_elder_first_idx ON alarms (elder_id, first_at) WHERE elder_id IS NOT NULL;
CREATE INDEX alarms_device_first_idx ON alarms (device_id, first_at) WHERE device_id IS NOT NULL;

-- Down Migration
DROP INDEX IF EXISTS alarms_device_first_idx, alarms_elder_first_idx, audit_log_target_at_idx, audit_log_action_at_idx, audit_log_actor_at_idx, audit_log_at_idx;
ALTER TABLE audit_log DROP COLUMN IF EXISTS user_agent, DROP COLUMN IF EXISTS ip;

-- Up Migration
-- Issue 23: the wallboard (大屏) kiosk role, read-only. Its sessions slide: each use pushes the expiry out by
-- idle_ttl, so a board on the wall never meets the login timeout while it is in use, yet one left unused for
-- idle_ttl ends as any other session; disabling the user or a password reset still deletes it at once.
ALTER TABLE users DROP CONSTRAINT IF EXISTS users_role_check;
ALTER TABLE users ADD CONSTRAINT users_role_check CHECK (role IN ('agent', 'supervisor', 'installer', 'admin', 'wallboard'));
ALTER TABLE sessions ADD COLUMN idle_ttl interval;

-- Down Migration
ALTER TABLE sessions DROP COLUMN IF EXISTS idle_ttl;
-- a wallboard account cannot stay one: it becomes a disabled agent (no access), its rows keep their references
UPDATE users SET role = 'agent', disabled = true WHERE role = 'wallboard';
ALTER TABLE users DROP CONSTRAINT IF EXISTS users_role_check;
ALTER TABLE users ADD CONSTRAINT users_role_check CHECK (role IN ('agent', 'supervisor', 'installer', 'admin'));

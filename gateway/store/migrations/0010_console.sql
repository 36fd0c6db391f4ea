-- Up Migration
-- Issue 20, the admin and installer console:
-- * a device's activation (设备开通): who activated it and when, and the window of its activation test, during
--   which its alarms are test alarms (alarms.test) that close themselves and never reach agents;
-- * an elder's photo (shown in the file and the screen-pop), kept beside the record;
-- * a user's last login, for the users screen.
ALTER TABLE devices ADD COLUMN activated_at timestamptz;
ALTER TABLE devices ADD COLUMN activated_by bigint REFERENCES users(id) ON DELETE SET NULL;
ALTER TABLE devices ADD COLUMN test_started_at timestamptz;
ALTER TABLE devices ADD COLUMN test_until timestamptz;
ALTER TABLE alarms ADD COLUMN test boolean NOT NULL DEFAULT false;
ALTER TABLE elders ADD COLUMN photo bytea;
ALTER TABLE elders ADD COLUMN photo_type text;
ALTER TABLE elders ADD COLUMN photo_updated_at timestamptz;
ALTER TABLE users ADD COLUMN last_login_at timestamptz;

-- Down Migration
ALTER TABLE users DROP COLUMN IF EXISTS last_login_at;
ALTER TABLE elders DROP COLUMN IF EXISTS photo_updated_at;
ALTER TABLE elders DROP COLUMN IF EXISTS photo_type;
ALTER TABLE elders DROP COLUMN IF EXISTS photo;
ALTER TABLE alarms DROP COLUMN IF EXISTS test;
ALTER TABLE devices DROP COLUMN IF EXISTS test_until;
ALTER TABLE devices DROP COLUMN IF EXISTS test_started_at;
ALTER TABLE devices DROP COLUMN IF EXISTS activated_by;
ALTER TABLE devices DROP COLUMN IF EXISTS activated_at;

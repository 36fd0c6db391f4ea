-- Up Migration
-- Issue 15: raw and dangerous device commands (custom, MONITOR, IP, APN, FACTORY, POWEROFF) are admin-only and
-- carry a reason. The command row keeps the reason, whether it was dangerous, and the elder the device was bound
-- to when it was sent, so the elder's timeline shows it even after the device is re-bound.
ALTER TABLE device_commands ADD COLUMN reason text;
ALTER TABLE device_commands ADD COLUMN dangerous boolean NOT NULL DEFAULT false;
ALTER TABLE device_commands ADD COLUMN elder_id bigint REFERENCES elders(id) ON DELETE SET NULL;
CREATE INDEX device_commands_elder ON device_commands (elder_id, id DESC) WHERE elder_id IS NOT NULL;

-- Down Migration
DROP INDEX IF EXISTS device_commands_elder;
ALTER TABLE device_commands DROP COLUMN IF EXISTS elder_id;
ALTER TABLE device_commands DROP COLUMN IF EXISTS dangerous;
ALTER TABLE device_commands DROP COLUMN IF EXISTS reason;

-- Up Migration
-- Issue 26: a device's symmetric key (a DC-09 account's AES key), sealed by the gateway before it is stored
-- (gateway/device-keys.ts: AES-256-GCM under the key in DEVICE_KEYS_FILE). The database never holds it in clear,
-- and no route returns it: `has_key` is what the console shows.
ALTER TABLE devices ADD COLUMN key_sealed text;

-- Down Migration
ALTER TABLE devices DROP COLUMN IF EXISTS key_sealed;

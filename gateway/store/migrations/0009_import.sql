-- Up Migration
-- Issue 20, bulk import and export: an elder's key in the centre's own records (外部编号, what the import files
-- use to tie contacts and devices to elders, and to update an elder on a re-import), the area (片区/社区), the
-- care categories (失能/独居/空巢/高龄) and the family doctor; a contact's further phone numbers and roles
-- (key holder 持钥匙人, next of kin 直系亲属, may receive SMS).
ALTER TABLE elders ADD COLUMN external_key text UNIQUE;
ALTER TABLE elders ADD COLUMN area text NOT NULL DEFAULT '';
ALTER TABLE elders ADD COLUMN categories text[] NOT NULL DEFAULT '{}';
ALTER TABLE elders ADD COLUMN doctor text NOT NULL DEFAULT '';
ALTER TABLE contacts ADD COLUMN alt_phones text[] NOT NULL DEFAULT '{}';
ALTER TABLE contacts ADD COLUMN key_holder boolean NOT NULL DEFAULT false;
ALTER TABLE contacts ADD COLUMN next_of_kin boolean NOT NULL DEFAULT false;
ALTER TABLE contacts ADD COLUMN may_sms boolean NOT NULL DEFAULT false;

-- Down Migration
ALTER TABLE contacts DROP COLUMN IF EXISTS may_sms;
ALTER TABLE contacts DROP COLUMN IF EXISTS next_of_kin;
ALTER TABLE contacts DROP COLUMN IF EXISTS key_holder;
ALTER TABLE contacts DROP COLUMN IF EXISTS alt_phones;
ALTER TABLE elders DROP COLUMN IF EXISTS doctor;
ALTER TABLE elders DROP COLUMN IF EXISTS categories;
ALTER TABLE elders DROP COLUMN IF EXISTS area;
ALTER TABLE elders DROP COLUMN IF EXISTS external_key;

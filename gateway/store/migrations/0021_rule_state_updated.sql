-- Up Migration
-- Issue 24: in a cluster the leader merges, before every tick (5 s), the rule states other nodes saved since its last
-- merge (gateway/store/rule-state.ts ruleStatesSince): an index on updated_at keeps that a range scan, not a scan
-- of every device's state.
CREATE INDEX device_rule_state_updated_idx ON device_rule_state (updated_at);

-- Down Migration
DROP INDEX IF EXISTS device_rule_state_updated_idx;

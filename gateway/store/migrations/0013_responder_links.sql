-- Up Migration
-- Issue 21, the responder's page: a one-time link per dispatch, texted to the staff member. Only its hash is kept;
-- it works for that order and that responder only, until it expires; every use is counted and audited.
CREATE TABLE work_order_links (
  id            bigserial PRIMARY KEY,
  order_id      bigint NOT NULL REFERENCES work_orders(id) ON DELETE CASCADE,
  staff_id      bigint NOT NULL REFERENCES staff(id) ON DELETE CASCADE,
  token_hash    text NOT NULL UNIQUE,
  expires_at    timestamptz NOT NULL,
  uses          int NOT NULL DEFAULT 0,
  last_used_at  timestamptz,
  created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX work_order_links_order_idx ON work_order_links (order_id);

-- Down Migration
DROP TABLE IF EXISTS work_order_links;

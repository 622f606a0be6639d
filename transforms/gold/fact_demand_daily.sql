/* ---
description: Daily demand per item and site, with its cost.
tags: [sample, gold]
unique_key: demand_id
columns:
  demand_id: { type: BIGINT, nullable: false }
  demand_date: { type: DATE, nullable: false }
  item_id:
    type: INTEGER
    nullable: false
    tests:
      - relationships: { to: dim_item, field: item_id }
  site_id: { type: INTEGER, nullable: false }
  quantity: { type: "DECIMAL(14,3)", nullable: false, tests: [{ expression: "quantity >= 0" }] }
  units: { type: INTEGER, nullable: false }
  is_stockout: { type: BOOLEAN, nullable: false }
  unit_cost: { type: "DECIMAL(12,2)", nullable: false }
  cost: { type: "DECIMAL(38,5)", nullable: false, description: "quantity * unit_cost, exact" }
--- */
SELECT
  demand_id,
  demand_date,
  item_id,
  site_id,
  quantity,
  units,
  is_stockout,
  unit_cost,
  CAST(quantity AS DECIMAL(38,3)) * unit_cost AS cost  -- widened first: DECIMAL(14,3) * DECIMAL(12,2) could overflow 18 digits
FROM {{ ref('demand_daily') }}
-- Clustered for the API's filters (item, site, date): each row group then holds few items,
-- so DuckDB skips the others by their min/max statistics.
ORDER BY item_id, site_id, demand_date, demand_id

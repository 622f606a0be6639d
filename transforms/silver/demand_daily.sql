/* ---
description: Daily demand per item and site from core.fact_demand_daily, one row per demand_id.
tags: [sample, demand]
unique_key: demand_id
quarantine:
  - { name: quantity_not_negative, sql: "quantity >= 0" }
  - { name: units_not_negative, sql: "units >= 0" }
  - { name: unit_cost_not_negative, sql: "unit_cost >= 0" }
columns:
  demand_id: { type: BIGINT, nullable: false }
  demand_date: { type: DATE, nullable: false }
  item_id: { type: INTEGER, nullable: false }
  site_id: { type: INTEGER, nullable: false }
  quantity: { type: "DECIMAL(14,3)", nullable: false }
  units: { type: INTEGER, nullable: false }
  lead_time_days: { type: SMALLINT, nullable: false }
  is_stockout: { type: BOOLEAN, nullable: false }
  unit_cost: { type: "DECIMAL(12,2)", nullable: false }
  updated_at: { type: TIMESTAMP WITH TIME ZONE, nullable: false }
  note: { type: VARCHAR }
--- */
SELECT
  id AS demand_id,
  date AS demand_date,
  item_id,
  site_id,
  quantity,
  units,
  lead_time_days,
  stockout AS is_stockout,
  unit_cost,
  updated_at,
  note
FROM {{ source('core', 'fact_demand_daily') }}
-- an incremental export may carry a row twice: the newest update wins
QUALIFY row_number() OVER (PARTITION BY id ORDER BY updated_at DESC) = 1

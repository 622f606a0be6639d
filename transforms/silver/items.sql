/* ---
description: Items from core.dim_item, typed and renamed, one row per item_id.
tags: [sample, items]
unique_key: item_id
quarantine:
  - { name: unit_price_positive, sql: "unit_price > 0" }
  - { name: sku_present, sql: "sku <> ''" }
columns:
  item_id: { type: INTEGER, nullable: false }
  sku: { type: VARCHAR, nullable: false }
  item_name: { type: VARCHAR }
  category: { type: VARCHAR, nullable: false }
  unit_price: { type: "DECIMAL(12,2)", nullable: false }
  is_active: { type: BOOLEAN, nullable: false }
  created_at: { type: TIMESTAMP WITH TIME ZONE }
--- */
SELECT
  item_id,
  trim(sku) AS sku,
  name AS item_name,
  lower(category) AS category,
  unit_price,
  active AS is_active,
  created_at
FROM {{ source('core', 'dim_item') }}
-- the latest version of an item wins
QUALIFY row_number() OVER (PARTITION BY item_id ORDER BY created_at DESC) = 1

/* ---
description: The item dimension.
tags: [sample, gold]
unique_key: item_id
columns:
  item_id: { type: INTEGER, nullable: false, description: "Item key (core.dim_item.item_id)" }
  sku: { type: VARCHAR, nullable: false, tests: [unique] }
  item_name: { type: VARCHAR }
  category: { type: VARCHAR, nullable: false, tests: [{ accepted_values: { values: [cement, steel, cable, paint, tools, pipes], severity: warn } }] }
  unit_price: { type: "DECIMAL(12,2)", nullable: false }
  is_active: { type: BOOLEAN, nullable: false }
--- */
SELECT item_id, sku, item_name, category, unit_price, is_active
FROM {{ ref('items') }}

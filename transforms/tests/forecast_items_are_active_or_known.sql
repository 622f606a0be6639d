/* ---
description: Every forecast names an item of the dimension (a singular test, returning failing rows).
severity: warn
--- */
SELECT f.forecast_id, f.item_id
FROM {{ ref('fact_forecasts') }} f
LEFT JOIN {{ ref('dim_item') }} i USING (item_id)
WHERE i.item_id IS NULL

/* ---
description: >
  Actual demand vs forecast per item, site, forecasting model and ISO week. Per day, the
  forecast made closest to the day within max_horizon_days counts; the actual quantity is
  summed over the days that have a forecast (a day without demand counts as 0), so both
  sides cover the same days. bias = forecast - actual (positive: over-forecast);
  pct_error = abs_error / actual * 100 (NULL when actual is 0).
tags: [sample, gold, mart]
vars:
  max_horizon_days: 7
unique_key: [item_id, site_id, model_name, week_start]
columns:
  item_id: { type: INTEGER, nullable: false }
  site_id: { type: INTEGER, nullable: false }
  model_name: { type: VARCHAR, nullable: false }
  iso_year: { type: BIGINT, nullable: false }
  iso_week: { type: BIGINT, nullable: false }
  week_start: { type: DATE, nullable: false }
  forecast_days: { type: BIGINT, nullable: false }
  actual_quantity: { type: "DECIMAL(38,3)", nullable: false }
  forecast_quantity: { type: "DECIMAL(38,3)", nullable: false }
  abs_error: { type: "DECIMAL(38,3)", nullable: false, tests: [{ expression: "abs_error >= 0" }] }
  pct_error: { type: DOUBLE }
  bias: { type: "DECIMAL(38,3)", nullable: false }
--- */
WITH forecast_daily AS (
  SELECT item_id, site_id, model_name, forecast_date AS day, yhat
  FROM {{ ref('fact_forecasts') }}
  WHERE horizon_days <= {{ var('max_horizon_days') }}
  QUALIFY row_number() OVER (PARTITION BY item_id, site_id, model_name, forecast_date ORDER BY horizon_days, created_at DESC, forecast_id DESC) = 1
),
actual_daily AS (
  SELECT item_id, site_id, demand_date AS day, sum(quantity) AS quantity
  FROM {{ ref('fact_demand_daily') }}
  GROUP BY ALL
),
weekly AS (
  SELECT
    f.item_id,
    f.site_id,
    f.model_name,
    isoyear(f.day) AS iso_year,
    week(f.day) AS iso_week,
    CAST(date_trunc('week', f.day) AS DATE) AS week_start,
    count(*) AS forecast_days,
    CAST(sum(coalesce(a.quantity, 0)) AS DECIMAL(38,3)) AS actual_quantity,
    CAST(sum(f.yhat) AS DECIMAL(38,3)) AS forecast_quantity
  FROM forecast_daily f
  LEFT JOIN actual_daily a USING (item_id, site_id, day)
  GROUP BY ALL
)
SELECT
  item_id, site_id, model_name, iso_year, iso_week, week_start, forecast_days,
  actual_quantity,
  forecast_quantity,
  CAST(abs(forecast_quantity - actual_quantity) AS DECIMAL(38,3)) AS abs_error,
  CASE WHEN actual_quantity = 0 THEN NULL ELSE CAST(abs(forecast_quantity - actual_quantity) AS DOUBLE) / CAST(actual_quantity AS DOUBLE) * 100 END AS pct_error,
  CAST(forecast_quantity - actual_quantity AS DECIMAL(38,3)) AS bias
FROM weekly
-- Clustered by the API's lookup (item, site): a series reads one row group.
ORDER BY item_id, site_id, week_start, model_name

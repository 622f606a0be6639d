/* ---
description: Forecasts from analytics.fact_forecasts, one row per forecast_id.
tags: [sample, forecasts]
unique_key: forecast_id
quarantine:
  - { name: interval_contains_yhat, sql: "yhat_lower <= yhat AND yhat <= yhat_upper" }
  - { name: horizon_positive, sql: "horizon_days > 0" }
columns:
  forecast_id: { type: BIGINT, nullable: false }
  item_id: { type: INTEGER, nullable: false }
  site_id: { type: INTEGER, nullable: false }
  forecast_date: { type: DATE, nullable: false }
  horizon_days: { type: SMALLINT, nullable: false }
  model_name: { type: VARCHAR, nullable: false }
  yhat: { type: "DECIMAL(14,3)", nullable: false }
  yhat_lower: { type: "DECIMAL(14,3)", nullable: false }
  yhat_upper: { type: "DECIMAL(14,3)", nullable: false }
  mape: { type: DOUBLE }
  created_at: { type: TIMESTAMP WITH TIME ZONE, nullable: false }
--- */
SELECT
  forecast_id,
  item_id,
  site_id,
  forecast_date,
  horizon_days,
  model AS model_name,
  yhat,
  yhat_lower,
  yhat_upper,
  mape,
  created_at
FROM {{ source('analytics', 'fact_forecasts') }}
QUALIFY row_number() OVER (PARTITION BY forecast_id ORDER BY created_at DESC) = 1

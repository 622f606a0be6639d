/* ---
description: >
  Forecasts per item, site and date. Built from the exported analytics.fact_forecasts;
  an ML job can publish this table directly with `corrente publish --table gold.fact_forecasts`
  (checked against these columns and tests).
tags: [sample, gold, forecasts]
unique_key: forecast_id
columns:
  forecast_id: { type: BIGINT, nullable: false }
  item_id:
    type: INTEGER
    nullable: false
    tests:
      - relationships: { to: dim_item, field: item_id }
  site_id: { type: INTEGER, nullable: false }
  forecast_date: { type: DATE, nullable: false }
  horizon_days: { type: SMALLINT, nullable: false, tests: [{ expression: "horizon_days BETWEEN 1 AND 365" }] }
  model_name: { type: VARCHAR, nullable: false }
  yhat: { type: "DECIMAL(14,3)", nullable: false }
  yhat_lower: { type: "DECIMAL(14,3)", nullable: false }
  yhat_upper: { type: "DECIMAL(14,3)", nullable: false }
  mape: { type: DOUBLE }
  created_at: { type: TIMESTAMP WITH TIME ZONE, nullable: false }
tests:
  - expression: "yhat_lower <= yhat AND yhat <= yhat_upper"
--- */
SELECT forecast_id, item_id, site_id, forecast_date, horizon_days, model_name, yhat, yhat_lower, yhat_upper, mape, created_at
FROM {{ ref('forecasts') }}

/**
 * The pipelines shipped for the sample tables, used when `pipelines:` is not configured
 * (as `tables:` defaults to the sample tables). corrente.example.yaml spells them out.
 */
export const SHIPPED_PIPELINES = {
  'migrate-all': {
    description: 'Full export of the three sample tables, then every silver model, then every gold model',
    catchup: 'none',
    tasks: {
      export: { kind: 'export', tables: ['core.dim_item', 'core.fact_demand_daily', 'analytics.fact_forecasts'], mode: 'full', retries: 1 },
      silver: { kind: 'transform', needs: ['export'], select: ['items', 'demand_daily', 'forecasts'] },
      gold: { kind: 'transform', needs: ['silver'], select: ['tag:gold'] },
    },
  },
  'nightly-refresh': {
    description: 'Nightly, incremental export of the demand and forecast facts, the silver and gold models they feed, then lake cleanup',
    schedule: { cron: '0 2 * * *', tz: 'America/Sao_Paulo' },
    overlap: 'queue',
    catchup: 'latest',
    tasks: {
      export: { kind: 'export', tables: ['core.fact_demand_daily', 'analytics.fact_forecasts'], mode: 'incremental', retries: 2, backoff: '1m', timeout: '2h' },
      silver: { kind: 'transform', needs: ['export'], select: ['demand_daily', 'forecasts'], retries: 1 },
      gold: { kind: 'transform', needs: ['silver'], select: ['fact_demand_daily', 'fact_forecasts', 'demand_vs_forecast'], retries: 1 },
      gc: { kind: 'gc', needs: ['gold'] },
    },
  },
} as const;

import { createLocalLake } from './test/helpers/export-deps.ts';
import { exportTable, verifyAndPublish } from './src/pipeline/index.ts';
const [target, threads, verify] = [Number(process.env.MB ?? 64), Number(process.env.TH ?? 2), process.env.VERIFY === '1'];
const lake = await createLocalLake('postgres://postgres@127.0.0.1:5432/perf', { fileTargetMb: target, duckdbThreads: threads, verify, chunkMb: 100000, duckdbMemoryMb: Number(process.env.MEM ?? 256) });
const t = Date.now();
const out = await exportTable(lake.deps, { runId: 'p' + Date.now(), table: { schema: 'core', name: 'fact_demand_daily' }, layer: 'bronze' });
if (out.kind !== 'staged') throw new Error('chunked');
const st = out.staged;
const te = (Date.now() - t) / 1000;
let tv = 0;
if (verify) { const t2 = Date.now(); await verifyAndPublish({ store: lake.store, config: lake.deps.config }, { bucket: 'bronze', table: st.manifest.table, runId: st.manifest.runId }); tv = (Date.now() - t2) / 1000; }
const rows = st.manifest.totals.rows;
console.log(`MB=${target} threads=${threads} verify=${verify}: export ${te}s (${Math.round(rows / te)} rows/s) verify ${tv}s files=${st.manifest.files.length} bytes=${st.manifest.totals.bytes} rss=${Math.round(process.resourceUsage().maxRSS/1024)}MB`);
await lake.close();

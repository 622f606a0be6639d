// The dashboard: plain DOM and uPlot (served from node_modules: no CDN is reachable).
'use strict';

const $ = (sel) => document.querySelector(sel);

async function getJson(url) {
  const res = await fetch(url, { headers: { accept: 'application/json' } });
  const body = await res.json();
  if (!res.ok) throw Object.assign(new Error(body.error ? body.error.message : res.statusText), { status: res.status });
  return body;
}

function cell(text, cls) {
  const td = document.createElement('td');
  td.textContent = text;
  if (cls) td.className = cls;
  return td;
}

function age(seconds) {
  if (seconds < 120) return `${seconds} s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`;
  if (seconds < 172800) return `${Math.round(seconds / 3600)} h`;
  return `${Math.round(seconds / 86400)} d`;
}

async function loadTables() {
  const body = $('#tables tbody');
  const { tables } = await getJson('/api/tables');
  body.replaceChildren(
    ...tables.map((t) => {
      const tr = document.createElement('tr');
      const seconds = Math.round((Date.now() - Date.parse(t.run.publishedAt)) / 1000);
      tr.append(cell(t.layer), cell(t.name), cell(t.rows.toLocaleString(), 'num'), cell(t.run.runId), cell(t.run.publishedAt), cell(age(seconds), 'num'));
      return tr;
    }),
  );
}

async function loadRuns() {
  const body = $('#runs tbody');
  const { runs } = await getJson('/api/runs');
  body.replaceChildren(
    ...runs.map((r) => {
      const tr = document.createElement('tr');
      const rows = r.tables.reduce((n, t) => n + (t.rows || 0), 0);
      const seconds = r.tables.reduce((n, t) => Math.max(n, (t.exportSeconds || 0) + (t.verifySeconds || 0)), 0);
      const states = document.createElement('td');
      for (const t of r.tables) {
        const span = document.createElement('span');
        span.className = `state-${t.state}`;
        span.textContent = `${t.table}: ${t.state} `;
        states.append(span);
      }
      tr.append(cell(r.runId), cell(r.createdAt || ''), states, cell(rows.toLocaleString(), 'num'), cell(seconds ? seconds.toFixed(1) : '', 'num'), cell(seconds ? Math.round(rows / seconds).toLocaleString() : '', 'num'));
      return tr;
    }),
  );
}

async function loadDag() {
  const { mermaid } = await getJson('/api/dag');
  $('#dag').textContent = mermaid || 'No transform models found.';
}

let plot;

function drawChart(rows, key) {
  const weeks = [...new Set(rows.map((r) => r.week_start))].sort();
  const models = [...new Set(rows.map((r) => r.model_name))].sort();
  const x = weeks.map((w) => Date.parse(`${w}T00:00:00Z`) / 1000);
  const actual = weeks.map((w) => {
    const r = rows.find((row) => row.week_start === w);
    return r ? Number(r.actual_quantity) : null;
  });
  const forecasts = models.map((m) => weeks.map((w) => {
    const r = rows.find((row) => row.week_start === w && row.model_name === m);
    return r ? Number(r.forecast_quantity) : null;
  }));
  const colors = ['#d9480f', '#1971c2', '#2f9e44', '#ae3ec9', '#f08c00'];
  const opts = {
    width: Math.min(1100, document.body.clientWidth - 80),
    height: 320,
    series: [{}, { label: 'actual', stroke: '#12324a', width: 2 }, ...models.map((m, i) => ({ label: `forecast (${m})`, stroke: colors[i % colors.length], dash: [6, 4] }))],
    axes: [{}, { label: 'quantity' }],
  };
  if (plot) plot.destroy();
  plot = new uPlot(opts, [x, actual, ...forecasts], $('#chart'));
  $('#chart').dataset.series = key;
  $('#chart').dataset.points = String(weeks.length);
}

async function loadSeries() {
  const item = $('#item').value;
  const site = $('#site').value;
  const body = await getJson(`/api/demand-vs-forecast?item_id=${encodeURIComponent(item)}&site_id=${encodeURIComponent(site)}`);
  $('#series-run').textContent = `run ${body.run.runId}`;
  drawChart(body.rows, `${item}-${site}`);
}

function fillSelect(select, values) {
  select.replaceChildren(
    ...values.map((v) => {
      const o = document.createElement('option');
      o.value = String(v);
      o.textContent = String(v);
      return o;
    }),
  );
}

async function loadKeys() {
  let keys;
  try {
    keys = (await getJson('/api/demand-vs-forecast/keys')).keys;
  } catch (err) {
    if (err.status === 404) {
      $('#chart-empty').hidden = false;
      return;
    }
    throw err;
  }
  const items = [...new Set(keys.map((k) => k.item_id))];
  fillSelect($('#item'), items);
  const sitesOf = (item) => keys.filter((k) => String(k.item_id) === String(item)).map((k) => k.site_id);
  fillSelect($('#site'), sitesOf(items[0]));
  $('#item').addEventListener('change', () => {
    fillSelect($('#site'), sitesOf($('#item').value));
    loadSeries().catch(report);
  });
  $('#site').addEventListener('change', () => loadSeries().catch(report));
  if (items.length > 0) await loadSeries();
}

function report(err) {
  const p = document.createElement('p');
  p.className = 'muted';
  p.textContent = `Could not load: ${err.message}`;
  document.querySelector('main').prepend(p);
}

Promise.all([loadKeys(), loadTables(), loadRuns(), loadDag()]).catch(report);
setInterval(() => Promise.all([loadTables(), loadRuns()]).catch(report), 10000);

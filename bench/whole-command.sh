#!/usr/bin/env bash
# The whole command as users feel it: wall time of `corrente migrate --inline --wait --json`
# from process start to exit, beside the exportSeconds and verifySeconds it prints, each run
# paired with `psql COPY ... TO STDOUT` in the same round (the machine is shared: compare
# ratios within a round). Builds are given as label=dir, dir holding dist/cli/main.js, and
# alternate within each round, so load that drifts over the run hits them alike.
#
#   DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_cmd \
#     bench/whole-command.sh 6 before=/tmp/before after=.            # two builds
#   CONFIG_B=verify-off.yaml bench/whole-command.sh 5 on=. off=.:"$CONFIG_B"   # label=dir:config.yaml
#
# The database must hold core.fact_demand_daily (`corrente seed --rows N`). Prints one line
# per run (TSV) and a summary: min-max (median) per build; gap = wall - export - verify.
set -euo pipefail
rounds=${1:?usage: whole-command.sh ROUNDS LABEL=DIR[:CONFIG]...}
shift
: "${DATABASE_URL:?set DATABASE_URL to the seeded database}"
export LOG_LEVEL=warn
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
table=core.fact_demand_daily
now() { date +%s%N; }
secs() { printf '%.3f' "$(echo "scale=3; ($2 - $1) / 1000000000" | bc)"; }
field() { grep -o "\"$1\": [0-9.e-]*" "$work/out.json" | head -1 | cut -d' ' -f2; }

psql "$DATABASE_URL" -c "COPY $table TO STDOUT" > /dev/null # warm-up, untimed
printf 'round\twhat\twall_s\texport_s\tverify_s\tchecksumWait_s\tload1\n' | tee "$work/runs.tsv"
for round in $(seq 1 "$rounds"); do
  s=$(now); psql "$DATABASE_URL" -c "COPY $table TO STDOUT" > /dev/null; e=$(now)
  printf '%s\tcopy\t%s\t\t\t\t%s\n' "$round" "$(secs "$s" "$e")" "$(cut -d' ' -f1 /proc/loadavg)" | tee -a "$work/runs.tsv"
  for spec in "$@"; do
    label=${spec%%=*}; rest=${spec#*=}; dir=${rest%%:*}; config=""
    [[ $rest == *:* ]] && config=${rest#*:}
    rm -rf "$work/lake"
    s=$(now)
    env LAKE_DIR="$work/lake" CORRENTE_REDIS_PREFIX="whole-command-$label-$$" ${config:+CORRENTE_CONFIG="$config"} \
      node "$dir/dist/cli/main.js" migrate -t "$table" --inline --wait --json > "$work/out.json" 2> "$work/err.log" ||
      { echo "$label failed: $(tail -1 "$work/err.log")" >&2; exit 1; }
    e=$(now)
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$round" "$label" "$(secs "$s" "$e")" "$(field exportSeconds)" "$(field verifySeconds)" "$(field checksumWait)" "$(cut -d' ' -f1 /proc/loadavg)" | tee -a "$work/runs.tsv"
  done
done

node - "$work/runs.tsv" <<'EOF'
const rows = require('node:fs').readFileSync(process.argv[2], 'utf8').trim().split('\n').slice(1).map((l) => l.split('\t'));
const copy = new Map(rows.filter((r) => r[1] === 'copy').map((r) => [r[0], Number(r[2])]));
const range = (xs) => { const s = [...xs].sort((a, b) => a - b); const m = s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; return `${s[0].toFixed(2)}-${s.at(-1).toFixed(2)} (${m.toFixed(2)})`; };
const labels = [...new Set(rows.map((r) => r[1]))];
for (const label of labels) {
  const rs = rows.filter((r) => r[1] === label);
  const wall = rs.map((r) => Number(r[2]));
  if (label === 'copy') { console.log(`copy: wall ${range(wall)}`); continue; }
  const ex = rs.map((r) => Number(r[3])), ve = rs.map((r) => Number(r[4] || 0));
  console.log(`${label}: wall ${range(wall)} | export ${range(ex)} | verify ${range(ve)} | gap ${range(wall.map((w, i) => w - ex[i] - ve[i]))} | wall/copy ${range(rs.map((r) => Number(r[2]) / copy.get(r[0])))} | export/copy ${range(rs.map((r) => Number(r[3]) / copy.get(r[0])))}`);
}
console.log(`load1 ${range(rows.map((r) => Number(r[6])))}`);
EOF

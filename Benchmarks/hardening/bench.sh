#!/usr/bin/env bash
# Hardening benchmarks (BENCHMARKS.md, "Hardening"), against a release `sluice serve`:
#
#     Benchmarks/hardening/bench.sh healthz|outage
#
# healthz  GET /healthz every 10 ms, idle for 5 s and then while four 200 MB CSV uploads stream
#          into POST /v1/jobs at once (SQLite, --no-workers, so the uploads and their ingest
#          are all the server does): median, p99 and max latency. What it shows is whether file
#          writes, syncs and parsing keep off the cooperative pool.
# outage   the database failing under more than one process, against the provider as it is: a
#          throwaway PostgreSQL, one `sluice serve --no-workers` and two `sluice worker`; the fake
#          answers in 100 ± 50 ms with 3% 500s, 1% hangs of 10 s (Sluice gives up at 3 s), 1%
#          malformed bodies, 1,800 RPM enforced. A 3,000-row job runs; once 600 items have
#          succeeded the `items` table is renamed away for 15 s (every statement on it fails in
#          every process) and back. Reports the job's end, its time, and the calls the fake
#          answered well against the items that succeeded (the difference: results paid twice).
set -euo pipefail
cd "$(dirname "$0")/../.."
what=${1:-healthz}
. Benchmarks/common.sh
release_setup sluice sluice-fake-provider

case "$what" in
healthz)
  python3 - "$work/big.csv" <<'PY'
import sys
line = "order arrived late but the support team was great and fixed it quickly and thank you all\n"
with open(sys.argv[1], "w") as f:
    f.write("id,text\n")
    n, written = 0, 0
    while written < 200 << 20:
        row = f"{n},{line}"
        f.write(row)
        written += len(row)
        n += 1
PY
  "$bin/sluice" serve --port 0 --database "$work/db.sqlite" --uploads "$work/uploads" --no-workers \
    --max-upload-mb 256 --log-level error > "$work/serve.out" &
  pids+=($!)
  url=$(await_url "$work/serve.out")
  python3 Benchmarks/hardening/healthz.py "$url" "$work/big.csv"
  ;;
outage)
  eval "$(scripts/postgres.sh start)"
  trap 'kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; scripts/postgres.sh stop "$SLUICE_TEST_POSTGRES_DIR"; rm -rf "$work"' EXIT
  db=$SLUICE_TEST_POSTGRES
  start_fake --latency-ms 100 --latency-spread-ms 50 --fault-500 0.03 --fault-hang 0.01 --hang-seconds 10 \
    --fault-malformed 0.01 --rpm 1800 --seed 3
  cat > "$work/sluice.yaml" <<YAML
providers:
  fake: {kind: openai, base_url: "http://127.0.0.1:$port/v1", api_key_env: FAKE_KEY, default_model: fake-model,
         limits: {rpm: 1800}, timeout_seconds: 3}
YAML
  "$bin/sluice" migrate --database "$db" > /dev/null
  FAKE_KEY=k "$bin/sluice" serve --port 0 --no-workers --database "$db" --config "$work/sluice.yaml" --uploads "$work/uploads" \
    --rate-limit 0 --log-level error > "$work/api.out" 2>&1 &
  pids+=($!)
  for n in 1 2; do
    FAKE_KEY=k "$bin/sluice" worker --database "$db" --config "$work/sluice.yaml" --log-level notice > /dev/null 2> "$work/worker$n.log" &
    pids+=($!)
  done
  url=$(await_url "$work/api.out")
  python3 - "$work/rows.csv" <<'PY'
import sys
with open(sys.argv[1], "w") as f:
    f.write("id,text\n" + "".join(f"{n},order {n} arrived late but the staff were kind\n" for n in range(3000)))
PY
  python3 - "$url" "$db" "$work/rows.csv" "http://127.0.0.1:$port" <<'PY'
import json, subprocess, sys, time, urllib.request
url, db, rows, fake = sys.argv[1:]
def get(path):
    return json.loads(urllib.request.urlopen(url + path).read())
def sql(statement):
    subprocess.run(["psql", db, "-q", "-c", statement], check=True)
request = urllib.request.Request(url + "/v1/jobs?preset=text-classify&cache=false&max_attempts=5", data=open(rows, "rb").read(),
                                 headers={"Content-Type": "text/csv"})
job = json.loads(urllib.request.urlopen(request).read())["id"]
started = time.time()
while get(f"/v1/jobs/{job}")["counts"]["succeeded"] < 600:
    time.sleep(0.2)
sql("ALTER TABLE items RENAME TO items_away")
away = time.time()
time.sleep(15)  # the outage's length; not a synchronisation
sql("ALTER TABLE items_away RENAME TO items")
print(f"items table away for {time.time() - away:.1f} s, from {away - started:.1f} s into the job")
while (j := get(f"/v1/jobs/{job}"))["status"] not in ("completed", "completed_with_errors", "failed", "cancelled", "paused"):
    time.sleep(0.5)
c = json.loads(urllib.request.urlopen(fake + "/_fake/counters").read())
print(f"{j['status']}: {j['counts']['succeeded']} succeeded, {j['counts']['failed']} failed of {j['counts']['total']} "
      f"in {time.time() - started:.1f} s; the fake answered {c['succeeded']} calls well "
      f"({c['succeeded'] - j['counts']['succeeded']} paid twice), {c['received']} received")
PY
  for n in 1 2; do
    echo "worker $n: $(grep -c 'round failed' "$work/worker$n.log" || true) failed rounds logged, $(grep -c 'works again' "$work/worker$n.log" || true) recoveries, exit: $(kill -0 "${pids[$((n + 1))]}" 2>/dev/null && echo still running || echo stopped)"
  done
  ;;
*) echo "usage: $0 healthz|outage" >&2; exit 64 ;;
esac

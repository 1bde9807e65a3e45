#!/usr/bin/env bash
# The plan workloads' benchmarks of BENCHMARKS.md ("Packed mapping, spreadsheets"):
#
#     Benchmarks/packs/bench.sh [packs|faults|xlsx|all]   (default: all)
#
# packs   100,000 rows through `sluice run --preset map-rows` against the zero-latency fake
#         provider (a process, over loopback): 50 rows per call, then one row per call —
#         calls made, tokens, rows per second. The cache is off, so every row is paid for.
# faults  the same 50-row packs against a fake that spoils 20% of packed replies (a row
#         dropped, repeated, swapped, mis-keyed or invalid): the extra calls the repacking costs.
# xlsx    a 100,000-row workbook (written by openpyxl) read into a job and its results written
#         back as a workbook: seconds and the process's peak memory.
# provider  10,000 rows, 50 per call, against the provider as it is: 400 ± 200 ms, 5% 500s,
#         2% hangs of 30 s (Sluice times out at 10 s), 1% malformed bodies, 10% of packed replies
#         spoiled, and a binding limit of 600 RPM and 400,000 TPM, enforced by the fake too:
#         wall time, tokens per minute reached, 429s.
# workers 100,000 rows, 50 per call, 20% of packed replies spoiled, through `sluice serve
#         --no-workers` and two `sluice worker` processes sharing a throwaway PostgreSQL.
set -euo pipefail
cd "$(dirname "$0")/../.."
swift build -c release --product sluice >/dev/null
swift build -c release --product sluice-fake-provider >/dev/null
bin=$(swift build -c release --show-bin-path)
work=$(mktemp -d)
trap 'kill "${fake:-0}" 2>/dev/null || true; rm -rf "$work"' EXIT

python3 - "$work/list.csv" <<'PY'
import csv, random, sys
random.seed(7)
kinds = ["laptop", "headphones", "coffee maker", "running shoes", "desk lamp", "backpack", "yoga mat", "tent", "keyboard"]
words = ["wireless", "ultralight", "steel", "waterproof", "compact", "premium", "budget", "travel", "pro", "mini"]
with open(sys.argv[1], "w", newline="") as handle:
    out = csv.writer(handle)
    out.writerow(["sku", "title", "notes", "price"])
    for i in range(100_000):
        out.writerow([f"SKU-{i}", f"{random.choice(words)} {random.choice(words)} {random.choice(kinds)}",
                      random.choice(["bestseller", "returns are high", "new in stock", "slow seller"]), f"{random.randint(5, 2000)}.99"])
PY

# Starts the fake with the given options; LIMITS (a YAML mapping) are Sluice's limits for it.
start_fake() {
  "$bin/sluice-fake-provider" "$@" > "$work/fake.out" &
  fake=$!
  for _ in $(seq 100); do grep -q '^port ' "$work/fake.out" 2>/dev/null && break; sleep 0.05; done
  port=$(awk '/^port /{print $2}' "$work/fake.out")
  cat > "$work/sluice.yaml" <<YAML
providers:
  fake: {kind: openai, base_url: "http://127.0.0.1:$port/v1", api_key_env: FAKE_KEY, default_model: fake-mapper,
         limits: ${LIMITS:-{\}}, timeout_seconds: 10}
YAML
}
stop_fake() {
  curl -s "http://127.0.0.1:$port/_fake/counters" > "$work/counters.json"
  python3 - "$work/counters.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
print("fake: %d requests, %d rows asked for in packs, pack faults %s, faults %s, 429s %d"
      % (c["received"], c["packed_rows"], c["pack_faults"], c["faults"], c["rate_limited"]))
PY
  kill "$fake"
  wait "$fake" 2>/dev/null || true
}
run_list() {
  rm -f "$work/db.sqlite"*
  FAKE_KEY=k /usr/bin/time -f "peak RSS %M KB, %e s wall" "$bin/sluice" run "$work/list.csv" --preset map-rows --config "$work/sluice.yaml" \
    --no-cache --database "$work/db.sqlite" -o "$work/out.csv" "$@" 2>&1 | grep -E 'completed|calls:|peak RSS|tokens' || true
}

what=${1:-all}
case $what in packs|all)
  echo "== 100,000 rows, 50 per call"
  start_fake
  run_list
  stop_fake
  echo "== 100,000 rows, one per call"
  start_fake
  run_list --items-per-request 1
  stop_fake ;;
esac
case $what in faults|all)
  echo "== 100,000 rows, 50 per call, 20% of packed replies spoiled"
  start_fake --pack-drop 0.04 --pack-duplicate 0.04 --pack-swap 0.04 --pack-wrong-key 0.04 --pack-invalid 0.04
  run_list
  stop_fake ;;
esac
case $what in provider|all)
  echo "== 10,000 rows, 50 per call, the provider as it is (600 RPM, 400,000 TPM)"
  head -10001 "$work/list.csv" > "$work/list-10k.csv"
  LIMITS="{rpm: 600, tpm: 400000}" start_fake --latency-ms 400 --latency-spread-ms 200 --fault-500 0.05 --fault-hang 0.02 \
    --hang-seconds 30 --fault-malformed 0.01 --pack-drop 0.02 --pack-duplicate 0.02 --pack-swap 0.02 --pack-wrong-key 0.02 \
    --pack-invalid 0.02 --rpm 600 --tpm 400000
  rm -f "$work/db.sqlite"*
  FAKE_KEY=k /usr/bin/time -f "peak RSS %M KB, %e s wall" "$bin/sluice" run "$work/list-10k.csv" --preset map-rows \
    --config "$work/sluice.yaml" --no-cache --database "$work/db.sqlite" -o "$work/out.csv" 2>&1 \
    | grep -E 'completed|calls:|peak RSS|tokens|paused' || true
  stop_fake ;;
esac
case $what in workers|all)
  echo "== 100,000 rows, 50 per call, 20% of packed replies spoiled, API + 2 workers on PostgreSQL"
  eval "$(scripts/postgres.sh start)"
  start_fake --pack-drop 0.04 --pack-duplicate 0.04 --pack-swap 0.04 --pack-wrong-key 0.04 --pack-invalid 0.04
  FAKE_KEY=k "$bin/sluice" serve --port 0 --no-workers --database "$SLUICE_TEST_POSTGRES" --config "$work/sluice.yaml" \
    --uploads "$work/uploads" --rate-limit 0 --log-level error > "$work/serve.out" 2>&1 &
  api=$!
  for _ in $(seq 200); do grep -qoE 'http://127.0.0.1:[0-9]+' "$work/serve.out" && break; sleep 0.05; done
  url=$(grep -oE 'http://127.0.0.1:[0-9]+' "$work/serve.out" | head -1)
  for n in 1 2; do
    FAKE_KEY=k "$bin/sluice" worker --database "$SLUICE_TEST_POSTGRES" --config "$work/sluice.yaml" --log-level error &
    workers+=($!)
  done
  started=$(date +%s.%N)
  id=$(curl -s -X POST -H 'Content-Type: text/csv' --data-binary @"$work/list.csv" \
    "$url/v1/jobs?preset=map-rows&cache=false&provider=fake" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
  while true; do
    curl -s "$url/v1/jobs/$id" > "$work/job.json"
    python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); sys.exit(0 if j["status"] in ("completed","completed_with_errors","failed","cancelled","paused") else 1)' \
      "$work/job.json" && break
    sleep 0.5
  done
  python3 - "$work/job.json" "$started" <<'PY'
import json, sys, time
j = json.load(open(sys.argv[1]))
wall = time.time() - float(sys.argv[2])
print("%s: %d succeeded, %d failed of %d; %d calls (%.1f rows per call); %d tokens; %.1f s (%.0f rows/s, including upload)"
      % (j["status"], j["counts"]["succeeded"], j["counts"]["failed"], j["counts"]["total"], j["usage"]["calls"],
         j["usage"]["rows_per_call"] or 0, j["usage"]["total_tokens"], wall, j["counts"]["total"] / wall))
PY
  stop_fake
  kill "$api" "${workers[@]}" 2>/dev/null || true
  wait 2>/dev/null || true
  scripts/postgres.sh stop "$SLUICE_TEST_POSTGRES_DIR" ;;
esac
case $what in xlsx|all)
  python3 -c "import openpyxl" 2>/dev/null || python3 -m pip install --quiet openpyxl
  python3 - "$work/list.csv" "$work/list.xlsx" <<'PY'
import csv, sys, openpyxl
book = openpyxl.Workbook(write_only=True)
sheet = book.create_sheet("List")
with open(sys.argv[1]) as handle:
    for row in csv.reader(handle):
        sheet.append(row)
book.save(sys.argv[2])
PY
  echo "== 100,000-row workbook in, workbook out (built-in provider)"
  rm -f "$work/db.sqlite"*
  /usr/bin/time -f "peak RSS %M KB, %e s wall" "$bin/sluice" run "$work/list.xlsx" --preset map-rows --database "$work/db.sqlite" \
    -o "$work/out.xlsx" 2>&1 | grep -E 'read|completed|peak RSS' || true
  ls -la "$work/list.xlsx" "$work/out.xlsx" | awk '{print $5, $9}' ;;
esac

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

start_fake() {
  "$bin/sluice-fake-provider" "$@" > "$work/fake.out" &
  fake=$!
  for _ in $(seq 100); do grep -q '^port ' "$work/fake.out" 2>/dev/null && break; sleep 0.05; done
  port=$(awk '/^port /{print $2}' "$work/fake.out")
  cat > "$work/sluice.yaml" <<YAML
providers:
  fake: {kind: openai, base_url: "http://127.0.0.1:$port/v1", api_key_env: FAKE_KEY, default_model: fake-mapper}
YAML
}
stop_fake() {
  curl -s "http://127.0.0.1:$port/_fake/counters" > "$work/counters.json"
  python3 - "$work/counters.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
print("fake: %d requests, %d rows asked for in packs, pack faults %s" % (c["received"], c["packed_rows"], c["pack_faults"]))
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

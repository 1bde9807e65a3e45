#!/usr/bin/env bash
# Hardening benchmarks (BENCHMARKS.md, "Hardening"), against a release `sluice serve`:
#
#     Benchmarks/hardening/bench.sh healthz
#
# healthz  GET /healthz every 10 ms, idle for 5 s and then while four 200 MB CSV uploads stream
#          into POST /v1/jobs at once (SQLite, --no-workers, so the uploads and their ingest
#          are all the server does): median, p99 and max latency. What it shows is whether file
#          writes, syncs and parsing keep off the cooperative pool.
set -euo pipefail
cd "$(dirname "$0")/../.."
what=${1:-healthz}
swift build -c release --product sluice >/dev/null
bin=$(swift build -c release --show-bin-path)
work=$(mktemp -d)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT

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
  for _ in $(seq 200); do grep -qoE 'http://127.0.0.1:[0-9]+' "$work/serve.out" && break; sleep 0.05; done
  url=$(grep -oE 'http://127.0.0.1:[0-9]+' "$work/serve.out" | head -1)
  python3 Benchmarks/hardening/healthz.py "$url" "$work/big.csv"
  ;;
*) echo "usage: $0 healthz" >&2; exit 64 ;;
esac

#!/usr/bin/env bash
# The HTTP API benchmarks (BENCHMARKS.md): time from last uploaded byte to 202 for a
# 100k-row CSV; GET /v1/jobs/{id} latency under 500 concurrent pollers (wrk) while a job
# runs; peak server RSS during a 1 GB upload. Builds and runs release binaries.
#
#     Benchmarks/api/bench.sh            (needs wrk and curl: apt-get install wrk curl)
set -euo pipefail
cd "$(dirname "$0")/../.."
swift build -c release --product sluice >/dev/null
bin=$(swift build -c release --show-bin-path)
work=$(mktemp -d)
server=""
cleanup() { [ -n "$server" ] && kill "$server" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

# A fresh server (so its peak RSS belongs to one phase) on a fresh database.
start_server() {
    [ -n "$server" ] && kill "$server" && wait "$server" 2>/dev/null || true
    rm -rf "$work"/bench.sqlite* "$work/serve.out"
    "$bin/sluice" serve --port 0 --database "$work/bench.sqlite" --rate-limit 0 --log-level error --max-upload-mb 4096 \
        > "$work/serve.out" 2>"$work/serve.log" &
    server=$!
    for _ in $(seq 200); do grep -q serving "$work/serve.out" 2>/dev/null && break; sleep 0.05; done
    url=$(grep -oE 'http://127.0.0.1:[0-9]+' "$work/serve.out")
}
peak() { grep VmHWM "/proc/$server/status" | awk '{print int($2 / 1024) " MB"}'; }
start_server

python3 - "$work/rows100k.csv" <<'PY'
import sys
with open(sys.argv[1], "w") as f:
    f.write("id,text\n")
    for i in range(100_000):
        f.write(f"{i},order {i} arrived late but the support team was great and fixed it quickly\n")
PY
echo "== accept latency (100k rows, $(du -h "$work/rows100k.csv" | cut -f1))"
python3 Benchmarks/api/accept_latency.py "$url/v1/jobs?preset=text-classify" "$work/rows100k.csv" 20

echo "== GET /v1/jobs/{id}: 500 pollers while a job runs"
python3 - "$work/rows1m.csv" <<'PY'
import sys
with open(sys.argv[1], "w") as f:
    f.write("id,text\n")
    for i in range(1_000_000):
        f.write(f"{i},review {i}: the product was fine but delivery was slow\n")
PY
job=$(curl -sS -H 'Content-Type: text/csv' --data-binary @"$work/rows1m.csv" "$url/v1/jobs?preset=text-classify" \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
until curl -sS "$url/v1/jobs/$job" | grep -q '"status":"running"'; do sleep 0.2; done
echo "-- back to back (closed loop: each poller sends again as soon as it has its answer)"
wrk -t2 -c500 -d15s --latency "$url/v1/jobs/$job" | grep -E 'Latency|50%|90%|99%|Requests/sec'
echo "-- each poller every 500 ms (1,000 requests a second in all)"
POLL_MS=500 wrk -t2 -c500 -d15s --latency -s Benchmarks/api/poll.lua "$url/v1/jobs/$job" | grep -E 'Latency|50%|90%|99%|Requests/sec'
curl -sS "$url/v1/jobs/$job" | python3 -c 'import json,sys; j=json.load(sys.stdin); print("job after the run:", j["status"], j["counts"])'
curl -sS -X POST "$url/v1/jobs/$job/cancel" >/dev/null

echo "== 1 GB upload"
python3 - "$work/1g.csv" <<'PY'
import sys
line = b"123456,a line of review text that goes on for a while to make the file big enough\n"
block = line * (1 << 20 // len(line) + 1)
with open(sys.argv[1], "wb") as f:
    f.write(b"id,text\n")
    written = 0
    while written < 1 << 30:
        f.write(block)
        written += len(block)
PY
start_server
before=$(peak)
curl -sS -o /dev/null -w "1 GB upload: HTTP %{http_code} in %{time_total}s\n" -X POST -H 'Content-Type: text/csv' \
    -T "$work/1g.csv" "$url/v1/jobs?preset=text-classify"
echo "server peak RSS before the upload: $before, after the 202: $(peak)"

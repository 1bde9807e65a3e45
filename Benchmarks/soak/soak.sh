#!/usr/bin/env bash
# The soak test (BENCHMARKS.md, "Soak"): a release `sluice serve --auth required` on SQLite, the
# fake provider as a process with faults (50 ± 40 ms, 3% 500s, 0.5% hangs of 20 s with Sluice
# giving up at 5 s, 1% malformed bodies), two 100,000-row jobs, and 20 clients on 5 keys doing at
# random for MINUTES (default 10): upload small jobs, poll, follow event streams, download
# partial results, list, cancel. Then every job must end with counts that add up and exactly
# one result per item, no API answer may be a 5xx, memory must be flat after warm-up and no
# file descriptor may be left open.
#
#     Benchmarks/soak/soak.sh [MINUTES]
set -euo pipefail
cd "$(dirname "$0")/../.."
minutes=${1:-10}
. Benchmarks/common.sh
release_setup sluice sluice-fake-provider

start_fake --latency-ms 50 --latency-spread-ms 40 --fault-500 0.03 --fault-hang 0.005 --hang-seconds 20 \
  --fault-malformed 0.01 --seed 7
cat > "$work/sluice.yaml" <<YAML
providers:
  fake: {kind: openai, base_url: "http://127.0.0.1:$port/v1", api_key_env: FAKE_KEY, default_model: fake-model,
         limits: {rpm: 60000, concurrency: 64}, timeout_seconds: 5}
YAML
keys=()
for n in 1 2 3 4 5; do keys+=("$("$bin/sluice" keys create --user "user$n" --database "$work/db.sqlite" 2>/dev/null)"); done
FAKE_KEY=k "$bin/sluice" serve --port 0 --auth required --database "$work/db.sqlite" --config "$work/sluice.yaml" \
  --rate-limit 0 --log-level warning > "$work/serve.out" 2> "$work/serve.log" &
server=$!
pids+=($server)
url=$(await_url "$work/serve.out")
python3 Benchmarks/soak/soak.py "$url" "$server" "$minutes" "${keys[@]}"
echo "the fake provider saw: $(curl -s "http://127.0.0.1:$port/_fake/counters")"

#!/usr/bin/env bash
# What a 10,000-row job costs at each tier, at published prices (BENCHMARKS.md, "Paying less"):
#
#     Benchmarks/tiers/bench.sh [ROWS]
#
# The same job (a 1,200-token shared system prompt, a short answer per row) run with
# `sluice run` three times, priced as gpt-4o-mini is published ($0.15 / $0.60 per million
# input / output tokens, cached input $0.075, flex and batch half price):
#   standard  live calls to the fake provider (50 ± 25 ms);
#   flex      the same calls marked service_tier: flex (the fake serves them as flex);
#   batch     through the OpenAI batch API of a second Sluice (`sluice serve`), polled every
#             30 s. Its built-in model reports no tokens, so this run's cost says nothing: the
#             batch price is shown as the standard run's tokens at the batch rate.
# Reports each run's summary (calls per tier, tokens, cost, list cost, saved) and its time.
set -euo pipefail
cd "$(dirname "$0")/../.."
rows=${1:-10000}
. Benchmarks/common.sh
release_setup sluice sluice-fake-provider

start_fake --latency-ms 50 --latency-spread-ms 25
"$bin/sluice" serve --port 0 --database "$work/upstream.sqlite" --uploads "$work/upstream-uploads" --rate-limit 0 \
  --log-level error > "$work/serve.out" 2> "$work/serve.log" &
pids+=($!)
upstream=$(await_url "$work/serve.out")

cat > "$work/config.yaml" <<YAML
providers:
  live: {kind: openai, base_url: "http://127.0.0.1:$port/v1", api_key_env: BENCH_KEY}
  upstream: {kind: openai, base_url: "$upstream/v1", api_key_env: BENCH_KEY}
prices:
  gpt-4o-mini: {input_per_million: 0.15, output_per_million: 0.60, cached_input_per_million: 0.075}
YAML
python3 - "$work/input.csv" "$rows" <<'PY'
import sys
with open(sys.argv[1], "w") as f:
    f.write("id,text\n")
    for i in range(int(sys.argv[2])):
        f.write(f"{i},customer review number {i}: the delivery was late but the product works well\n")
PY
rule="Weigh the customer's words for tone, intent and detail before scoring. "
system=$(python3 -c "import sys; print(sys.argv[1] * (1200 * 4 // len(sys.argv[1]) + 1))" "$rule")

for tier in standard flex batch; do
  provider=live
  [ "$tier" = batch ] && provider=upstream
  python3 - "$work/spec-$tier.json" "$tier" "$provider" "$system" <<'PY'
import json, sys
path, tier, provider, system = sys.argv[1:]
json.dump({"template": "Classify: {{text}}", "system": system, "provider": provider, "model": "gpt-4o-mini",
           "tier": tier}, open(path, "w"))
PY
  start=$(date +%s.%N)
  BENCH_KEY=sk-bench "$bin/sluice" run "$work/input.csv" --spec "$work/spec-$tier.json" --config "$work/config.yaml" \
    --database "$work/$tier.sqlite" --output "$work/$tier.jsonl" 2> "$work/$tier.log" || true
  end=$(date +%s.%N)
  echo "== $tier ($(python3 -c "print(f'{$end - $start:.1f}')") s)"
  grep -E "^(completed|failed|calls:)" "$work/$tier.log" || tail -5 "$work/$tier.log"
done

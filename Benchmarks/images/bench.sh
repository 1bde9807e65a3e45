#!/usr/bin/env bash
# Image rows (BENCHMARKS.md, "Rows beyond text"):
#
#     Benchmarks/images/bench.sh zip [ROWS]    # default 10,000
#     Benchmarks/images/bench.sh tpm [ROWS]    # default 1,200
#
# zip: a zip of a table and ROWS photos of ~50 KB each (random pixels: incompressible), run with
#      `sluice run` on the built-in offline provider (which reads each PNG's colours): rows a
#      second over the whole job (ingest included) and the process's peak memory.
# tpm: ROWS rows each with a 1024 × 1024 photo (765 tokens at OpenAI's tile rule) through the
#      fake provider enforcing 360,000 tokens a minute (billing images by that rule, never by
#      their base64), with 200 ± 100 ms latency; Sluice is told the same limit. Reports the
#      tokens accepted a minute against the limit, and the 429s. FAKE_OPTIONS adds the fake's
#      own (such as "--fault-503 0.05 --fault-hang 0.01": the provider you will really meet).
set -euo pipefail
cd "$(dirname "$0")/../.."
mode=${1:-zip}
. Benchmarks/common.sh
release_setup sluice sluice-fake-provider

if [ "$mode" = zip ]; then
  rows=${2:-10000}
  python3 Benchmarks/images/make_upload.py "$work/catalogue.zip" "$rows" noise
  echo '{"template": "Caption product {{name}}."}' > "$work/spec.json"
  /usr/bin/time -f "%e %M" -o "$work/time" "$bin/sluice" run "$work/catalogue.zip" --spec "$work/spec.json" \
    --image-column photo --database "$work/run.sqlite" -o "$work/out.jsonl" 2> "$work/run.err" || true
  read -r wall rss < "$work/time"
  python3 - "$work/out.jsonl" "$rows" "$wall" "$rss" <<'PY'
import json, sys
path, rows, wall, rss = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
lines = [json.loads(line) for line in open(path)]
succeeded = sum(line["status"] == "succeeded" for line in lines)
coloured = sum("mostly #" in (line.get("output") or "") for line in lines)
print(f"{rows} rows: {succeeded} succeeded ({coloured} with colours read), {wall:.1f} s, {rows / wall:.0f} rows/s, peak RSS {rss / 1024:.0f} MB")
PY
  exit 0
fi

rows=${2:-1200}
tpm=360000
# shellcheck disable=SC2086 # FAKE_OPTIONS is a list of options
start_fake --latency-ms 200 --latency-spread-ms 100 --tpm "$tpm" ${FAKE_OPTIONS:-}
python3 Benchmarks/images/make_upload.py "$work/catalogue.zip" "$rows" flat
cat > "$work/providers.yaml" <<YAML
providers:
  fake: {kind: openai, base_url: "http://127.0.0.1:$port/v1", api_key_env: FAKE_KEY, limits: {tpm: $tpm}}
YAML
echo '{"template": "Caption product {{name}}.", "provider": "fake", "model": "fake-vision"}' > "$work/spec.json"
start=$(date +%s.%N)
FAKE_KEY=k "$bin/sluice" run "$work/catalogue.zip" --spec "$work/spec.json" --config "$work/providers.yaml" \
  --image-column photo --database "$work/run.sqlite" -o "$work/out.jsonl" 2> "$work/run.err" || true
end=$(date +%s.%N)
curl -s "http://127.0.0.1:$port/_fake/counters" > "$work/counters.json"
python3 - "$work/counters.json" "$work/out.jsonl" "$start" "$end" "$tpm" <<'PY'
import json, sys
counters, out = json.load(open(sys.argv[1])), [json.loads(line) for line in open(sys.argv[2])]
start, end, tpm = float(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5])
minutes = (end - start) / 60
succeeded = sum(line["status"] == "succeeded" for line in out)
tokens = counters["accepted_tokens"]
print(f"{len(out)} rows, {succeeded} succeeded in {end - start:.1f} s; {tokens:.0f} tokens accepted "
      f"({tokens / max(counters['accepted'], 1):.0f} a call): {tokens / minutes:.0f} a minute, "
      f"{100 * tokens / minutes / tpm:.1f}% of {tpm}; 429s: {counters['rate_limited']}")
PY

#!/usr/bin/env bash
# The wider batch APIs (BENCHMARKS.md, "Batch APIs"), against a release `sluice serve`:
#
#     Benchmarks/batchapis/bench.sh uploads|embeddings|webhooks|webhooks-pg|messages
#
# uploads     a 1 GiB JSONL file through the official SDK: `files.create` in one request, then
#             `uploads.upload_file_chunked` in 64 MiB parts (parts, then the join); the whole
#             download, and a download broken at half resumed with Range. Reports MB/s and the
#             server's peak RSS.
# embeddings  20,000 embeddings lines (two texts each) as one OpenAI batch, against the
#             provider as it is: the fake answers in 300 ± 250 ms, with 2% 500s, 1% hangs of
#             10 s (Sluice gives up at 3 s) and 1% malformed bodies, and enforces 100,000 TPM (the 300,000 tokens need two minutes at least),
#             the limit Sluice is configured with. Reports the time, the tokens a minute the fake
#             accepted against its limit, its 429s, and the calls answered well against the
#             items that succeeded (the difference: results paid twice).
# webhooks    200 one-row jobs ending while a receiver refuses 30% of deliveries (503) at
#             random; retries after 1, 2, 4 … 32 s, then every minute (11 tries). Reports how
#             long after each job's end its event was received (p50, p95, max), the tries, and
#             events not received or received twice.
# webhooks-pg the same through two `sluice serve` processes sharing a throwaway PostgreSQL.
# messages    an Anthropic Message Batch of 100,000 requests (Anthropic's maximum): how long
#             the create takes (every request is checked before the answer), the server's peak
#             RSS, and the time until the batch has ended on the built-in provider.
set -euo pipefail
cd "$(dirname "$0")/../.."
what=${1:-uploads}
. Benchmarks/common.sh
release_setup sluice sluice-fake-provider
python3 -c "import openai, anthropic" 2>/dev/null || python3 -m pip install --quiet --disable-pip-version-check openai anthropic

# Starts `sluice serve` with the arguments given; sets $url and $server.
serve() {
  "$bin/sluice" serve --port 0 --database "$work/db.sqlite" --uploads "$work/uploads" --rate-limit 0 --log-level "${LOG_LEVEL:-error}" "$@" \
    > "$work/serve.out" 2> "$work/serve.log" &
  server=$!
  pids+=($server)
  url=$(await_url "$work/serve.out")
}

case "$what" in
uploads)
  serve --max-upload-mb 2048 --auth off
  python3 Benchmarks/batchapis/uploads.py "$url" "$work" "$server"
  ;;
embeddings)
  start_fake --latency-ms 300 --latency-spread-ms 250 --fault-500 0.02 --fault-hang 0.01 --hang-seconds 10 \
    --fault-malformed 0.01 --tpm 100000 --seed 5
  cat > "$work/sluice.yaml" <<YAML
providers:
  fake: {kind: openai, base_url: "http://127.0.0.1:$port/v1", api_key_env: FAKE_KEY, limits: {tpm: 100000, concurrency: 256},
         timeout_seconds: 3}
routes:
  - {model: "*", provider: fake}
YAML
  FAKE_KEY=k serve --config "$work/sluice.yaml" --auth off
  python3 Benchmarks/batchapis/embeddings.py "$url" "http://127.0.0.1:$port"
  ;;
webhooks)
  cat > "$work/sluice.yaml" <<YAML
webhooks: {allow_private_targets: true, retry_seconds: [1, 2, 4, 8, 16, 32, 60, 60, 60, 60]}
YAML
  serve --config "$work/sluice.yaml" --auth off
  python3 Benchmarks/batchapis/webhooks.py "$url"
  ;;
webhooks-pg)
  # The same through two `sluice serve` processes on one PostgreSQL: both announce and deliver.
  eval "$(scripts/postgres.sh start)"
  trap 'kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; scripts/postgres.sh stop "$SLUICE_TEST_POSTGRES_DIR"; rm -rf "$work"' EXIT
  cat > "$work/sluice.yaml" <<YAML
webhooks: {allow_private_targets: true, retry_seconds: [1, 2, 4, 8, 16, 32, 60, 60, 60, 60]}
YAML
  "$bin/sluice" migrate --database "$SLUICE_TEST_POSTGRES" > /dev/null
  for n in 1 2; do
    "$bin/sluice" serve --port 0 --database "$SLUICE_TEST_POSTGRES" --uploads "$work/uploads" --config "$work/sluice.yaml" \
      --auth off --rate-limit 0 --log-level error > "$work/api$n.out" 2> "$work/api$n.log" &
    pids+=($!)
  done
  url=$(await_url "$work/api1.out")
  await_url "$work/api2.out" > /dev/null
  python3 Benchmarks/batchapis/webhooks.py "$url"
  ;;
messages)
  serve --max-upload-mb 512 --auth off
  python3 Benchmarks/batchapis/messages.py "$url" "$server"
  ;;
*) echo "usage: $0 uploads|embeddings|webhooks|webhooks-pg|messages" >&2; exit 2 ;;
esac

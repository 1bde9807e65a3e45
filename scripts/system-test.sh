#!/usr/bin/env bash
# System tests of the built server over real loopback HTTP: the official OpenAI Python SDK
# drives a whole batch, an OTLP receiver collects the traces of an API process and a worker,
# openpyxl opens the workbook the server writes, headless chromium uses the web page
# (Selenium), and schemathesis checks the running server against /openapi.yaml.
# Starts its own fake model provider and `sluice serve` on free ports, and stops them.
set -euo pipefail
cd "$(dirname "$0")/.."

python3 -c "import openai, anthropic, schemathesis, openpyxl, selenium, opentelemetry.proto" 2>/dev/null \
    || python3 -m pip install --quiet --disable-pip-version-check openai anthropic schemathesis openpyxl selenium opentelemetry-proto
# The web page's tests drive Debian's chromium through its chromedriver.
if ! command -v chromedriver >/dev/null || ! command -v chromium >/dev/null; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver
fi

bin=$(swift build --show-bin-path)
work=$(mktemp -d)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

# Waits for a process to print its port line; fails with its output if it never does.
await_port() {
    local file=$1 pattern=$2
    for _ in $(seq 200); do
        if port=$(grep -oE "$pattern" "$file" | grep -oE '[0-9]+$'); then echo "$port"; return 0; fi
        sleep 0.05
    done
    echo "no port in $file:" >&2; cat "$file" >&2; return 1
}

"$bin/sluice-fake-provider" --latency-ms 2000 > "$work/fake.out" &
pids+=($!)
fake_port=$(await_port "$work/fake.out" 'port [0-9]+')

cat > "$work/providers.yaml" <<YAML
providers:
  fake:
    kind: openai
    base_url: http://127.0.0.1:$fake_port/v1
    api_key_env: FAKE_PROVIDER_KEY
    limits: {rpm: 100000, concurrency: 64}
    timeout_seconds: 30
routes:
  - {model: "slow-*", provider: fake}
  - {model: "*", provider: builtin}
webhooks:
  allow_private_targets: true
YAML

key=$("$bin/sluice" keys create --user sdk-tester --database "$work/sluice.sqlite" 2>/dev/null)
alice=$("$bin/sluice" keys create --user alice --database "$work/sluice.sqlite" 2>/dev/null)
bob=$("$bin/sluice" keys create --user bob --database "$work/sluice.sqlite" 2>/dev/null)
FAKE_PROVIDER_KEY=test-key "$bin/sluice" serve --port 0 --database "$work/sluice.sqlite" --config "$work/providers.yaml" \
    --auth required --rate-limit 0 --log-level warning > "$work/serve.out" 2> "$work/serve.log" &
pids+=($!)
port=$(await_port "$work/serve.out" 'http://127.0.0.1:[0-9]+')
url="http://127.0.0.1:$port"

echo "== OpenAI SDK batch flow against $url"
SLUICE_URL=$url SLUICE_KEY=$key python3 Tests/sdk/test_openai_batch.py

echo "== OpenAI SDK: chunked upload, embeddings and responses batches, ranged download, webhooks"
SLUICE_URL=$url SLUICE_KEY=$key python3 Tests/sdk/test_openai_wider.py

echo "== Anthropic SDK: message batches"
SLUICE_URL=$url SLUICE_KEY=$key python3 Tests/sdk/test_anthropic_batches.py

echo "== webhook delivery through a receiver outage and a killed server"
SLUICE_BIN=$bin python3 Tests/sdk/test_webhook_delivery.py

# positive_data_acceptance is off: whether a spec is complete (a template, or a preset that has
# one; a preset that exists) is beyond what the schema can say, so schema-valid uploads may be 400.
echo "== traces over OTLP/HTTP: one trace from the request through an API process and a worker, and of a run"
SLUICE_BIN=$bin python3 Tests/otel/test_traces.py

echo "== a workbook up and down, read by openpyxl"
SLUICE_URL=$url SLUICE_KEY=$key python3 Tests/sdk/test_spreadsheet.py

echo "== the web page in headless chromium (screenshots in out/screenshots)"
SE_AVOID_STATS=true SLUICE_URL=$url ALICE_KEY=$alice BOB_KEY=$bob SCREENSHOTS=out/screenshots python3 Tests/browser/test_web.py

echo "== schemathesis: $url/openapi.yaml"
(cd "$work" && schemathesis run "$url/openapi.yaml" --url "$url" -H "Authorization: Bearer $key" --checks all --exclude-checks positive_data_acceptance \
    --max-examples 25 --seed 1 --generation-deterministic --exclude-path-regex "/events$" --request-timeout 30)

if grep -q '"level":"error"' "$work/serve.log"; then
    echo "the server logged errors:" >&2
    grep '"level":"error"' "$work/serve.log" >&2
    exit 1
fi
echo "system tests passed"

#!/usr/bin/env bash
# The web page's and the client commands' benchmarks (BENCHMARKS.md, "Web page and CLI"),
# against a release `sluice serve --auth required` and the fake provider as a process:
#
#     Benchmarks/web/bench.sh
#
# submit   100,000 rows through `sluice submit --wait` (upload, then the events stream to the
#          end); the fake answers at once but fails 10% of calls with a 500, and the spec allows
#          one attempt, so ~10,000 items fail: the job page has a long failure table to show.
# results  `sluice results -o out.csv` for those 100,000 rows: seconds and rows a second.
# pages    50 requests each, signed in with a session: the jobs list (21 jobs), the 100,000-row
#          job's page (progress, failures, chart), its chart alone, and GET /v1/jobs/{id} with
#          the session cookie and with the key: median and 95th percentile, ms.
# preview  the new-job preview of the whole 100,000-row file, and of its first 256 KB (what the
#          page's script sends): median of 10, ms.
set -euo pipefail
cd "$(dirname "$0")/../.."
swift build -c release --product sluice >/dev/null
swift build -c release --product sluice-fake-provider >/dev/null
bin=$(swift build -c release --show-bin-path)
work=$(mktemp -d)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT

python3 - "$work/rows.csv" <<'PY'
import sys
with open(sys.argv[1], "w") as f:
    f.write("id,text\n")
    for i in range(100_000):
        f.write(f"{i},order {i} arrived late but the support team was great and fixed it quickly\n")
PY
head -c 262144 "$work/rows.csv" > "$work/head.csv"
head -11 "$work/rows.csv" > "$work/small.csv"

"$bin/sluice-fake-provider" --fault-500 0.1 --seed 11 > "$work/fake.out" &
pids+=($!)
for _ in $(seq 100); do grep -q '^port ' "$work/fake.out" 2>/dev/null && break; sleep 0.05; done
port=$(awk '/^port /{print $2}' "$work/fake.out")
cat > "$work/sluice.yaml" <<YAML
providers:
  fake: {kind: openai, base_url: "http://127.0.0.1:$port/v1", api_key_env: FAKE_KEY, default_model: fake-model,
         limits: {rpm: 1000000, concurrency: 64}, timeout_seconds: 10}
YAML
key=$("$bin/sluice" keys create --user analyst --database "$work/db.sqlite" 2>/dev/null)
FAKE_KEY=k "$bin/sluice" serve --port 0 --auth required --database "$work/db.sqlite" --config "$work/sluice.yaml" \
    --rate-limit 0 --log-level error > "$work/serve.out" 2>&1 &
pids+=($!)
for _ in $(seq 200); do grep -qoE 'http://127.0.0.1:[0-9]+' "$work/serve.out" && break; sleep 0.05; done
url=$(grep -oE 'http://127.0.0.1:[0-9]+' "$work/serve.out" | head -1)
echo '{"preset": "text-classify", "max_attempts": 1, "cache": false}' > "$work/spec.json"

echo "== sluice submit --wait: 100,000 rows, 10% of calls fail"
# Twenty small jobs first, for the jobs list to show; they are done before the timing starts.
for n in $(seq 20); do
    SLUICE_API_KEY=$key "$bin/sluice" submit "$work/small.csv" --spec "$work/spec.json" --server "$url" --wait > /dev/null 2>&1 || true
done
started=$(date +%s.%N)
SLUICE_API_KEY=$key "$bin/sluice" submit "$work/rows.csv" --spec "$work/spec.json" --server "$url" --wait --json \
    > "$work/job.json" 2> "$work/submit.err" || true
python3 - "$work/job.json" "$started" <<'PY'
import json, sys, time
j = json.loads(open(sys.argv[1]).read().splitlines()[-1])
wall = time.time() - float(sys.argv[2])
print("%s: %d succeeded, %d failed of %d in %.1f s (%.0f rows/s, upload and watch included)"
      % (j["status"], j["counts"]["succeeded"], j["counts"]["failed"], j["counts"]["total"], wall, j["counts"]["total"] / wall))
PY
id=$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).read().splitlines()[-1])["id"])' "$work/job.json")

echo "== sluice results -o out.csv"
started=$(date +%s.%N)
SLUICE_API_KEY=$key "$bin/sluice" results "$id" -o "$work/out.csv" --server "$url" 2>/dev/null
python3 - "$work/out.csv" "$started" <<'PY'
import sys, time
wall = time.time() - float(sys.argv[2])
rows = sum(1 for _ in open(sys.argv[1], newline="")) - 1
print("%d rows in %.2f s (%.0f rows/s)" % (rows, wall, rows / wall))
PY

echo "== pages (signed in), 50 requests each"
python3 - "$url" "$key" "$id" "$work/rows.csv" "$work/head.csv" <<'PY'
import http.cookiejar, statistics, sys, time, urllib.parse, urllib.request, uuid
url, key, job, whole, head = sys.argv[1:]
jar = http.cookiejar.CookieJar()
opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
opener.open(url + "/sign-in").read()
token = next(c.value for c in jar if c.name == "sluice_csrf")
opener.open(url + "/sign-in", urllib.parse.urlencode({"key": key, "csrf": token, "next": "/"}).encode()).read()
token = next(c.value for c in jar if c.name == "sluice_csrf")

def timed(call, n):
    times = []
    for _ in range(n):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.95) - 1]

def page(path):
    return lambda: opener.open(url + path).read()

def bearer(path):
    request = urllib.request.Request(url + path, headers={"Authorization": "Bearer " + key})
    return lambda: urllib.request.urlopen(request).read()

for label, call in [("jobs list (21 jobs)", page("/")), ("job page (100k rows, failures, chart)", page("/jobs/" + job)),
                    ("chart alone", page("/jobs/%s/chart" % job)), ("GET /v1/jobs/{id}, session cookie", page("/v1/jobs/" + job)),
                    ("GET /v1/jobs/{id}, API key", bearer("/v1/jobs/" + job))]:
    p50, p95 = timed(call, 50)
    print("%-40s median %6.1f ms, p95 %6.1f ms" % (label, p50, p95))

def preview(path):
    data = open(path, "rb").read()
    boundary = uuid.uuid4().hex
    body = b"".join([
        b"--%s\r\nContent-Disposition: form-data; name=\"%s\"\r\n\r\n%s\r\n" % (boundary.encode(), k.encode(), v.encode())
        for k, v in [("csrf", token), ("mode", "preset"), ("preset", "text-classify")]
    ]) + b"--%s\r\nContent-Disposition: form-data; name=\"file\"; filename=\"rows.csv\"\r\n\r\n" % boundary.encode() + data \
        + b"\r\n--%s--\r\n" % boundary.encode()
    request = urllib.request.Request(url + "/jobs/preview?fragment=1", data=body,
                                     headers={"Content-Type": "multipart/form-data; boundary=" + boundary})
    return lambda: opener.open(request).read()

print("== preview, median of 10")
for label, path in [("whole file (%.1f MB)" % (len(open(whole, "rb").read()) / 1e6), whole), ("first 256 KB", head)]:
    p50, _ = timed(preview(path), 10)
    print("%-40s median %6.1f ms" % (label, p50))
PY
